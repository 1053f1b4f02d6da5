import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const runner = fileURLToPath(new URL('./fixtures/run-ts.mjs', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/start-stop.ts', import.meta.url));

interface Outcome {
  code: number | null;
  exitedByItself: boolean;
  report: { samples: number; wakeups: number; resources: string[] } | null;
  stderr: string;
}

/** Runs the fixture in a fresh node; kills it if it has not ended on its own within `limitMs`. */
function runFixture(env: Record<string, string>, limitMs = 15_000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runner, fixture], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      let report: Outcome['report'] = null;
      try {
        report = JSON.parse(stdout) as Outcome['report'];
      } catch {
        report = null;
      }
      resolve({ code, exitedByItself: !killed, report, stderr });
    });
  });
}

describe('releasing resources', () => {
  it('lets the process exit by itself after stop, with no monitor left running', async () => {
    const outcome = await runFixture({});
    expect(outcome.stderr).not.toMatch(/Error/);
    expect(outcome.exitedByItself).toBe(true);
    expect(outcome.code).toBe(0);
    expect(outcome.report?.samples).toBeGreaterThan(3);
    expect(outcome.report?.resources).toEqual([]);
    // Idle after stop: a handful of wake-ups at most (the event-loop monitor alone makes ~25).
    expect(outcome.report?.wakeups).toBeLessThan(12);
  });

  it('detects monitors left running (control: the profiler is not stopped)', async () => {
    const outcome = await runFixture({ SKIP_STOP: '1' });
    expect(outcome.exitedByItself).toBe(true);
    expect(outcome.report?.wakeups).toBeGreaterThanOrEqual(12);
  });
});
