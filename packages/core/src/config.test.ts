import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultRuleFiles, loadConfig, plainModuleCopy, resolveConfig } from './config.js';
import { Profiler } from './profiler.js';

const coreEntry = pathToFileURL(path.resolve(__dirname, '../dist/index.js')).href;
const repoModules = path.resolve(__dirname, '../../../node_modules');

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-config-'));
  writeFileSync(path.join(dir, 'package.json'), '{"name":"fixture","type":"module"}');
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

/** A project whose bare imports resolve as in a user's: `node_modules` links to the repository's. */
function installedProject(files: Record<string, string>): string {
  const dir = project(files);
  symlinkSync(repoModules, path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Runs `body` (an async function body, `core` in scope) in a fresh node process: its result, and which of typescript, jiti, babel and ajv's compiler it loaded. */
function inFreshProcess(body: string, cwd: string): { result: unknown; loaded: string[] } {
  const script = `
    const Module = require('node:module');
    const loaded = new Set();
    const load = Module._load;
    Module._load = function (request, ...rest) {
      if (/^typescript(?:[/]|$)/.test(request)) loaded.add('typescript');
      if (/(?:^|[/])jiti(?:[.]cjs)?$/.test(request)) loaded.add('jiti');
      if (/[/]babel[.]cjs$/.test(request)) loaded.add('babel');
      if (/^ajv[/]dist[/](?:2020|core)/.test(request)) loaded.add('ajv compiler');
      return load.call(this, request, ...rest);
    };
    import(${JSON.stringify(coreEntry)}).then(async (core) => {
      const result = await (async () => { ${body} })();
      console.log(JSON.stringify({ result, loaded: [...loaded].sort() }));
      process.exit(0);
    });
  `;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd })) as { result: unknown; loaded: string[] };
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

  it('imports a .ts config that is plain JavaScript natively: neither jiti nor babel is loaded', () => {
    const dir = installedProject({
      'perf.config.ts': `
        import { defineConfig } from '@loadlight/core';
        import system from '@loadlight/plugin-system';
        import os from 'node:os';
        export default defineConfig({ sampleIntervalMs: os.cpus().length > 0 ? 250 : 1, plugins: [system({ gc: false })], reporters: [] });
      `,
    });
    const out = inFreshProcess(
      `const loaded = await core.loadConfig({ cwd: ${JSON.stringify(dir)} });
       return { sampleIntervalMs: loaded.config.sampleIntervalMs, plugin: loaded.config.plugins[0].name, file: loaded.filepath };`,
      dir,
    );
    expect(out).toEqual({ result: { sampleIntervalMs: 250, plugin: 'system', file: path.join(dir, 'perf.config.ts') }, loaded: [] });
  });

  it('reads a typed .ts config with jiti, and a plain one without it, to the same config', async () => {
    const plain = `import { defineConfig } from '@loadlight/core';\nexport default defineConfig({ sampleIntervalMs: 300, reporters: [] });\n`;
    const typed = `import { defineConfig, type LoadlightConfig } from '@loadlight/core';\nconst c: LoadlightConfig = { sampleIntervalMs: 300, reporters: [] };\nexport default defineConfig(c);\n`;
    const results = [plain, typed].map((source) => {
      const dir = installedProject({ 'perf.config.ts': source });
      return inFreshProcess(`return (await core.loadConfig({ cwd: ${JSON.stringify(dir)} })).config;`, dir);
    });
    expect(results[0]).toEqual({ result: { sampleIntervalMs: 300, reporters: [] }, loaded: [] });
    expect(results[1]!.result).toEqual(results[0]!.result);
    expect(results[1]!.loaded).toEqual(expect.arrayContaining(['jiti']));
    expect(results[1]!.loaded).not.toContain('typescript');
  });

  it('evaluates the config afresh on every load, as jiti does', async () => {
    const dir = project({ 'perf.config.ts': `globalThis.__perfLoads = (globalThis.__perfLoads ?? 0) + 1;\nexport default { maxSamples: globalThis.__perfLoads + 10 };\n` });
    const g = globalThis as { __perfLoads?: number };
    delete g.__perfLoads;
    const first = await loadConfig({ cwd: dir });
    const second = await loadConfig({ cwd: dir });
    expect([first?.config, second?.config]).toEqual([{ maxSamples: 11 }, { maxSamples: 12 }]);
    delete g.__perfLoads;
  });

  it('edits to a plain config are seen: the copy is per content', async () => {
    const dir = project({ 'perf.config.ts': `export default { maxSamples: 20 };\n` });
    expect((await loadConfig({ cwd: dir }))?.config).toEqual({ maxSamples: 20 });
    writeFileSync(path.join(dir, 'perf.config.ts'), `export default { maxSamples: 30 };\n`);
    expect((await loadConfig({ cwd: dir }))?.config).toEqual({ maxSamples: 30 });
  });

  it('reports an error thrown by a plain config like any other', async () => {
    const dir = project({ 'perf.config.ts': `throw new Error('set PERF_DIR first');\nexport default {};\n` });
    await expect(loadConfig({ cwd: dir })).rejects.toThrow(/perf\.config\.ts: could not read the config: .*set PERF_DIR first/);
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

describe('plainModuleCopy: which .ts configs are imported natively', () => {
  const dir = installedProject({});
  const file = path.join(dir, 'perf.config.ts');
  const plain = (source: string) => plainModuleCopy(file, source) !== null;

  it('takes ES modules importing built-ins and ES-module packages, and copies them unchanged next to node_modules', () => {
    const source = `import { defineConfig } from '@loadlight/core';\nimport system from '@loadlight/plugin-system';\nimport { cpus } from 'node:os';\nimport 'fs';\nexport default defineConfig({ plugins: [system()], sampleIntervalMs: cpus().length * 100 });\n`;
    const copy = plainModuleCopy(file, source);
    expect(copy).not.toBeNull();
    expect(path.dirname(copy!)).toBe(path.join(dir, 'node_modules', '.cache', 'loadlight'));
    expect(readFileSync(copy!, 'utf8')).toBe(source);
    expect(plainModuleCopy(file, source)).toBe(copy);
    expect(plain('export default { sampleIntervalMs: 500 };')).toBe(true);
  });

  it.each([
    ['a generic call (valid JavaScript of another meaning)', `import { defineConfig } from '@loadlight/core';\nexport default defineConfig<{}>({});`],
    ['a relative import', `import rules from './rules.js';\nexport default { rules };`],
    ['a CommonJS package (its default import differs)', `import tapable from 'tapable';\nexport default { maxSamples: tapable ? 10 : 20 };`],
    ['a package that is not installed', `import x from 'not-installed-anywhere';\nexport default x;`],
    ['import.meta', `export default { rules: [new URL('./r.json', import.meta.url).pathname] };`],
    ['a dynamic import', `export default await import('node:os').then(() => ({}));`],
    ['CommonJS', `module.exports = { maxSamples: 10 };`],
    ['__dirname', `export default { rules: [__dirname + '/r.json'] };`],
    ['no export', `console.log('nothing');`],
    ['a URL import', `import { defineConfig } from ${JSON.stringify(coreEntry)};\nexport default defineConfig({});`],
  ])('leaves %s to jiti', (_name, source) => {
    expect(plain(source)).toBe(false);
  });

  it('without node_modules, takes a config with no package import, and copies it to the temporary folder', () => {
    const bare = path.join(project({}), 'perf.config.ts');
    const copy = plainModuleCopy(bare, 'export default { maxSamples: 5 };');
    expect(copy && path.dirname(copy)).toBe(path.join(os.tmpdir(), 'loadlight-config'));
    expect(existsSync(copy!)).toBe(true);
    expect(plainModuleCopy(bare, `import x from '@loadlight/core';\nexport default x;`)).toBeNull();
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
      'perf.config.ts: unknown option "windowSecs". Expected one of: $schema, sampleIntervalMs, evaluateEveryMs, reportIntervalMs, maxSamples, collectTimeoutMs, lifecycleTimeoutMs, maxConsecutiveFaults, windowSeconds, plugins, reporters, rules, watchRules, sessionId, budgets. Did you mean "windowSeconds"?',
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

  // cosmiconfig takes a config of null for no file: a named one was ignored, a search went on up.
  it.each([
    ['perf.config.ts', 'export default null;\n'],
    ['perf.config.mjs', 'export default null;\n'],
    ['perf.config.cjs', 'module.exports = null;\n'],
    ['.perfrc.json', 'null\n'],
    ['.perfrc.yml', 'null\n'],
    ['.perfrc', 'null\n'],
  ])('a config of null (%s) is refused, named or found', async (file, content) => {
    const inner = path.join(project({ '.perfrc.json': '{ "maxSamples": 10 }' }), 'inner');
    mkdirSync(inner);
    writeFileSync(path.join(inner, file), content);
    const expected = `${file}: the config must be an object, got null`;
    for (const options of [{ cwd: inner, configFile: file }, { cwd: inner }]) {
      const error = await loadConfig(options).then(() => null, (e: unknown) => e);
      expect(error).toMatchObject({ code: 'CONFIG_INVALID', file: path.join(inner, file) });
      expect((error as Error).message.endsWith(expected), (error as Error).message).toBe(true);
    }
  });
});
