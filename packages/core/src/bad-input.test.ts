// Property tests over bad configs: objects given to normalizeConfig / new Profiler(), and
// perf.config files of every kind read by loadConfig. Whatever the input, the outcome is a
// config or a LoadlightError that names the place; never a TypeError or another uncaught error.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { configSearchPlaces, loadConfig, normalizeConfig, resolveConfig, type LoadedConfig } from './config.js';
import { isLoadlightError, type LoadlightError } from './errors.js';
import { Profiler } from './profiler.js';
import type { LoadlightConfig } from './types.js';

const OBJECT_RUNS = 400;
const FILE_RUNS = 25;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'loadlight-bad-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A config that validates: every option set. */
const VALID: Json = {
  sampleIntervalMs: 250,
  evaluateEveryMs: 500,
  reportIntervalMs: 1000,
  maxSamples: 100,
  collectTimeoutMs: 100,
  windowSeconds: 30,
  plugins: ['system', ['frames', { targetFps: 60 }]],
  reporters: ['json'],
  rules: ['./rules.json'],
  watchRules: false,
  sessionId: 'run-1',
  budgets: { 'process.cpu.percent': { max: 50, stat: 'p95' } },
};

/** Every path into a JSON value (the root included). */
function paths(value: Json, at: Array<string | number> = []): Array<Array<string | number>> {
  const out = [at];
  if (Array.isArray(value)) value.forEach((item, i) => out.push(...paths(item, [...at, i])));
  else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) out.push(...paths(item, [...at, key]));
  return out;
}

/** Values no JSON file holds, that a .js or .ts config may: each must be refused clearly. */
const jsOnly = fc.constantFrom<unknown>(
  Number.NaN,
  Infinity,
  -Infinity,
  -0,
  2 ** 53 + 2,
  1e308 * 10,
  10n,
  Symbol('x'),
  () => 1,
  new Date(0),
  new Map([['a', 1]]),
  /re/,
  new Uint8Array(2),
  Object.create(null) as unknown,
  undefined,
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: jsOnly },
  { weight: 1, arbitrary: fc.string({ maxLength: 2000 }) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2, withBigInt: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withNullPrototype: true }) },
);
const key = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'plugins', 'sampleIntervalMs', 'sampleIntervalMS', 'reporter', ''),
  fc.string({ maxLength: 20 }),
);

/** One change to the valid config: a value replaced, a key removed, a key added (`__proto__` as an own key, as JSON.parse makes it). */
const mutation = fc.record({ pick: fc.nat(), kind: fc.constantFrom('replace', 'delete', 'extra', 'nest'), value: anyValue, key });

function mutate(base: Json, m: { pick: number; kind: string; value: unknown; key: string }): { config: unknown; top: string | null } {
  const config = structuredClone(base) as Record<string, unknown>;
  const all = paths(base);
  const at = all[m.pick % all.length]!;
  let parent: unknown = null;
  let node: unknown = config;
  for (const step of at) {
    parent = node;
    node = (node as Record<string | number, unknown>)[step];
  }
  const last = at.at(-1);
  const top = at.length > 0 ? String(at[0]) : m.kind === 'extra' ? m.key : null;
  const define = (target: object, k: string | number, value: unknown) =>
    Object.defineProperty(target, k, { value, enumerable: true, writable: true, configurable: true });
  if (m.kind === 'replace' || (m.kind === 'delete' && last === undefined)) {
    if (last === undefined) return { config: m.value, top: null };
    define(parent as object, last, m.value);
  } else if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete (parent as Record<string, unknown>)[last as string];
  } else if (m.kind === 'extra') {
    const target = node !== null && typeof node === 'object' ? node : config;
    define(target, m.key, m.value);
    if (target === config) return { config, top: m.key };
  } else {
    // deep nesting in place of the value
    let deep: unknown = m.value;
    for (let i = 0; i < 2000; i++) deep = i % 2 ? [deep] : { a: deep };
    if (last === undefined) return { config: deep, top: null };
    define(parent as object, last, deep);
  }
  return { config, top };
}

/** Runs `fn`; returns null when it succeeds, else the error, which must be a LoadlightError. */
async function outcome(fn: () => unknown): Promise<LoadlightError | null> {
  try {
    await fn();
    return null;
  } catch (error) {
    if (!isLoadlightError(error)) {
      throw new Error(`not a LoadlightError: ${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error)}`);
    }
    expect(error.message.length).toBeGreaterThan(0);
    expect(error.message).not.toMatch(/\n\s+at .*:\d+:\d+/); // no stack in the message
    return error;
  }
}

describe('config objects: property tests', () => {
  it('normalizeConfig: any mutation of a valid config is accepted or refused with CONFIG_INVALID naming the option', async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const { config, top } = mutate(VALID, m);
        const error = await outcome(() => normalizeConfig(config as LoadlightConfig, { baseDir: tmp }));
        if (!error) return;
        refused++;
        expect(error.code).toBe('CONFIG_INVALID');
        expect(error.message.startsWith('config:')).toBe(true);
        // the option changed is named (a top-level problem says "(top level)" or names the key)
        if (top !== null && top !== '') expect(error.message).toContain(top.slice(0, 60));
      }),
      { numRuns: OBJECT_RUNS },
    );
    expect(refused, 'mutations refused (the checks above ran)').toBeGreaterThan(0);
  });

  it('new Profiler(config): any value is a profiler or a LoadlightError naming the file the config came from', async () => {
    let refused = 0;
    const file = path.join(tmp, 'perf.config.ts');
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyValue, mutation.map((m) => mutate(VALID, m).config)), async (config) => {
        const error = await outcome(() => new Profiler(config as LoadlightConfig, { configFile: file, handleExit: false }));
        if (error) {
          refused++;
          expect(error.message).toContain('perf.config.ts');
          expect(error.file).toBe(file);
        }
      }),
      { numRuns: OBJECT_RUNS },
    );
    expect(refused, 'configs refused (the checks above ran)').toBeGreaterThan(0);
  });

  it('a config object whose properties throw when read (a getter, a proxy) is refused as CONFIG_INVALID', async () => {
    const throwing = Object.defineProperty({}, 'sampleIntervalMs', {
      enumerable: true,
      get() {
        throw new TypeError('boom');
      },
    });
    const proxy = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('trap');
        },
        get() {
          throw new Error('trap');
        },
      },
    );
    for (const config of [throwing, proxy]) {
      const error = await outcome(() => normalizeConfig(config as LoadlightConfig));
      expect(error?.code).toBe('CONFIG_INVALID');
      expect(error?.message).toMatch(/^config: /);
    }
  });

  it('resolveConfig: plugin, reporter and rule entries that name nothing are refused naming the entry', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('plugins', 'reporters', 'rules'),
        fc.oneof(fc.constantFrom('./missing.js', '../x', 'no-such-plugin-zz', '@scope/none', 'sytem', '/abs/none.js'), fc.stringMatching(/^[a-z]{3,10}zz$/)),
        async (field, name) => {
          const config = { [field]: [name], ...(field === 'rules' ? {} : { rules: [] }) } as LoadlightConfig;
          const error = await outcome(() => resolveConfig(config, { baseDir: tmp }));
          expect(error, `${field}: ${name}`).not.toBeNull();
          expect(error!.message).toContain(field === 'rules' ? '"rules"' : `"${field}[0]"`);
        },
      ),
      { numRuns: 30 },
    );
  });
});

/** perf.config contents of every kind: valid and invalid JSON, modules that throw or export no object. */
const JS_BODIES = [
  'export default 5;',
  'export default null;',
  'export default [];',
  'export default "text";',
  'export default () => ({});',
  'export default Promise.reject(new Error("rejected"));',
  'throw new Error("thrown at load");',
  'throw 42;',
  'throw null;',
  'export default { sampleIntervalMs: "fast" };',
  'export default { get sampleIntervalMs() { throw new Error("getter"); } };',
  'export default { plugins: [{ name: "x" }] };',
  'export default { reporters: [["json", 5]] };',
  'export default { unknownOption: true };',
  'export default {',
  'export default { sampleIntervalMs: 1e400 };',
  'export default { sampleIntervalMs: 10n };',
  'export const notDefault = 1;',
  '',
  'const x: number = "a"; export default { x };',
  'import nothing from "./nothing.js"; export default nothing;',
  'import nothing from "no-such-package-zz"; export default nothing;',
  'module.exports = 5;',
  'export default new Proxy({}, { ownKeys() { throw new Error("trap"); } });',
];

const fileContent = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...JS_BODIES) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 2, arbitrary: mutation.map((m) => JSON.stringify(mutate(VALID, m).config, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)) ?? '') },
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.constantFrom('{', '{"sampleIntervalMs": }', '\u0000\u0001', '\ufeff{}', '{"__proto__": {"sampleIntervalMs": -1}}', 'x'.repeat(100_000)) },
);
const extension = fc.constantFrom('json', 'js', 'mjs', 'ts', 'mts', 'cjs', 'cts');
const rcFile = fc.constantFrom('.perfrc', '.perfrc.json', '.perfrc.yaml');

let fileCount = 0;
function writeConfig(name: string, content: string): { dir: string; file: string } {
  const dir = path.join(tmp, `p${++fileCount}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), '{"name":"fixture","type":"module"}');
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return { dir, file };
}

describe('config files: property tests', () => {
  it('loadConfig then new Profiler: any perf.config.<ext> content gives a config or a LoadlightError naming the file', async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(extension, fileContent, async (ext, content) => {
        const { dir, file } = writeConfig(`perf.config.${ext}`, content);
        // with {cwd}, the search may skip the file only where reading it directly gave no settings
        // (cosmiconfig skips empty files), or where perf.config.<ext> is not a search place (json)
        let direct: LoadlightConfig | null | undefined;
        const searched = configSearchPlaces().includes(`perf.config.${ext}`);
        for (const options of [{ configFile: file }, { cwd: dir }]) {
          let loaded: LoadedConfig | null = null;
          const error = await outcome(async () => {
            loaded = await loadConfig(options);
            if (loaded) new Profiler(loaded.config, { configFile: loaded.filepath, handleExit: false });
          });
          const found = (loaded as LoadedConfig | null)?.filepath;
          const what = `${JSON.stringify(options)} ${JSON.stringify(content.slice(0, 80))}`;
          if (!error) {
            if ('configFile' in options) {
              direct = (loaded as LoadedConfig | null)?.config ?? null;
              expect(found, what).toBe(file);
            } else if (found !== undefined || searched) {
              const noSettings = direct === null || (direct !== undefined && Object.keys(direct).length === 0);
              expect(found, what).toBe(found === undefined && noSettings ? undefined : file);
            }
            continue;
          }
          refused++;
          expect(error.message).toContain(`perf.config.${ext}`);
          expect(['CONFIG_INVALID', 'CONFIG_LOAD_FAILED']).toContain(error.code);
        }
      }),
      { numRuns: FILE_RUNS },
    );
    expect(refused, 'files refused (the checks above ran)').toBeGreaterThan(0);
  }, 120_000);

  it('each listed module body, as .js, .mjs, .ts and .cts, gives a config or a LoadlightError naming the file', async () => {
    let refused = 0;
    for (const ext of ['js', 'mjs', 'ts', 'cts']) {
      for (const body of JS_BODIES) {
        const { file } = writeConfig(`perf.config.${ext}`, body);
        let found: string | undefined;
        const error = await outcome(async () => {
          const loaded = await loadConfig({ configFile: file });
          found = loaded?.filepath;
          if (loaded) new Profiler(loaded.config, { configFile: loaded.filepath, handleExit: false });
        });
        if (!error) {
          expect(found, `${ext}: ${body}`).toBe(file);
          continue;
        }
        refused++;
        expect(error.message, `${ext}: ${body}`).toContain(`perf.config.${ext}`);
      }
    }
    expect(refused, 'bodies refused (the checks above ran)').toBeGreaterThan(0);
  }, 120_000);

  it('rc files (.perfrc, JSON or YAML) too', async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(rcFile, fc.oneof(fileContent, fc.constantFrom('a: [', 'sampleIntervalMs: fast', '- 1\n- 2', ': :', '&a [*a]')), async (name, content) => {
        const { dir, file } = writeConfig(name, content);
        let found: string | undefined;
        const error = await outcome(async () => {
          const loaded = await loadConfig({ cwd: dir });
          found = loaded?.filepath;
          if (loaded) new Profiler(loaded.config, { configFile: loaded.filepath, handleExit: false });
        });
        if (!error) {
          // the search found this file, or skipped it as cosmiconfig does when it holds no settings
          if (found === undefined) {
            const direct = await loadConfig({ configFile: file });
            expect(direct === null || Object.keys(direct.config).length === 0, JSON.stringify(content.slice(0, 80))).toBe(true);
          } else expect(found).toBe(file);
          return;
        }
        refused++;
        expect(error.message).toContain(name);
      }),
      { numRuns: FILE_RUNS },
    );
    expect(refused, 'rc files refused (the checks above ran)').toBeGreaterThan(0);
  }, 60_000);

  it('a config file that does not exist, or is a folder, is refused naming it', async () => {
    for (const configFile of [path.join(tmp, 'none.json'), tmp, `${tmp}/\u0000x.json`, 'x'.repeat(5000)]) {
      const error = await outcome(() => loadConfig({ configFile }));
      expect(error, configFile.slice(0, 80)).not.toBeNull();
      expect(['CONFIG_NOT_FOUND', 'CONFIG_LOAD_FAILED']).toContain(error!.code);
    }
  });
});
