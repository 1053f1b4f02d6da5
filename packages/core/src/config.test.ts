import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultRuleFiles, loadConfig, resolveConfig } from './config.js';
import { Profiler } from './profiler.js';

const coreEntry = pathToFileURL(path.resolve(__dirname, '../dist/index.js')).href;

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-config-'));
  writeFileSync(path.join(dir, 'package.json'), '{"name":"fixture","type":"module"}');
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

/** Loads and resolves a project's config as `loadlight run` would; returns the error message. */
async function errorOf(dir: string): Promise<string> {
  try {
    const loaded = await loadConfig({ cwd: dir });
    const profiler = new Profiler(loaded?.config ?? {}, { configFile: loaded?.filepath ?? null, handleExit: false });
    await profiler.prepare();
  } catch (error) {
    return (error as Error).message.replaceAll(dir, '<dir>').replace(/^.*?perf\.config/m, 'perf.config').replace(/^.*?\.perfrc/m, '.perfrc');
  }
  return 'no error';
}

describe('loadConfig', () => {
  it('reads perf.config.ts with types, without the TypeScript compiler', async () => {
    const dir = project({
      'perf.config.ts': `
        import { defineConfig } from ${JSON.stringify(coreEntry)};
        const interval: number = 250;
        export default defineConfig({ sampleIntervalMs: interval, reporters: [], rules: ['./my-rules.json'] });
      `,
    });
    const loaded = await loadConfig({ cwd: dir });
    expect(loaded?.filepath).toBe(path.join(dir, 'perf.config.ts'));
    expect(loaded?.config).toEqual({ sampleIntervalMs: 250, reporters: [], rules: ['./my-rules.json'] });
  });

  it('does not load the typescript package to read a .ts config', () => {
    const dir = project({ 'perf.config.ts': `export default { sampleIntervalMs: 500 as number };` });
    const script = `
      const Module = require('node:module');
      const seen = [];
      const load = Module._load;
      Module._load = function (request, ...rest) { if (/^typescript(\\/|$)/.test(request)) seen.push(request); return load.call(this, request, ...rest); };
      import(${JSON.stringify(coreEntry)}).then(async (core) => {
        const loaded = await core.loadConfig({ cwd: ${JSON.stringify(dir)} });
        console.log(JSON.stringify({ config: loaded.config, typescript: seen }));
      });
    `;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
    expect(out).toEqual({ config: { sampleIntervalMs: 500 }, typescript: [] });
  });

  it('resolves null when there is no config, and the embedded default then runs', async () => {
    const dir = project({});
    expect(await loadConfig({ cwd: dir })).toBeNull();
    const resolved = await resolveConfig({}, { baseDir: dir });
    expect(resolved.plugins.map((p) => p.name)).toEqual(['system']);
    expect(resolved.reporters.map((p) => p.name)).toEqual(['console', 'json']);
    expect(resolved.rules).toEqual(defaultRuleFiles());
    expect(resolved.sampleIntervalMs).toBe(1000);
  });

  it('finds .perfrc.json and package.json#perf', async () => {
    expect((await loadConfig({ cwd: project({ '.perfrc.json': '{"maxSamples": 10}' }) }))?.config).toEqual({ maxSamples: 10 });
    const dir = project({});
    writeFileSync(path.join(dir, 'package.json'), '{"name":"x","perf":{"windowSeconds":5}}');
    expect((await loadConfig({ cwd: dir }))?.config).toEqual({ windowSeconds: 5 });
  });

  it('passes options to a plugin named with options', async () => {
    const dir = project({});
    const resolved = await resolveConfig({ reporters: [['json', { dir: 'out' }]], plugins: [] }, { baseDir: dir });
    expect(resolved.reporters[0]!.name).toBe('json');
  });
});

describe('bad configs give a clear error naming the file, the option, what was given and expected', () => {
  it.each([
    [
      'wrong type',
      { 'perf.config.ts': `export default { sampleIntervalMs: 'fast' };` },
      'perf.config.ts: "sampleIntervalMs" must be integer, got string "fast".',
    ],
    [
      'unknown option',
      { 'perf.config.ts': `export default { reporters: [], plugins: [], windowSecs: 5 };` },
      'perf.config.ts: unknown option "windowSecs". Expected one of: $schema, sampleIntervalMs, evaluateEveryMs, reportIntervalMs, maxSamples, collectTimeoutMs, windowSeconds, plugins, reporters, rules, watchRules, sessionId. Did you mean "windowSeconds"?',
    ],
    [
      'unknown plugin',
      { 'perf.config.ts': `export default { plugins: ['sytem'], reporters: [] };` },
      'perf.config.ts: "plugins[0]": cannot find plugin "sytem" (looked for "@loadlight/plugin-sytem" and "sytem" from <dir>). Did you mean "system"?',
    ],
    [
      'missing rule file',
      { 'perf.config.ts': `export default { plugins: [], reporters: [], rules: ['./rules/mine.json'] };` },
      'perf.config.ts: rule file "<dir>/rules/mine.json" does not exist (listed in "rules")',
    ],
    [
      'invalid JSON',
      { '.perfrc.json': '{ "sampleIntervalMs": 1000, }' },
      '.perfrc.json: could not read the config: JSON Error in <dir>/.perfrc.json:',
    ],
    [
      'bad plugin options',
      { 'perf.config.ts': `export default { plugins: [], reporters: [['json', { dri: 'out' }]] };` },
      'perf.config.ts: "reporters[0]": plugin "json" options: unknown option "dri".',
    ],
  ])('%s', async (_name, files, expected) => {
    const message = await errorOf(project(files));
    expect(message.startsWith(expected), `got: ${message}`).toBe(true);
  });
});
