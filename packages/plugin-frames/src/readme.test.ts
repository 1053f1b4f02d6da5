import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import frames, { FRAMES_METRICS } from './index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = path.resolve(packageDir, '..', '..');
const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');

describe('README', () => {
  it('runs its first example', () => {
    for (const pkg of ['core', 'plugin-frames']) {
      const entry = path.join(repoRoot, 'packages', pkg, 'dist', 'index.js');
      if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" first`);
    }
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    // The script lives in the repo (gitignored test/.tmp) so that '@loadlight/*' resolves as for a user.
    const scriptDir = path.join(repoRoot, 'test', '.tmp');
    mkdirSync(scriptDir, { recursive: true });
    const dir = mkdtempSync(path.join(scriptDir, 'readme-frames-'));
    const script = path.join(dir, 'example.mjs');
    writeFileSync(script, example!);
    try {
      const result = spawnSync(process.execPath, [script], { cwd: dir, encoding: 'utf8', timeout: 25_000 });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const summary = JSON.parse(result.stdout.trim()) as Record<string, number>;
      expect(summary.fps).toBeGreaterThan(0);
      expect(summary.budgetMs).toBeCloseTo(1000 / 30, 10);
      expect(summary.slowestMs).toBeGreaterThanOrEqual(49.9); // the 50 ms frame
      expect(summary.latePerMinute).toBeGreaterThan(0);
      expect(summary.droppedPerMinute).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('quotes the error a mistyped option really gives', () => {
    const quoted = /`(plugin "frames" options: unknown option "targetFPS"[^`]*)`/.exec(readme)?.[1];
    expect(quoted).toBeDefined();
    expect(() => frames({ targetFPS: 30 } as never)).toThrowError(quoted);
  });

  it('lists every metric the plugin declares', () => {
    for (const name of Object.keys(FRAMES_METRICS)) expect(readme).toContain(`\`${name}\``);
  });
});
