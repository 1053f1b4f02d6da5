import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../test/support/readme.js';
import frames, { FRAMES_METRICS } from './index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');

describe('README', () => {
  it('runs its first example', () => {
    const result = runReadmeExample(packageDir, { lang: 'js' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout.trim()) as Record<string, number>;
    expect(summary.fps).toBeGreaterThan(0);
    expect(summary.budgetMs).toBeCloseTo(1000 / 30, 3); // the store holds ms to 1 us
    expect(summary.slowestMs).toBeGreaterThanOrEqual(49.9); // the 50 ms frame
    expect(summary.latePerMinute).toBeGreaterThan(0);
    expect(summary.droppedPerMinute).toBeGreaterThan(0);
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
