import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Ajv2020, ErrorObject, Options } from 'ajv/dist/2020.js';
import { describeError, LoadlightError, type LoadlightErrorCode } from './errors.js';
import { PRECOMPILED } from './generated/validators.js';

export type JsonSchema = Record<string, unknown>;

/** A validation function: precompiled at build time (ajv standalone code) or compiled by ajv. */
export type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** The options of every loadlight ajv, at run time and in the build's precompilation alike. */
export const AJV_OPTIONS: Readonly<Options> = Object.freeze({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });

// ajv (and ajv-formats) load only when a schema has no precompiled validator: a third party's
// plugin options, or a schema changed since the build. Sync require: compileSchema is sync.
const requireHere = createRequire(import.meta.url);

/**
 * A new ajv with loadlight's options, formats and `isFunction` keyword. `extra` adds options
 * (the build passes `code: { source: true, ... }` to generate standalone validators).
 */
export function createAjv(extra: Options = {}): Ajv2020 {
  const { Ajv2020: Ajv, _ } = requireHere('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  const formats = requireHere('ajv-formats') as { default?: (ajv: Ajv2020) => Ajv2020 } & ((ajv: Ajv2020) => Ajv2020);
  const ajv = new Ajv({ ...AJV_OPTIONS, ...extra });
  (formats.default ?? formats)(ajv);
  // A code keyword (not a validate function), so that standalone code can hold it.
  ajv.addKeyword({
    keyword: 'isFunction',
    schemaType: 'boolean',
    error: { message: 'must be a function' },
    code(cxt) {
      if (cxt.schema) cxt.fail(_`typeof ${cxt.data} != "function"`);
    },
  });
  return ajv;
}

let shared: Ajv2020 | undefined;

/** One ajv for the schemas compiled at run time; created on first use. */
export function getAjv(): Ajv2020 {
  shared ??= createAjv();
  return shared;
}

/** The key of a schema in the precompiled table: sha256 of its JSON. */
export function schemaKey(schema: JsonSchema): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

function precompiled(schema: JsonSchema): Validator | undefined {
  let file: string | undefined;
  try {
    file = PRECOMPILED[schemaKey(schema)];
  } catch {
    return undefined; // not JSON (a cycle): ajv compiles it
  }
  if (!file) return undefined;
  try {
    return requireHere(`./generated/${file}`) as Validator;
  } catch {
    return undefined; // core bundled without its generated folder: ajv compiles it
  }
}

const compiled = new WeakMap<object, Validator>();
const fromBuild = new WeakSet<object>();

/**
 * The validator of `schema`, cached by identity: the one precompiled at build time when the
 * schema is one of loadlight's (same JSON), else compiled by ajv once.
 */
export function compileSchema(schema: JsonSchema): Validator {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = precompiled(schema);
    if (validate) fromBuild.add(schema);
    else validate = getAjv().compile(schema) as Validator;
    compiled.set(schema, validate);
  }
  return validate;
}

/** Whether `schema` validates with build-time code (no ajv at run time). */
export function isPrecompiled(schema: JsonSchema): boolean {
  compileSchema(schema);
  return fromBuild.has(schema);
}

/** Edit distance, for "Did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/**
 * The nearest of `candidates` to `word`, when it is near enough to be a typo. None for a word far
 * longer than any name (its cost grows with the length).
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length > 200) return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** `text` cut to at most `max` characters, ending in `...` when cut (a 1 MB name must not make a 1 MB message). */
export function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** `/reporters/0/dir` -> `reporters[0].dir` */
export function formatPath(instancePath: string, root = ''): string {
  let out = root;
  for (const raw of instancePath.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** A short, readable rendering of a given value. */
export function describeValue(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  // JSON.stringify throws on a bigint, and writes NaN and Infinity as null
  const text = typeof value === 'bigint' ? `${value}n` : typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  return `${typeof value} ${clip(text, 60)}`;
}

function valueAt(data: unknown, instancePath: string): unknown {
  let current: unknown = data;
  for (const raw of instancePath.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Drops errors that only restate a more precise one (oneOf/anyOf wrappers, if/then). */
function preciseErrors(errors: ErrorObject[]): ErrorObject[] {
  const meaningful = errors.filter((e) => !['oneOf', 'anyOf', 'if', 'then', 'else'].includes(e.keyword));
  const chosen = meaningful.length > 0 ? meaningful : errors;
  // For a value that several branches reject, keep the errors of the deepest path.
  const seen = new Set<string>();
  return chosen.filter((e) => {
    const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Turns ajv's errors into lines such as `"reporters[0]": unknown option "formt". Expected one of: dir, format. Did you mean "format"?` */
export function formatAjvErrors(errors: ErrorObject[], data: unknown, root = ''): string[] {
  const lines: string[] = [];
  // A described anyOf/oneOf (a plugin spec) reads better as one line than as each branch's complaint.
  const described = errors.filter(
    (e) => (e.keyword === 'anyOf' || e.keyword === 'oneOf') && typeof (e.parentSchema as JsonSchema | undefined)?.description === 'string',
  );
  for (const error of described) {
    const path = formatPath(error.instancePath, root) || '(top level)';
    const given = valueAt(data, error.instancePath);
    lines.push(`"${path}" must be ${String((error.parentSchema as JsonSchema).description)}, got ${describeValue(given)}.`);
  }
  const coveredBy = (e: ErrorObject) =>
    described.some((d) => e.instancePath === d.instancePath || e.instancePath.startsWith(`${d.instancePath}/`));
  for (const error of preciseErrors(errors.filter((e) => !coveredBy(e)))) {
    const path = formatPath(error.instancePath, root) || '(top level)';
    const given = valueAt(data, error.instancePath);
    switch (error.keyword) {
      case 'additionalProperties': {
        const extra = String((error.params as { additionalProperty: string }).additionalProperty);
        const allowed = Object.keys(((error.parentSchema as JsonSchema | undefined)?.properties ?? {}) as object);
        const hint = suggest(extra, allowed);
        const where = path === '(top level)' ? '' : ` in "${path}"`;
        lines.push(
          `unknown option "${clip(extra)}"${where}.` +
            (allowed.length ? ` Expected one of: ${allowed.join(', ')}.` : '') +
            (hint ? ` Did you mean "${hint}"?` : ''),
        );
        break;
      }
      case 'required': {
        const missing = String((error.params as { missingProperty: string }).missingProperty);
        lines.push(`"${path === '(top level)' ? missing : `${path}.${missing}`}" is required.`);
        break;
      }
      case 'enum': {
        const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v));
        lines.push(`"${path}" must be one of ${allowed.join(', ')}, got ${describeValue(given)}.`);
        break;
      }
      case 'const': {
        lines.push(`"${path}" must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}, got ${describeValue(given)}.`);
        break;
      }
      case 'type': {
        // ajv joins several allowed types with a comma ("boolean,object")
        const types = String((error.params as { type: string | string[] }).type).split(',');
        const expected = types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types.at(-1)}` : types[0];
        lines.push(`"${path}" must be ${expected}, got ${describeValue(given)}.`);
        break;
      }
      default:
        lines.push(`"${path}" ${error.message ?? 'is invalid'}, got ${describeValue(given)}.`);
    }
  }
  return lines;
}

/**
 * Validates `data` against `schema` and throws one LoadlightError naming every problem.
 * `context` starts the message (`perf.config.ts`, `plugin "system"`).
 */
export function assertValid(
  schema: JsonSchema,
  data: unknown,
  context: string,
  code: LoadlightErrorCode = 'CONFIG_INVALID',
  details: { file?: string; plugin?: string; root?: string } = {},
): void {
  const validate = compileSchema(schema);
  let lines: string[];
  try {
    if (validate(data)) return;
    lines = formatAjvErrors(validate.errors ?? [], data, details.root);
  } catch (error) {
    // a getter or a proxy of a JavaScript config that throws when read
    throw new LoadlightError(code, `${context}: cannot be read: ${describeError(error)}`, { ...details, cause: error });
  }
  const message =
    lines.length === 1 ? `${context}: ${lines[0]}` : `${context}:\n${lines.map((line) => `  - ${line}`).join('\n')}`;
  throw new LoadlightError(code, message, details);
}

/**
 * Checks a plugin's options once, at construction. A plugin factory calls it first:
 * `validateOptions('system', optionsSchema, options)`.
 */
export function validateOptions(plugin: string, schema: JsonSchema, options: unknown): void {
  assertValid(schema, options ?? {}, `plugin "${plugin}" options`, 'PLUGIN_OPTIONS_INVALID', { plugin });
}
