import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cosmiconfig, getDefaultSearchPlaces, type Loader } from 'cosmiconfig';
import { createJiti } from 'jiti';
import { describeError, isLoadlightError, LoadlightError } from './errors.js';
import type { LoadlightConfig, Plugin, PluginSpec, ResolvedConfig } from './types.js';
import { assertValid, suggest, type JsonSchema } from './validate.js';

export const MODULE_NAME = 'perf';

/** Defaults, in one place. */
export const DEFAULTS = {
  sampleIntervalMs: 1000,
  maxSamples: 3600,
  collectTimeoutMs: 500,
  windowSeconds: 60,
  watchRules: true,
  plugins: ['system'] as PluginSpec[],
  reporters: ['console', 'json'] as PluginSpec[],
} as const;

const DEFAULT_RULE_FILES = ['load-levels.json', 'recommendations.json', 'alerts.json'];

/** Short names of the plugins and reporters loadlight ships, for hints. */
const KNOWN = { plugin: ['system', 'ocr', 'frames', 'io', 'modules'], reporter: ['console', 'json'] };

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
    windowSeconds: { type: 'number', exclusiveMinimum: 0 },
    plugins: { type: 'array', items: pluginSpecSchema },
    reporters: { type: 'array', items: pluginSpecSchema },
    rules: { type: 'array', items: { type: 'string', minLength: 1 } },
    watchRules: { type: 'boolean' },
    sessionId: { type: 'string', minLength: 1, maxLength: 200 },
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

/** Validates and fills defaults; plugin specs stay unresolved (`plugins`/`reporters` are empty). */
export function normalizeConfig(config: LoadlightConfig, context: ConfigContext = {}): ResolvedConfig {
  const where = context.configFile ? path.relative(process.cwd(), context.configFile) || context.configFile : 'config';
  assertValid(configSchema, config, where, 'CONFIG_INVALID', context.configFile ? { file: context.configFile } : {});
  const baseDir = context.baseDir ?? (context.configFile ? path.dirname(context.configFile) : process.cwd());
  const sampleIntervalMs = config.sampleIntervalMs ?? DEFAULTS.sampleIntervalMs;
  return {
    sampleIntervalMs,
    evaluateEveryMs: config.evaluateEveryMs ?? sampleIntervalMs,
    reportIntervalMs: config.reportIntervalMs ?? sampleIntervalMs,
    maxSamples: config.maxSamples ?? DEFAULTS.maxSamples,
    collectTimeoutMs: config.collectTimeoutMs ?? Math.min(DEFAULTS.collectTimeoutMs, sampleIntervalMs),
    windowSeconds: config.windowSeconds ?? DEFAULTS.windowSeconds,
    plugins: [],
    reporters: [],
    rules: config.rules ? config.rules.map((file) => path.resolve(baseDir, file)) : defaultRuleFiles(),
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
      const prefix = context.configFile ? `${path.relative(process.cwd(), context.configFile)}: ` : '';
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
  const prefix = configFile ? `${path.relative(process.cwd(), configFile)}: ` : '';
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

let jiti: ReturnType<typeof createJiti> | undefined;

/** Reads perf.config.ts with jiti: a fraction of the cost of loading the TypeScript compiler. */
const loadTypeScript: Loader = async (filepath) => {
  jiti ??= createJiti(import.meta.url, { interopDefault: true, moduleCache: false, fsCache: false });
  return jiti.import(filepath, { default: true });
};

export interface LoadedConfig {
  config: LoadlightConfig;
  filepath: string;
}

/**
 * Finds and reads the config with cosmiconfig (module name `perf`): from `configFile` when
 * given, else searching from `cwd` up to the project root. Resolves null when there is none.
 */
export async function loadConfig(options: { cwd?: string; configFile?: string } = {}): Promise<LoadedConfig | null> {
  const explorer = cosmiconfig(MODULE_NAME, {
    searchPlaces: [...getDefaultSearchPlaces(MODULE_NAME), `${MODULE_NAME}.config.mts`, `${MODULE_NAME}.config.cts`],
    loaders: { '.ts': loadTypeScript, '.mts': loadTypeScript, '.cts': loadTypeScript },
    searchStrategy: 'project',
    cache: false,
  });
  let result;
  const shown = (file: string) => path.relative(process.cwd(), file) || file;
  try {
    if (options.configFile) {
      const file = path.resolve(options.cwd ?? process.cwd(), options.configFile);
      if (!existsSync(file)) throw new LoadlightError('CONFIG_NOT_FOUND', `config file "${shown(file)}" does not exist`, { file });
      result = await explorer.load(file);
    } else {
      result = await explorer.search(options.cwd ?? process.cwd());
    }
  } catch (error) {
    if (isLoadlightError(error)) throw error;
    const file = (error as { filepath?: string }).filepath ?? options.configFile ?? '';
    throw new LoadlightError('CONFIG_LOAD_FAILED', `${file ? `${shown(file)}: ` : ''}could not read the config: ${describeError(error)}`, {
      ...(file ? { file } : {}),
      cause: error,
    });
  }
  if (!result) return null;
  const config = (result.config ?? {}) as LoadlightConfig;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new LoadlightError('CONFIG_INVALID', `${shown(result.filepath)}: the config must be an object, got ${Array.isArray(config) ? 'an array' : typeof config}`, {
      file: result.filepath,
    });
  }
  return { config, filepath: result.filepath };
}
