import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import io from './index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = path.resolve(packageDir, '..', '..');
const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');

describe('README', () => {
  it('runs its first example', () => {
    for (const pkg of ['core', 'plugin-io']) {
      const entry = path.join(repoRoot, 'packages', pkg, 'dist', 'index.js');
      if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" first`);
    }
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    // The script and its working directory live in the repo (gitignored test/.tmp), so that
    // '@loadlight/*' resolves as for a user and the files it writes are on a real disk.
    const scratch = path.join(repoRoot, 'test', '.tmp');
    mkdirSync(scratch, { recursive: true });
    const dir = mkdtempSync(path.join(scratch, 'readme-io-'));
    try {
      const script = path.join(dir, 'example.mjs');
      writeFileSync(script, example!);
      const result = spawnSync(process.execPath, [script], { cwd: dir, encoding: 'utf8', timeout: 25_000 });
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
      expect(readdirSync(dir)).toEqual(['example.mjs']); // it cleaned up after itself
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
