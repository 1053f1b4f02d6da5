import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../test/support/readme.js';
import modules, { DEFAULT_OPTIONS, profileModule } from './index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');

describe('README', () => {
  it('opens with an example that runs and prints what it says', () => {
    const result = runReadmeExample(packageDir, { lang: 'js', timeoutMs: 25_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const parsed = lines.map((line) => /^([a-z.]+): (\d+) calls, mean ([\d.]+) ms, CPU (\d+) ms$/.exec(line));
    expect(parsed.every(Boolean), result.stdout).toBe(true);
    const byName = Object.fromEntries(parsed.map((m) => [m![1], { calls: Number(m![2]), meanMs: Number(m![3]), cpuMs: Number(m![4]) }]));
    expect(Object.keys(byName).sort()).toEqual(['core.ocr', 'frames.heatmap', 'io.log']);
    for (const module of Object.values(byName)) expect(module.calls).toBe(20);
    // the heatmap computes; the OCR module waits 40 ms a call and computes next to nothing
    expect(byName['core.ocr']!.meanMs).toBeGreaterThanOrEqual(39);
    expect(byName['frames.heatmap']!.cpuMs).toBeGreaterThan(byName['core.ocr']!.cpuMs * 5);
    // the printed output in the README has the same shape
    const printed = /prints \(on a 2-core machine\):\n\n```\n([\s\S]*?)```/.exec(readme)?.[1]?.trim().split('\n') ?? [];
    expect(printed.map((line) => line.split(':')[0])).toEqual(lines.map((line) => line.split(':')[0]));
  });

  it('quotes the errors the code really gives', () => {
    const nameError = /```\n(profileModule\(\): the module name must be[^\n]*)\n```/.exec(readme)?.[1];
    expect(nameError).toBeDefined();
    expect(() => profileModule('Core.OCR', () => 1)).toThrowError(nameError!);
    const optionError = /throws\n`(plugin "modules" options: [^`]*)`/.exec(readme)?.[1];
    expect(optionError).toBeDefined();
    expect(() => modules({ cpuSampleIntervallMs: 5 } as never)).toThrowError(optionError!);
  });

  it('lists every option with its default', () => {
    const table = readme.slice(readme.indexOf('| option | default |'), readme.indexOf('\n\n', readme.indexOf('| option | default |')));
    const rows = [...table.matchAll(/^\| `(\w+)` \| `?'?([\w_']+?)'?`? \|/gm)].map((m) => [m[1], m[2]!.replace(/_/g, '')]);
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(DEFAULT_OPTIONS).map(([key, value]) => [key, String(value)])));
  });
});
