import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../test/support/readme.js';
import { Profiler } from './profiler.js';

const packageDir = path.resolve(__dirname, '..');
const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');

const KIND_OF: Record<string, string> = {
  AsyncSeriesHook: 'async series',
  AsyncParallelHook: 'async parallel',
  SyncHook: 'sync',
};

describe('core README', () => {
  it('documents every hook, in order, with its kind', () => {
    const section = readme.slice(readme.indexOf('## Hooks'), readme.indexOf('\n## ', readme.indexOf('## Hooks') + 1));
    const documented = [...section.matchAll(/^### (\w+)\n[\s\S]*?- \*\*Kind\*\*: ([a-z ]+)/gm)].map((m) => [m[1], m[2]!.trim()]);
    const hooks = new Profiler({ plugins: [], reporters: [], rules: [] }, { handleExit: false }).hooks;
    const actual = Object.entries(hooks).map(([name, hook]) => [name, KIND_OF[hook.constructor.name]]);
    expect(documented.map(([name, kind]) => [name, kind!.replace(/ \(.*$/, '')])).toEqual(actual);
  });

  it('opens with an example that runs', () => {
    const { status, stdout, stderr } = runReadmeExample(packageDir, { lang: 'ts' });
    expect(status, stderr).toBe(0);
    expect(stdout).toMatch(/count: \d+/);
    const rate = Number(stdout.trim().split('\n').at(-1));
    expect(rate).toBeGreaterThan(1000); // ~200 jobs a second
  });
});
