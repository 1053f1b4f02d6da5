import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Loader } from 'cosmiconfig';
import type { createJiti } from 'jiti';
import { describeError, isLoadlightError, LoadlightError } from './errors.js';
import type { LoadlightConfig, Plugin, PluginSpec, ResolvedConfig } from './types.js';
import { assertValid, suggest, type JsonSchema } from './validate.js';

export const MODULE_NAME = 'perf';

/** Defaults, in one place. */
export const DEFAULTS = {
  sampleIntervalMs: 1000,
  maxSamples: 3600,
  collectTimeoutMs: 500,
  lifecycleTimeoutMs: 10_000,
  maxConsecutiveFaults: 5,
  windowSeconds: 60,
  watchRules: true,
  plugins: ['system'] as PluginSpec[],
  reporters: ['console', 'json'] as PluginSpec[],
} as const;

const DEFAULT_RULE_FILES = ['load-levels.json', 'recommendations.json', 'alerts.json'];

/** Short names of the plugins and reporters loadlight ships, for hints. */
const KNOWN = { plugin: ['system', 'ocr', 'frames', 'io', 'modules'], reporter: ['console', 'json', 'dashboard', 'prometheus'] };

const pluginSpecSchema: JsonSchema = {
  description: 'a plugin name ("system"), [name, options], or a plugin object with name and apply()',
  anyOf: [
    { type: 'string', minLength: 1 },
    { type: 'array', prefixItems: [{ type: 'string', minLength: 1 }, { type: 'object' }], minItems: 2, items: false },
    {
      type: 'object',
      required: ['name', 'apply'],
      properties: { name: { type: 'string', minLength: 1 }, apply: { isFunction: true }, metrics: { type: 'object' } },
    },
  ],
};

/** The statistics a budget may judge (`BudgetStat`). */
const BUDGET_STATS = ['mean', 'min', 'max', 'p50', 'p95', 'p99', 'last', 'rate_per_minute'] as const;

/**
 * One budget of `budgets` (metric name -> budget), checked by `loadlight compare`. That it sets at
 * least one limit is checked there (and by the Budget type): an anyOf here would hide the
 * "unknown option, did you mean" message of a misspelt limit.
 */
const budgetSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    max: { type: 'number' },
    min: { type: 'number' },
    maxIncrease: { type: 'number', minimum: 0 },
    maxIncreasePercent: { type: 'number', minimum: 0 },
    maxDecrease: { type: 'number', minimum: 0 },
    maxDecreasePercent: { type: 'number', minimum: 0 },
    stat: { enum: [...BUDGET_STATS] },
  },
};

/** JSON Schema of perf.config (the user's file): the source of truth for its validation. */
export const configSchema: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://loadlight.dev/schemas/config.json',
  title: 'loadlight config',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    sampleIntervalMs: { type: 'integer', minimum: 10, maximum: 3_600_000 },
    evaluateEveryMs: { type: 'integer', minimum: 10 },
    reportIntervalMs: { type: 'integer', minimum: 10 },
    maxSamples: { type: 'integer', minimum: 2, maximum: 10_000_000 },
    collectTimeoutMs: { type: 'integer', minimum: 1 },
    lifecycleTimeoutMs: { type: 'integer', minimum: 1 },
    maxConsecutiveFaults: { type: 'integer', minimum: 0 },
    windowSeconds: { type: 'number', exclusiveMinimum: 0 },
    plugins: { type: 'array', items: pluginSpecSchema },
    reporters: { type: 'array', items: pluginSpecSchema },
    rules: { type: 'array', items: { type: 'string', minLength: 1 } },
    watchRules: { type: 'boolean' },
    sessionId: { type: 'string', minLength: 1, maxLength: 200 },
    budgets: { type: 'object', additionalProperties: budgetSchema },
  },
};

export interface ConfigContext {
  /** The file the config came from (for messages and relative paths). */
  configFile?: string | null;
  /** Where relative paths are resolved from. Default: the config file's folder, else the cwd. */
  baseDir?: string;
}

/** Typed identity: a wrong option in perf.config.ts is a compile error. */
export function defineConfig(config: LoadlightConfig): LoadlightConfig {
  return config;
}

function defaultSessionId(): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
}

/** The default rule files shipped in @loadlight/rules. */
export function defaultRuleFiles(): string[] {
  const require = createRequire(import.meta.url);
  return DEFAULT_RULE_FILES.map((file) => require.resolve(`@loadlight/rules/${file}`));
}

/** A file as messages show it: relative to the working directory. */
export function shownFile(file: string): string {
  return path.relative(process.cwd(), file) || file;
}

/** The error for a config file whose config is not an object (null, an array, a number...). */
function notAnObject(file: string, config: unknown): LoadlightError {
  const got = config === null ? 'null' : Array.isArray(config) ? 'an array' : typeof config;
  return new LoadlightError('CONFIG_INVALID', `${shownFile(file)}: the config must be an object, got ${got}`, { file });
}

/** Validates and fills defaults; plugin specs stay unresolved (`plugins`/`reporters` are empty). */
export function normalizeConfig(config: LoadlightConfig, context: ConfigContext = {}): ResolvedConfig {
  const where = context.configFile ? shownFile(context.configFile) : 'config';
  assertValid(configSchema, config, where, 'CONFIG_INVALID', context.configFile ? { file: context.configFile } : {});
  const baseDir = context.baseDir ?? (context.configFile ? path.dirname(context.configFile) : process.cwd());
  const sampleIntervalMs = config.sampleIntervalMs ?? DEFAULTS.sampleIntervalMs;
  return {
    sampleIntervalMs,
    evaluateEveryMs: config.evaluateEveryMs ?? sampleIntervalMs,
    reportIntervalMs: config.reportIntervalMs ?? sampleIntervalMs,
    maxSamples: config.maxSamples ?? DEFAULTS.maxSamples,
    collectTimeoutMs: config.collectTimeoutMs ?? Math.min(DEFAULTS.collectTimeoutMs, sampleIntervalMs),
    lifecycleTimeoutMs: config.lifecycleTimeoutMs ?? DEFAULTS.lifecycleTimeoutMs,
    maxConsecutiveFaults: config.maxConsecutiveFaults ?? DEFAULTS.maxConsecutiveFaults,
    windowSeconds: config.windowSeconds ?? DEFAULTS.windowSeconds,
    plugins: [],
    reporters: [],
    rules: config.rules ? Array.from(config.rules, (file) => path.resolve(baseDir, file)) : defaultRuleFiles(), // not .map: it honours the array's own `constructor`
    watchRules: config.watchRules ?? DEFAULTS.watchRules,
    sessionId: config.sessionId ?? defaultSessionId(),
    configFile: context.configFile ?? null,
    baseDir,
  };
}

/** Validates, fills defaults and imports the named plugins and reporters. */
export async function resolveConfig(config: LoadlightConfig, context: ConfigContext = {}): Promise<ResolvedConfig> {
  const resolved = normalizeConfig(config, context);
  const specs = { plugin: config.plugins ?? DEFAULTS.plugins, reporter: config.reporters ?? DEFAULTS.reporters };
  for (const kind of ['plugin', 'reporter'] as const) {
    const list = kind === 'plugin' ? resolved.plugins : resolved.reporters;
    const field = `${kind}s`;
    for (const [i, spec] of specs[kind].entries()) list.push(await resolvePlugin(spec, kind, resolved.baseDir, `${field}[${i}]`, context.configFile ?? null));
  }
  for (const file of resolved.rules) {
    if (!existsSync(file)) {
      const prefix = context.configFile ? `${shownFile(context.configFile)}: ` : '';
      throw new LoadlightError('RULES_NOT_FOUND', `${prefix}rule file "${file}" does not exist (listed in "rules")`, {
        file: context.configFile ?? file,
      });
    }
  }
  return resolved;
}

/** Finds a package's ESM entry from `baseDir` (so that the user's own copy wins), then from core. */
function resolvePackageEntry(name: string, baseDir: string): string | null {
  for (const from of [path.join(baseDir, 'package.json'), import.meta.url]) {
    const require = createRequire(from);
    let manifest: string | null = null;
    try {
      manifest = require.resolve(`${name}/package.json`);
    } catch {
      try {
        // A package that does not export its package.json: walk up from its main entry.
        let dir = path.dirname(require.resolve(name));
        while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
        manifest = path.join(dir, 'package.json');
      } catch {
        continue;
      }
    }
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>;
    const entry = esmEntry(pkg);
    if (entry) return path.resolve(path.dirname(manifest), entry);
  }
  return null;
}

function esmEntry(pkg: Record<string, unknown>): string | null {
  const exported = pkg.exports as unknown;
  const root = typeof exported === 'object' && exported !== null && '.' in exported ? (exported as Record<string, unknown>)['.'] : exported;
  const pick = (target: unknown): string | null => {
    if (typeof target === 'string') return target;
    if (target && typeof target === 'object') {
      const conditions = target as Record<string, unknown>;
      for (const key of ['import', 'node', 'default', 'require']) {
        const found = key in conditions ? pick(conditions[key]) : null;
        if (found) return found;
      }
    }
    return null;
  };
  return pick(root) ?? (typeof pkg.module === 'string' ? pkg.module : null) ?? (typeof pkg.main === 'string' ? pkg.main : 'index.js');
}

function isPlugin(value: unknown): value is Plugin {
  return (
    typeof value === 'object' && value !== null && typeof (value as Plugin).name === 'string' && typeof (value as Plugin).apply === 'function'
  );
}

async function resolvePlugin(
  spec: PluginSpec,
  kind: 'plugin' | 'reporter',
  baseDir: string,
  where: string,
  configFile: string | null,
): Promise<Plugin> {
  if (isPlugin(spec)) return spec;
  const [name, options] = typeof spec === 'string' ? [spec, undefined] : spec;
  const prefix = configFile ? `${shownFile(configFile)}: ` : '';
  const candidates = name.startsWith('.') || name.includes('/') ? [name] : [`@loadlight/${kind}-${name}`, name];
  let entry: string | null = null;
  let packageName = name;
  for (const candidate of candidates) {
    entry = candidate.startsWith('.') ? path.resolve(baseDir, candidate) : resolvePackageEntry(candidate, baseDir);
    if (entry) {
      packageName = candidate;
      break;
    }
  }
  if (!entry) {
    const hint = suggest(name, KNOWN[kind]);
    throw new LoadlightError(
      'PLUGIN_NOT_FOUND',
      `${prefix}"${where}": cannot find ${kind} "${name}" (looked for ${candidates.map((c) => `"${c}"`).join(' and ')} from ${baseDir}).` +
        (hint && hint !== name ? ` Did you mean "${hint}"?` : ` Install it with: npm install ${candidates[0]}`),
      configFile ? { file: configFile } : {},
    );
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  } catch (error) {
    throw new LoadlightError('PLUGIN_ERROR', `${prefix}"${where}": ${kind} "${packageName}" failed to load: ${describeError(error)}`, {
      plugin: name,
      cause: error,
    });
  }
  const exported = mod.default ?? mod;
  let plugin: unknown;
  try {
    plugin = typeof exported === 'function' ? (exported as (o?: unknown) => unknown)(options) : exported;
  } catch (error) {
    if (isLoadlightError(error)) {
      throw new LoadlightError(error.code, `${prefix}"${where}": ${error.message}`, { plugin: name, cause: error });
    }
    throw new LoadlightError('PLUGIN_ERROR', `${prefix}"${where}": ${kind} "${packageName}" failed to start: ${describeError(error)}`, {
      plugin: name,
      cause: error,
    });
  }
  if (!isPlugin(plugin)) {
    throw new LoadlightError(
      'PLUGIN_ERROR',
      `${prefix}"${where}": "${packageName}" does not export a plugin factory (its default export must be a function returning { name, apply })`,
      { plugin: name },
    );
  }
  return plugin;
}

// cosmiconfig and jiti load on first use: a program that passes `configFile: false`, or whose
// config is plain JavaScript, never loads jiti (nor babel, which jiti loads to transform).
let jiti: ReturnType<typeof createJiti> | undefined;
let loads = 0;
const requireHere = createRequire(import.meta.url);

/**
 * Reads perf.config.ts. A file that is plain JavaScript (no type annotations, the usual case)
 * is imported natively from a copy; anything else goes through jiti, a fraction of the cost of
 * the TypeScript compiler. jiti caches its transform on disk (unless JITI_FS_CACHE=false).
 */
const loadTypeScript: Loader = async (filepath, content) => {
  const copy = path.extname(filepath) === '.cts' ? null : plainModuleCopy(filepath, content);
  if (copy) {
    try {
      // A query per load: each load evaluates the file afresh, as jiti (moduleCache off) does.
      const mod = (await import(`${pathToFileURL(copy).href}?load=${++loads}`)) as Record<string, unknown>;
      return 'default' in mod ? mod.default : mod;
    } catch {
      // Not plain after all (or failing): jiti gives the canonical result, or error.
    }
  }
  // Its CommonJS entry: importing it as ESM would have Node scan its 190 kB bundle for exports.
  jiti ??= (requireHere('jiti') as typeof import('jiti')).createJiti(import.meta.url, { interopDefault: true, moduleCache: false });
  return jiti.import(filepath, { default: true });
};

/**
 * A loader whose errors name the file (cosmiconfig adds `filepath` to an Error only, and jiti
 * not always, so a module that throws `42` or `null` would otherwise go unnamed), and which
 * refuses a config of `null`: cosmiconfig takes it for no file at all (a named file ignored, a
 * search going on to the next folder up).
 */
function configLoader(loader: Loader): Loader {
  return async (filepath, content) => {
    let config: unknown;
    try {
      config = await loader(filepath, content);
    } catch (error) {
      // Node's "Cannot find module" adds the importing files: a stack of sorts, kept in `cause`
      const reason = describeError(error).replace(/\n+Require stack:[\s\S]*$/, '');
      throw new LoadlightError('CONFIG_LOAD_FAILED', `${shownFile(filepath)}: could not read the config: ${reason}`, { file: filepath, cause: error });
    }
    if (config === null) throw notAnObject(filepath, config);
    return config;
  };
}

/** Syntax for which the native import of the text is not what jiti would give: generics (`<`), CommonJS, import.meta, dynamic import. */
const NOT_PLAIN = /<|\b(?:require|module|exports|__dirname|__filename)\b|\bimport\s*[.(]/;
/** Static import and export specifiers (and, conservatively, anything that reads like one). */
const SPECIFIER = /\b(?:from|import)\s*(['"])([^'"\n]+)\1/g;

/**
 * When `source` may be imported natively with the meaning jiti gives it, writes it once to a
 * content-addressed `.mjs` copy in the nearest `node_modules/.cache/loadlight` (where bare
 * imports resolve as from the file itself, and file watchers do not look) and returns its path.
 * Plain means: ESM, no relative import, and every import a built-in or an ES-module package (a
 * CommonJS package's default import differs between the two). TypeScript syntax that slips
 * through fails to parse, and the caller falls back to jiti.
 */
export function plainModuleCopy(filepath: string, source: string): string | null {
  if (!/\bexport\b/.test(source) || NOT_PLAIN.test(source)) return null;
  let packages = false;
  for (const [, , specifier] of source.matchAll(SPECIFIER)) {
    if (isBuiltin(specifier!)) continue;
    if (!isEsmPackage(specifier!, filepath)) return null;
    packages = true;
  }
  const modules = nearestNodeModules(path.dirname(filepath));
  const dir = modules ? path.join(modules, '.cache', 'loadlight') : packages ? null : path.join(os.tmpdir(), 'loadlight-config');
  if (!dir) return null;
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const copy = path.join(dir, `${path.basename(filepath, path.extname(filepath))}-${hash}.mjs`);
  if (existsSync(copy)) return copy;
  try {
    mkdirSync(dir, { recursive: true });
    const partial = `${copy}.${process.pid}.tmp`;
    writeFileSync(partial, source);
    renameSync(partial, copy); // atomic: a concurrent start never reads half a file
    return copy;
  } catch {
    return null; // read-only: jiti
  }
}

function nearestNodeModules(dir: string): string | null {
  for (let current = dir; ; current = path.dirname(current)) {
    if (path.basename(current) !== 'node_modules' && existsSync(path.join(current, 'node_modules'))) return path.join(current, 'node_modules');
    if (path.dirname(current) === current) return null;
  }
}

/** Whether `specifier`, imported from `fromFile`, is an ES module (so jiti would import it natively too). */
function isEsmPackage(specifier: string, fromFile: string): boolean {
  const match = /^((?:@[^/]+\/)?[^/.@][^/]*)(\/.+)?$/.exec(specifier);
  if (!match) return false; // relative, absolute or a URL
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(readFileSync(createRequire(fromFile).resolve(`${match[1]}/package.json`), 'utf8')) as Record<string, unknown>;
  } catch {
    return false;
  }
  if (match[2] !== undefined) return pkg.type === 'module';
  const target = importTarget(pkg.exports) ?? (typeof pkg.main === 'string' ? pkg.main : 'index.js');
  return target.endsWith('.mjs') || (pkg.type === 'module' && !target.endsWith('.cjs'));
}

/** The file `import 'package'` loads, from its `exports` (first matching condition, as Node picks). */
function importTarget(exported: unknown): string | null {
  if (typeof exported === 'string') return exported;
  if (Array.isArray(exported)) return importTarget(exported[0]);
  if (!exported || typeof exported !== 'object') return null;
  const conditions = exported as Record<string, unknown>;
  if ('.' in conditions) return importTarget(conditions['.']);
  for (const [key, value] of Object.entries(conditions)) {
    if (key === 'node' || key === 'import' || key === 'default') return importTarget(value);
  }
  return null;
}

export interface LoadedConfig {
  config: LoadlightConfig;
  filepath: string;
}

/**
 * The files `loadConfig` looks for in each folder, in its order (a file earlier in the list is
 * read instead of a later one): cosmiconfig's default places for `perf`, then perf.config.mts/.cts.
 */
export function configSearchPlaces(): string[] {
  const { getDefaultSearchPlaces } = requireHere('cosmiconfig') as typeof import('cosmiconfig');
  return [...getDefaultSearchPlaces(MODULE_NAME), `${MODULE_NAME}.config.mts`, `${MODULE_NAME}.config.cts`];
}

/**
 * Finds and reads the config with cosmiconfig (module name `perf`): from `configFile` when
 * given, else searching from `cwd` up to the project root. Resolves null when there is none.
 */
export async function loadConfig(options: { cwd?: string; configFile?: string } = {}): Promise<LoadedConfig | null> {
  const { cosmiconfig, defaultLoaders } = requireHere('cosmiconfig') as typeof import('cosmiconfig');
  const explorer = cosmiconfig(MODULE_NAME, {
    searchPlaces: configSearchPlaces(),
    loaders: {
      '.js': configLoader(defaultLoaders['.js']),
      '.mjs': configLoader(defaultLoaders['.mjs']),
      '.cjs': configLoader(defaultLoaders['.cjs']),
      '.ts': configLoader(loadTypeScript),
      '.mts': configLoader(loadTypeScript),
      '.cts': configLoader(loadTypeScript),
      '.json': configLoader(defaultLoaders['.json']),
      '.yaml': configLoader(defaultLoaders['.yaml']),
      '.yml': configLoader(defaultLoaders['.yml']),
      noExt: configLoader(defaultLoaders.noExt),
    },
    searchStrategy: 'project',
    cache: false,
  });
  let result;
  try {
    if (options.configFile) {
      const file = path.resolve(options.cwd ?? process.cwd(), options.configFile);
      if (!existsSync(file)) throw new LoadlightError('CONFIG_NOT_FOUND', `config file "${shownFile(file)}" does not exist`, { file });
      result = await explorer.load(file);
    } else {
      result = await explorer.search(options.cwd ?? process.cwd());
    }
  } catch (error) {
    if (isLoadlightError(error)) throw error;
    const file = (error as { filepath?: string }).filepath ?? options.configFile ?? '';
    throw new LoadlightError('CONFIG_LOAD_FAILED', `${file ? `${shownFile(file)}: ` : ''}could not read the config: ${describeError(error)}`, {
      ...(file ? { file } : {}),
      cause: error,
    });
  }
  if (!result) return null;
  // An empty file is an empty config; a null one the loaders refused (`configLoader`).
  const config = (result.config ?? {}) as LoadlightConfig;
  if (typeof config !== 'object' || Array.isArray(config)) throw notAnObject(result.filepath, config);
  return { config, filepath: result.filepath };
}
