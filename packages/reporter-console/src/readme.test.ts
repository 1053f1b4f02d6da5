import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import consoleReporter from './index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = path.resolve(packageDir, '..', '..');
const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');

describe('README', () => {
  it('runs its first example: off a TTY, status lines on stderr, then the summary', () => {
    for (const pkg of ['core', 'reporter-console']) {
      const entry = path.join(repoRoot, 'packages', pkg, 'dist', 'index.js');
      if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" first`);
    }
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    // In the repo (gitignored test/.tmp) so that '@loadlight/*' resolves as for a user.
    const scriptDir = path.join(repoRoot, 'test', '.tmp');
    mkdirSync(scriptDir, { recursive: true });
    const script = path.join(mkdtempSync(path.join(scriptDir, 'readme-console-')), 'example.mjs');
    writeFileSync(script, example!);
    const env = { ...process.env };
    delete env['FORCE_COLOR'];
    delete env['NO_COLOR'];
    try {
      const result = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 25_000, env });
      expect(result.status).toBe(0);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trim().split('\n');
      expect(lines.at(-1)).toMatch(/^\[loadlight\] session \S+ stopped after \d+s, \d+ samples, overhead [\d.]+% cpu$/);
      expect(lines.length).toBeGreaterThan(1);
      for (const line of lines.slice(0, -1)) expect(line).toMatch(/^\[loadlight\] \d+s queue\.depth \d+$/);
    } finally {
      rmSync(path.dirname(script), { recursive: true, force: true });
    }
  });

  it('quotes the error an unknown option really gives', () => {
    const quoted = /`(plugin "console" options: unknown option "colour"[^`]*)`/.exec(readme)?.[1];
    expect(quoted).toBeDefined();
    expect(() => consoleReporter({ colour: true } as never)).toThrowError(quoted);
  });
});
