import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = path.resolve(packageDir, '..', '..');
const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');
const examples = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]!);

/** Runs one README example as a user would (the script lives in the repo so that packages resolve). */
function run(example: string): { stdout: string; stderr: string; status: number | null } {
  for (const pkg of ['core', 'plugin-ocr']) {
    const entry = path.join(repoRoot, 'packages', pkg, 'dist', 'index.js');
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" first`);
  }
  const scriptDir = path.join(repoRoot, 'test', '.tmp');
  mkdirSync(scriptDir, { recursive: true });
  const dir = mkdtempSync(path.join(scriptDir, 'readme-ocr-'));
  const script = path.join(dir, 'example.mjs');
  writeFileSync(script, example);
  try {
    return spawnSync(process.execPath, [script], { cwd: dir, encoding: 'utf8', timeout: 90_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('README', () => {
  it('runs its first example: timeOcr on a small reader', () => {
    const result = run(examples[0]!);
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
    const result = run(examples[1]!);
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
