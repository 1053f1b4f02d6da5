import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from './config.js';
import { ruleFileSchema } from './rules/schema.js';
import { sessionProfileSchema } from './session-schema.js';
import { createTestProfiler, moreSamples, stopTestProfilers } from './testing.js';
import { compileSchema, createAjv, isPrecompiled, type JsonSchema } from './validate.js';

afterEach(stopTestProfilers);

const CORE = path.resolve(__dirname, '..');
const RULES = path.resolve(CORE, '../../rules');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path into `value` (arrays and objects), the root included. */
function paths(value: Json, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(value)) value.forEach((item, i) => out.push(...paths(item, [...at, i])));
  else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) out.push(...paths(item, [...at, key]));
  return out;
}

/** `base` with the node at one of its paths replaced, deleted, or given an extra key. */
function mutated(base: Json, pick: number, kind: 'replace' | 'delete' | 'extra', value: Json): Json {
  const copy = structuredClone(base);
  const all = paths(copy);
  const at = all[pick % all.length]!;
  if (at.length === 0) return kind === 'replace' ? value : copy;
  let parent: Json = copy;
  for (const step of at.slice(0, -1)) parent = (parent as Record<string | number, Json>)[step]!;
  const last = at.at(-1)!;
  const node = (parent as Record<string | number, Json>)[last]!;
  if (kind === 'extra' && node && typeof node === 'object' && !Array.isArray(node)) (node as Record<string, Json>).unexpected = value;
  else if (kind === 'delete' && !Array.isArray(parent)) delete (parent as Record<string, Json>)[last];
  else (parent as Record<string | number, Json>)[last] = value;
  return copy;
}

/** The same schema compiled by ajv now, with the options of the build. */
function compiledAtRunTime(schema: JsonSchema) {
  return createAjv().compile(structuredClone(schema));
}

async function validSession(): Promise<Json> {
  const { profiler } = createTestProfiler([], { sampleIntervalMs: 20, rules: [path.join(RULES, 'load-levels.json')] });
  await profiler.start();
  await moreSamples(profiler, 2);
  return JSON.parse(JSON.stringify(await profiler.stop())) as Json;
}

describe('precompiled validators', () => {
  it('are what the build would generate now (run `npm run build -w @loadlight/core` after changing a schema)', () => {
    const out = execFileSync(process.execPath, [path.join(CORE, 'scripts/generate-validators.mjs'), '--check'], { cwd: CORE, encoding: 'utf8' });
    expect(out).toMatch(/precompiled validators are up to date/);
  }, 120_000);

  it('serve the config, rule-file and session schemas, with no ajv compile', () => {
    for (const schema of [configSchema, ruleFileSchema, sessionProfileSchema]) expect(isPrecompiled(schema)).toBe(true);
  });

  it('serve a copy of one of our schemas too (looked up by content)', () => {
    expect(isPrecompiled(structuredClone(configSchema))).toBe(true);
  });

  it('leave any other schema to ajv, compiled once and cached', () => {
    const schema = { type: 'object', properties: { port: { type: 'integer' } }, additionalProperties: false };
    expect(isPrecompiled(schema)).toBe(false);
    const validate = compileSchema(schema);
    expect(compileSchema(schema)).toBe(validate);
    expect(validate({ port: 'x' })).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ instancePath: '/port', keyword: 'type', message: 'must be integer' });
  });

  const bases: Array<[string, JsonSchema, () => Json | Promise<Json>]> = [
    ['config', configSchema, () => ({ sampleIntervalMs: 500, maxSamples: 100, windowSeconds: 10, plugins: ['system', ['modules', { maxModules: 5 }]], reporters: ['json'], rules: ['./r.json'], watchRules: false, sessionId: 'run-1' })],
    ['rule file', ruleFileSchema, () => JSON.parse(readFileSync(path.join(RULES, 'alerts.json'), 'utf8')) as Json],
    ['rule file (recommendations)', ruleFileSchema, () => JSON.parse(readFileSync(path.join(RULES, 'recommendations.json'), 'utf8')) as Json],
    ['session profile', sessionProfileSchema, validSession],
  ];

  it.each(bases)('give exactly the errors ajv gives at run time: %s, mutated at random', async (_name, schema, base) => {
    const valid = await base();
    const precompiled = compileSchema(schema);
    const runtime = compiledAtRunTime(schema);
    expect(precompiled(valid), JSON.stringify(precompiled.errors)).toBe(true);
    const value = fc.oneof(fc.jsonValue(), fc.constantFrom<Json>('', -1, 0.5, 1e9, [], {}, 'x'.repeat(300), '2026-13-01T00:00:00Z')) as fc.Arbitrary<Json>;
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom('replace', 'delete', 'extra'), value, (pick, kind, replacement) => {
        const data = mutated(valid, pick, kind as 'replace' | 'delete' | 'extra', replacement);
        const ok = precompiled(data);
        expect(ok).toBe(runtime(data));
        expect(precompiled.errors ?? null).toEqual(runtime.errors ?? null);
      }),
      { numRuns: 300 },
    );
  }, 60_000);

  it('check that a plugin object has an apply function (the isFunction keyword) as before', () => {
    const validate = compileSchema(configSchema);
    const runtime = compiledAtRunTime(configSchema);
    for (const data of [{ plugins: [{ name: 'x', apply: 1 }] }, { plugins: [{ name: 'x', apply: () => {} }] }, { reporters: [{ name: 'x' }] }]) {
      expect(validate(data)).toBe(runtime(data));
      expect(validate.errors ?? null).toEqual(runtime.errors ?? null);
    }
    expect(validate({ plugins: [{ name: 'x', apply: 1 }] })).toBe(false);
    expect(validate.errors).toContainEqual(expect.objectContaining({ keyword: 'isFunction', message: 'must be a function', instancePath: '/plugins/0/apply' }));
  });

  it('let a fresh process start the profiler with no ajv compiler loaded', () => {
    const entry = pathToFileURL(path.join(CORE, 'dist/index.js')).href;
    const script = `
      import(${JSON.stringify(entry)}).then(async (core) => {
        const profiler = await core.startProfiling({ configFile: false, reporters: ['json', 'console'], handleExit: false });
        await core.stopProfiling();
        let message = '';
        try { core.normalizeConfig({ sampleIntervalMs: 'fast' }); } catch (error) { message = error.message; }
        const loaded = Object.keys(require.cache).filter((file) => /[\\\\/]ajv[\\\\/]dist[\\\\/](core|2020)\\.js$/.test(file));
        console.log('\\n' + JSON.stringify({ plugins: profiler.config.plugins.map((p) => p.name), message, loaded }));
        process.exit(0);
      });
    `;
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'loadlight-validate-'));
    const stdout = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd, env: { ...process.env, NO_COLOR: '1' } });
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(out).toEqual({ plugins: ['system'], message: 'config: "sampleIntervalMs" must be integer, got string "fast".', loaded: [] });
  }, 30_000);
});
