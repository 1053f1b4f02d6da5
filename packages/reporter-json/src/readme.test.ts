import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sessionSeries, validateSession } from '@loadlight/core';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../test/support/readme.js';
import json from './index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');

describe('README', () => {
  it('runs its first example and leaves a valid session file', () => {
    // It runs in a folder empty but for the script, where the example writes perf/samples.
    const result = runReadmeExample(packageDir, { lang: 'js' });
    expect(result.stderr).toMatch(/\[loadlight\] session written to perf[/\\]samples[/\\].+\.json/);
    expect(result.status).toBe(0);
    const files = readdirSync(path.join(result.scriptDir, 'perf', 'samples'));
    expect(files).toHaveLength(1);
    const file = path.join(result.scriptDir, 'perf', 'samples', files[0]!);
    expect(result.stdout.trim()).toBe(file);
    const session: unknown = JSON.parse(readFileSync(file, 'utf8'));
    validateSession(session, file);
    expect(sessionSeries(session, 'queue.depth').filter((v) => v !== null).length).toBeGreaterThan(0);
  });

  it('quotes the error an unknown option really gives', () => {
    const quoted = /`(plugin "json" options: unknown option "dri"[^`]*)`/.exec(readme)?.[1];
    expect(quoted).toBeDefined();
    expect(() => json({ dri: 'x' } as never)).toThrowError(quoted);
  });
});
