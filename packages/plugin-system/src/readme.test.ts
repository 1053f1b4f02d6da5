import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const runner = fileURLToPath(new URL('./fixtures/run-ts.mjs', import.meta.url));

describe('README', () => {
  it('opens with an example that runs', async () => {
    const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toContain("from '@loadlight/plugin-system'");
    // Run against this package's sources (the built package may be stale while testing).
    const file = fileURLToPath(new URL('./fixtures/.readme-example.ts', import.meta.url));
    writeFileSync(file, example!.replace("from '@loadlight/plugin-system'", "from '../index.js'"));
    try {
      const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [runner, file], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.on('error', reject);
        child.on('close', (exitCode) => {
          clearTimeout(timer);
          resolve({ code: exitCode, stdout: out, stderr: err });
        });
      });
      expect(stderr).not.toMatch(/Error/);
      expect(code).toBe(0);
      for (const name of ['system.cpu.percent', 'process.memory.rss_mb', 'process.event_loop.delay_p99_ms', 'module.worker.cpu_percent']) {
        expect(stdout).toMatch(new RegExp(`^${name.replace(/\./g, '\\.')} \\d+\\.\\d$`, 'm'));
      }
      // The warning the README promises when the worker ends first.
      expect(stderr).toMatch(/watched process "worker" \(pid \d+\) is not running/);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
