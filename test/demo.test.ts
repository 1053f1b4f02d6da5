import { describe, expect, it } from 'vitest';
import { validateSession } from '@loadlight/core';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { root, start } from './helpers.js';

describe('npm run demo', () => {
  it('profiles the example with live output and writes a session that validates', async () => {
    const { done } = start([path.join(root, 'scripts/demo.mjs'), '--duration', '4s']);
    const run = await done;
    expect(run.code, run.stderr).toBe(0);
    // live output: the console reporter's lines (stdout is not a TTY here), then the summary
    expect(run.stdout + run.stderr).toMatch(/\[loadlight\] \d+s cpu/);
    const match = /session written to (\S+\.json)/.exec(run.stdout);
    expect(match, run.stdout).not.toBeNull();
    const session = JSON.parse(readFileSync(path.resolve(root, match![1]!), 'utf8'));
    validateSession(session);
    expect(session.catalogue['handles.active']).toMatchObject({ plugin: 'handles' });
  });
});
