import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateSession } from '@loadlight/core';
import json from './index.js';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = path.resolve(packageDir, '..', '..');
const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');

describe('README', () => {
  it('runs its first example and leaves a valid session file', () => {
    for (const pkg of ['core', 'reporter-json']) {
      const entry = path.join(repoRoot, 'packages', pkg, 'dist', 'index.js');
      if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" first`);
    }
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    // The script lives in the repo (gitignored test/.tmp) so that '@loadlight/*' resolves as
    // for a user; it runs in an empty directory, where the example writes perf/samples.
    const scriptDir = path.join(repoRoot, 'test', '.tmp');
    mkdirSync(scriptDir, { recursive: true });
    const script = path.join(mkdtempSync(path.join(scriptDir, 'readme-json-')), 'example.mjs');
    writeFileSync(script, example!);
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'loadlight-readme-json-'));
    try {
      const result = spawnSync(process.execPath, [script], { cwd, encoding: 'utf8', timeout: 25_000 });
      expect(result.stderr).toMatch(/\[loadlight\] session written to perf[/\\]samples[/\\].+\.json/);
      expect(result.status).toBe(0);
      const files = readdirSync(path.join(cwd, 'perf', 'samples'));
      expect(files).toHaveLength(1);
      const file = path.join(cwd, 'perf', 'samples', files[0]!);
      expect(result.stdout.trim()).toBe(file);
      const session: unknown = JSON.parse(readFileSync(file, 'utf8'));
      validateSession(session, file);
      expect(session.samples.values['queue.depth']!.length).toBeGreaterThan(0);
    } finally {
      rmSync(path.dirname(script), { recursive: true, force: true });
    }
  });

  it('quotes the error an unknown option really gives', () => {
    const quoted = /`(plugin "json" options: unknown option "dri"[^`]*)`/.exec(readme)?.[1];
    expect(quoted).toBeDefined();
    expect(() => json({ dri: 'x' } as never)).toThrowError(quoted);
  });
});
