import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../test/support/readme.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');

describe('README', () => {
  it('runs its first example: timeOcr on a small reader', () => {
    const result = runReadmeExample(packageDir, { lang: 'js', index: 0, timeoutMs: 90_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout.trim()) as { callsPerMinute: number; unchangedPercent: number; confidence: number };
    expect(summary.callsPerMinute).toBeGreaterThan(0);
    // 40 reads of 4 different texts: most equal the previous one.
    expect(summary.unchangedPercent).toBeGreaterThanOrEqual(50);
    expect(summary.unchangedPercent).toBeLessThanOrEqual(100);
    expect(summary.confidence).toBe(100);
  });

  it('runs its second example: an instrumented tesseract.js worker reading a rendered line', () => {
    const result = runReadmeExample(packageDir, { lang: 'js', index: 1, timeoutMs: 90_000 });
    expect(result.status, result.stderr).toBe(0);
    const [first, second] = result.stdout.trim().split('\n');
    const read = /^LEVEL 7 (\d+(?:\.\d+)?)$/.exec(first!);
    expect(read, first).not.toBeNull();
    const [latencyMs, confidence] = second!.split(' ').map(Number);
    expect(latencyMs).toBeGreaterThan(1);
    expect(confidence).toBe(Number(read![1]));
  }, 120_000);

  it('quotes the metric names the plugin declares', async () => {
    const { OCR_METRICS } = await import('./index.js');
    for (const name of Object.keys(OCR_METRICS)) expect(readme).toContain(`\`${name}\``);
  });
});
