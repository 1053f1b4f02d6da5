import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { makePipeline, STAGE_NAMES } from './workload.mjs';

const PROBE = fileURLToPath(new URL('./probe.mjs', import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-sampler-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function probe(mode: string, durationMs: number): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [PROBE, mode, String(durationMs), dir, '20'], { cwd: dir, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${mode}: ${stderr || error.message}`));
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)!));
    });
  });
}

describe('the workload', () => {
  it('is 20 stages, deterministic, and every stage runs in a frame', async () => {
    expect(STAGE_NAMES).toHaveLength(20);
    expect(new Set(STAGE_NAMES).size).toBe(20);
    const calls = new Map<string, number>();
    const counting = (name: string, fn: Function) =>
      function (this: unknown, ...args: unknown[]) {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        return fn.apply(this, args);
      };
    const a = makePipeline(counting);
    const b = makePipeline((_name, fn) => fn);
    const digestsA: number[] = [];
    const digestsB: number[] = [];
    for (let k = 0; k < 3; k++) digestsA.push(await a(k));
    for (let k = 0; k < 3; k++) digestsB.push(await b(k));
    expect(digestsA).toEqual(digestsB);
    // frames differ from one another
    expect(new Set(digestsA).size).toBe(3);
    for (const name of STAGE_NAMES) expect(calls.get(name), name).toBeGreaterThanOrEqual(3);
  });
});

describe('probe.mjs', () => {
  it('runs the same frames in every case and reports the figures the topic reads', async () => {
    const [none, ours, prom, control] = await Promise.all([probe('none', 1000), probe('loadlight', 1000), probe('prom', 1000), probe('control', 1000)]);
    for (const r of [none, ours, prom, control]) {
      expect(r.frames).toBe(20);
      expect(r.digest).toBe(none.digest);
      expect(r.cpuMs).toBeGreaterThan(0);
      expect(r.frameCpuMs).toBeGreaterThan(0);
      expect(r.mainCpuMs).toBeGreaterThanOrEqual(r.frameCpuMs * 0.9);
      expect(r.threads.main).toBeGreaterThan(0);
    }
    // loadlight saw the 20 modules and every call of them, and its reporters wrote
    expect(ours.modules).toBe(20);
    expect(ours.moduleCalls).toBe(20 * 20);
    expect(ours.overhead.ticks).toBeGreaterThanOrEqual(1);
    const files = readdirSync(dir);
    const session = files.find((f) => f.endsWith('.json'));
    expect(session).toBeDefined();
    expect(JSON.parse(readFileSync(path.join(dir, session!), 'utf8')).modules).toHaveLength(20);
    const log = files.find((f) => f.startsWith('console-'));
    expect(readFileSync(path.join(dir, log!), 'utf8')).toContain('[loadlight]');
    // the control runs no profiler, as the baseline does
    expect(control.mode).toBe('control');
    expect(control.overhead).toBeUndefined();
    expect(control.warnings).toEqual([]);
    // prom-client scraped its registry
    expect(prom.warnings.join(' ')).toMatch(/prom-client: [1-9]\d* characters scraped/);
  }, 60_000);
});
