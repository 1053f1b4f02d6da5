import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ErrorObject } from 'ajv/dist/2020.js';
import { Engine } from 'json-rules-engine';
import { LoadlightError } from '../errors.js';
import { clip, compileSchema, formatAjvErrors, suggest } from '../validate.js';
import { FactIndex, MODULE_TAGS_PATH, placeholders } from './facts.js';
import { findJsonSyntaxError } from './json.js';
import { ruleFileSchema, type Condition, type LeafCondition, type RuleDefinition, type RuleFile, type TopLevelCondition } from './schema.js';

export type RuleType = 'load-level' | 'recommendation' | 'alert';

/** A fact and path a rule reads (in a condition, a compared value or a message placeholder). */
export interface FactReference {
  fact: string;
  path: string | undefined;
}

/** A rule as loaded: the file's definition plus what the stage needs to run it. */
export interface LoadedRule {
  file: string;
  /** Position in its file. */
  index: number;
  name: string;
  description: string;
  type: RuleType;
  definition: RuleDefinition;
  /** Every fact path the rule reads, for deciding whether it can run now. */
  references: FactReference[];
  /** Runs once per module (it reads the `module` fact). */
  perModule: boolean;
  /** Alerts: pending time before firing, and firing time after the clear holds. */
  forMs: number;
  keepFiringForMs: number;
}

export interface LoadedRuleFile {
  file: string;
  sha256: string;
  rules: LoadedRule[];
}

interface OperatorMap {
  get(name: string): unknown;
  operators: Map<string, unknown>;
  decorators: Map<string, unknown>;
}

let operatorMap: OperatorMap | undefined;

/** json-rules-engine's own operator table, so that what loads is exactly what the engine runs. */
function operators(): OperatorMap {
  operatorMap ??= (new Engine() as unknown as { operators: OperatorMap }).operators;
  return operatorMap;
}

const BASE_OPERATORS = () => [...operators().operators.keys()].filter((name) => !name.includes(':'));

function isKnownOperator(name: string): boolean {
  return operators().get(name) != null;
}

const NUMERIC_OPERATORS = new Set(['lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive']);
const ARRAY_OPERATORS = new Set(['in', 'notIn']);
/** Operators that look inside the fact's list; only the module fact's `$.tags` is one. */
const LIST_OPERATORS = new Set(['contains', 'doesNotContain']);
/** Decorators that change what is compared with what (item by item, or swapped): not checked further. */
const REPLACING_DECORATORS = new Set(['someFact', 'everyFact', 'someValue', 'everyValue', 'swap']);

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30s` -> 30000. The schema has already checked the form. */
export function parseDurationMs(text: string | undefined): number {
  if (text === undefined) return 0;
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/.exec(text);
  if (!match) throw new LoadlightError('RULES_INVALID', `"${text}" is not a duration such as "30s", "2m" or "500ms"`);
  return Number(match[1]) * DURATION_MS[match[2]!]!;
}

function isFactReference(value: unknown): value is { fact: string; path?: string } {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, 'fact');
}

function* leaves(condition: Condition): Generator<LeafCondition> {
  if ('all' in condition) for (const c of condition.all) yield* leaves(c);
  else if ('any' in condition) for (const c of condition.any) yield* leaves(c);
  else if ('not' in condition) yield* leaves(condition.not);
  else yield condition;
}

/**
 * A text from the file for a message: shortened (a 1 MB name must not make a 1 MB message), its
 * control characters escaped (a name must not move the cursor or fake a line of output).
 */
function short(text: string): string {
  return clip(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function describeCondition(leaf: LeafCondition): string {
  const parts = [leaf.fact, leaf.path, leaf.operator, JSON.stringify(leaf.value)].filter((part): part is string => part !== undefined && part !== '');
  return `condition ${parts.map(short).join(' ')}`;
}

function list(items: string[]): string {
  return items.length ? items.join(', ') : '(none)';
}

/** What is wrong with reading `fact` at `path`, or null when it is fine. */
function checkReference(fact: string, path: string | undefined, index: FactIndex): string | null {
  const known = index.knownFacts();
  if (!known.includes(fact)) {
    const hint = suggest(fact, known);
    return `unknown fact "${short(fact)}". Known facts: ${list(known)}.${hint ? ` Did you mean "${hint}"?` : ''}`;
  }
  const paths = index.knownPaths(fact);
  if (path === undefined) {
    const example = paths?.[0] ?? '$.cpu.percent';
    return `fact "${fact}" is an object: add a "path" such as "${example}".${paths ? ` Known paths: ${list(paths)}.` : ''}`;
  }
  // A standard plugin that is not loaded: its paths are unknown, and the rule stays inactive.
  if (paths === null || paths.includes(path)) return null;
  const hint = suggest(path, paths);
  return `unknown path "${short(path)}" for fact "${fact}". Known paths: ${list(paths)}.${hint ? ` Did you mean "${hint}"?` : ''}`;
}

function checkOperator(leaf: LeafCondition): string | null {
  if (!isKnownOperator(leaf.operator)) {
    const base = BASE_OPERATORS();
    const hint = suggest(leaf.operator, base);
    const decorators = [...operators().decorators.keys()];
    return (
      `unknown operator "${short(leaf.operator)}". Expected one of: ${base.join(', ')}` +
      ` (optionally decorated, such as "not:equal"; decorators: ${decorators.join(', ')}).` +
      (hint ? ` Did you mean "${hint}"?` : '')
    );
  }
  if (isFactReference(leaf.value)) return null;
  const listProblem = checkListOperator(leaf);
  if (listProblem) return listProblem;
  if (NUMERIC_OPERATORS.has(leaf.operator) && typeof leaf.value !== 'number') {
    return `"${leaf.operator}" compares numbers: the value must be a number, got ${short(JSON.stringify(leaf.value))}.`;
  }
  if (ARRAY_OPERATORS.has(leaf.operator) && !Array.isArray(leaf.value)) {
    return `"${leaf.operator}" needs an array value, got ${short(JSON.stringify(leaf.value))}.`;
  }
  return null;
}

/**
 * The module fact's `$.tags` is the one list among the facts (every other path holds a number or
 * the module name): `contains` / `doesNotContain` one tag work on it and on nothing else, where
 * they would silently never match.
 */
function checkListOperator(leaf: LeafCondition): string | null {
  const decorators = leaf.operator.split(':');
  const base = decorators.pop()!;
  if (decorators.some((decorator) => REPLACING_DECORATORS.has(decorator))) return null;
  const isTags = leaf.fact === 'module' && leaf.path === MODULE_TAGS_PATH;
  if (isTags && !LIST_OPERATORS.has(base)) {
    return `"${MODULE_TAGS_PATH}" is a list of tags: use "contains" or "doesNotContain" with one tag as the value, got "${leaf.operator}".`;
  }
  if (isTags && typeof leaf.value !== 'string') {
    return `"${leaf.operator}" on "${MODULE_TAGS_PATH}" checks for one tag: the value must be a string, got ${short(JSON.stringify(leaf.value))}.`;
  }
  if (!isTags && LIST_OPERATORS.has(base)) {
    return `"${leaf.operator}" looks inside a list, and only the module fact's "${MODULE_TAGS_PATH}" is one: this path holds a single value (use "equal" or a comparison).`;
  }
  return null;
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    let where: ReturnType<typeof findJsonSyntaxError> = null;
    try {
      where = findJsonSyntaxError(text);
    } catch {
      // nesting too deep for the scanner: V8's message alone
    }
    const message = where
      ? `${file}:${where.line}:${where.column}: invalid JSON: ${where.message}`
      : `${file}: invalid JSON: ${(error as Error).message}`;
    throw new LoadlightError('RULES_INVALID', message, { file, cause: error });
  }
}

function schemaErrors(file: string, data: unknown, errors: ErrorObject[]): string[] {
  // `data` may be any JSON value (null, a number): read `rules` only from an object
  const rules = data !== null && typeof data === 'object' ? (data as { rules?: unknown }).rules : undefined;
  const groups = new Map<number | null, ErrorObject[]>();
  for (const error of errors) {
    const match = /^\/rules\/(\d+)(\/|$)/.exec(error.instancePath);
    const key = match ? Number(match[1]) : null;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(error);
  }
  const lines: string[] = [];
  for (const [key, group] of groups) {
    const rule = key === null || !Array.isArray(rules) ? undefined : (rules[key] as { name?: unknown } | undefined);
    const prefix = typeof rule?.name === 'string' && rule.name ? `${file}: rule "${short(rule.name)}": ` : `${file}: `;
    for (const line of formatAjvErrors(group, data)) lines.push(prefix + line);
  }
  return lines;
}

/** Deeper JSON is refused before validation: the schema's checks and the rule walks recurse. */
const MAX_DEPTH = 64;

/** The path of the first value nested deeper than MAX_DEPTH, or null; iterative, so any depth is safe. */
function tooDeep(data: unknown): string | null {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value: data, depth: 0, path: '' }];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_DEPTH) return path || '(top level)';
    for (const [key, item] of Object.entries(value)) {
      stack.push({ value: item, depth: depth + 1, path: Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key });
    }
  }
  return null;
}

/**
 * Parses and validates one rule file's text: JSON, then the schema, then what only the facts
 * can tell (fact names, paths, operators, placeholders) and duplicate names. Throws a
 * `RULES_INVALID` LoadlightError with one line per problem.
 */
export function parseRuleFile(file: string, text: string, index: FactIndex): LoadedRuleFile {
  const sha256 = createHash('sha256').update(text).digest('hex');
  const data = parseJson(file, text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const deep = tooDeep(data);
  if (deep !== null) {
    throw new LoadlightError('RULES_INVALID', `${file}: "${short(deep)}" is nested more than ${MAX_DEPTH} levels deep; rule files are never that deep`, { file });
  }
  const validate = compileSchema(ruleFileSchema);
  if (!validate(data)) {
    throw new LoadlightError('RULES_INVALID', schemaErrors(file, data, validate.errors ?? []).join('\n'), { file });
  }
  const ruleFile = data as RuleFile;
  const problems: string[] = [];
  const firstIndexByName = new Map<string, number>();
  const rules: LoadedRule[] = [];
  ruleFile.rules.forEach((definition, position) => {
    const at = `${file}: rule "${short(definition.name)}": `;
    const first = firstIndexByName.get(definition.name);
    if (first !== undefined) {
      problems.push(`${at}duplicate rule name: rules[${first}] and rules[${position}] share it; names must be unique in a file.`);
    } else firstIndexByName.set(definition.name, position);

    const references: FactReference[] = [];
    const roots: TopLevelCondition[] = [definition.conditions];
    const event = definition.event;
    if (event.type === 'alert' && event.params.clearWhen) roots.push(event.params.clearWhen);
    for (const root of roots) {
      for (const leaf of leaves(root)) {
        const wrong = [checkReference(leaf.fact, leaf.path, index), checkOperator(leaf)];
        references.push({ fact: leaf.fact, path: leaf.path });
        if (isFactReference(leaf.value)) {
          const problem = checkReference(String(leaf.value.fact), leaf.value.path, index);
          wrong.push(problem && `the value refers to ${problem[0]!.toLowerCase()}${problem.slice(1)}`);
          references.push({ fact: String(leaf.value.fact), path: leaf.value.path });
        }
        for (const problem of wrong) if (problem) problems.push(`${at}${describeCondition(leaf)}: ${problem}`);
      }
    }
    if (event.type !== 'load-level') {
      for (const placeholder of placeholders(event.params.message)) {
        const problem = checkReference(placeholder.fact, placeholder.path === '$' ? undefined : placeholder.path, index);
        if (problem) problems.push(`${at}message placeholder ${short(placeholder.text)}: ${problem}`);
      }
    }
    let forMs = 0;
    let keepFiringForMs = 0;
    if (event.type === 'alert') {
      forMs = parseDurationMs(event.params.for);
      keepFiringForMs = parseDurationMs(event.params.keepFiringFor);
    }
    rules.push({
      file,
      index: position,
      name: definition.name,
      description: definition.description,
      type: event.type,
      definition,
      references,
      perModule: references.some((reference) => reference.fact === 'module'),
      forMs,
      keepFiringForMs,
    });
  });
  if (problems.length) throw new LoadlightError('RULES_INVALID', problems.join('\n'), { file });
  return { file, sha256, rules };
}

/** Reads and validates a rule file. Throws `RULES_NOT_FOUND` or `RULES_INVALID`. */
export async function loadRuleFile(file: string, index: FactIndex): Promise<LoadedRuleFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new LoadlightError('RULES_NOT_FOUND', `${file}: rule file not found`, { file, cause: error });
    }
    throw new LoadlightError('RULES_INVALID', `${file}: cannot read the rule file: ${(error as Error).message}`, { file, cause: error });
  }
  return parseRuleFile(file, text, index);
}


