import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../test/support/readme.js';
import io from './index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');

describe('README', () => {
  it('runs its first example', () => {
    const result = runReadmeExample(packageDir, { lang: 'js' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const match = /^waits: ([\d.]+)\/min, ([\d.]+)% of the time, p95 ([\d.]+) ms\ndisk: (.+) B\/s written\n$/.exec(result.stdout);
    expect(match, result.stdout).not.toBeNull();
    const [, perMinute, share, p95] = match!.map(Number);
    // 3 waits per frame, at least one of them 25 ms long
    expect(perMinute).toBeGreaterThan(0);
    expect(share).toBeGreaterThan(0);
    expect(p95).toBeGreaterThanOrEqual(20);
    if (process.platform === 'linux') expect(Number(match![4])).toBeGreaterThanOrEqual(0);
    expect(readdirSync(result.scriptDir)).toEqual(['example.mjs']); // it cleaned up after itself
  });

  it('quotes the error a wrong option really gives', () => {
    const quoted = /`(plugin "io" options: unknown option "hots"[^`]*)`/.exec(readme)?.[1];
    expect(quoted).toBeDefined();
    expect(() => io({ hots: true } as never)).toThrowError(quoted);
  });

  it('lists every metric the plugin declares', () => {
    for (const name of Object.keys(io().metrics ?? {})) expect(readme).toContain(`| \`${name}\` |`);
  });
});
