import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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
    const example = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    // inside the package, so that '@loadlight/core' resolves to the built package
    const dir = mkdtempSync(path.join(packageDir, '.readme-'));
    const file = path.join(dir, 'example.mjs');
    writeFileSync(file, example);
    let out: string;
    try {
      out = execFileSync(process.execPath, [file], { encoding: 'utf8', cwd: dir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(out).toMatch(/count: \d+/);
    const rate = Number(out.trim().split('\n').at(-1));
    expect(rate).toBeGreaterThan(1000); // ~200 jobs a second
  });
});
