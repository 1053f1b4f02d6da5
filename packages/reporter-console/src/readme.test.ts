import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../test/support/readme.js';
import consoleReporter from './index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');

describe('README', () => {
  it('runs its first example: off a TTY, status lines on stderr, then the summary', () => {
    const result = runReadmeExample(packageDir, { lang: 'js', env: { FORCE_COLOR: undefined, NO_COLOR: undefined } });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^\[loadlight\] session \S+ stopped after \d+s, \d+ samples, overhead [\d.]+% cpu$/);
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/^\[loadlight\] \d+s queue\.depth \d+$/);
  });

  it('quotes the error an unknown option really gives', () => {
    const quoted = /`(plugin "console" options: unknown option "colour"[^`]*)`/.exec(readme)?.[1];
    expect(quoted).toBeDefined();
    expect(() => consoleReporter({ colour: true } as never)).toThrowError(quoted);
  });
});
