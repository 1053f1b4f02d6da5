import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, resolveConfig } from '@loadlight/core';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../test/support/readme.js';
import dashboard from './index.js';
import { optionsSchema } from './options.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');

describe('README', () => {
  it('runs its program example: the API answers, the action runs, no token is refused', () => {
    const result = runReadmeExample(packageDir, { lang: 'js' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('metrics: true\napplied: 200 2\nwithout the token: 401\nurl after stop: null\n');
  });

  it('has a perf.config.ts example that loads and resolves to the dashboard reporter', async () => {
    const result = runReadmeExample(packageDir, { lang: 'ts' });
    expect(result.status).toBe(0);
    const file = path.join(result.scriptDir, 'perf.config.ts');
    writeFileSync(file, result.example);
    const loaded = (await loadConfig({ configFile: file }))!;
    const resolved = await resolveConfig(loaded.config, { configFile: file });
    expect(resolved.reporters.map((r) => r.name)).toEqual(['console', 'json', 'dashboard']);
  });

  it('lists every option in its table, and quotes the error a bad one really gives', () => {
    const rows = [...readme.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    expect(rows).toEqual(Object.keys(optionsSchema.properties));
    const quoted = /`(plugin "dashboard" options: "port" must be[^`]*)`/.exec(readme)?.[1];
    expect(quoted).toBeDefined();
    expect(() => dashboard({ port: 70000 })).toThrowError(quoted);
  });

  it('keeps the screenshot the page tests write', () => {
    expect(readme).toContain('![the panel](docs/panel.png)');
  });
});
