import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isLoadlightError, sessionSeries, type SessionProfile } from '@loadlight/core';
import { createTestProfiler, moreSamples, sleep, stopTestProfilers } from '@loadlight/core/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import io, { timeIo, trackIoWait } from './index.js';
import { integrate } from './test-utils.js';
import { isTracking } from './waits.js';

/** Every metric's series, dense (sessionSeries), by name. */
const denseSeries = (session: SessionProfile) => Object.fromEntries(Object.keys(session.catalogue).map((name) => [name, sessionSeries(session, name)]));

afterEach(stopTestProfilers);

const MB = 1024 * 1024;
const linux = process.platform === 'linux';

// The metric names are a contract with the rules (core's STANDARD_PATHS): they must not change by accident.
const WAIT = ['io.wait.ms_per_minute', 'io.wait.share_percent', 'io.waits.per_minute', 'io.wait.p95_ms'];
const HOST = [
  'io.disk.read_bytes_per_second',
  'io.disk.write_bytes_per_second',
  'io.net.rx_bytes_per_second',
  'io.net.tx_bytes_per_second',
  'io.cpu.iowait_percent',
];

// On the repository's own file system (gitignored), not os.tmpdir(): /tmp may be a RAM disk.
const repoRoot = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
mkdirSync(path.join(repoRoot, 'test', '.tmp'), { recursive: true });
const scratch = mkdtempSync(path.join(repoRoot, 'test', '.tmp', 'plugin-io-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Sum of a per-minute rate over the session: the events it stands for. */
const perMinuteTotal = (t: number[], values: Array<number | null>) => integrate(t, values) / 60;

describe('io plugin', () => {
  it('declares every metric with a unit, kind and description; host: false leaves the wait metrics', () => {
    const plugin = io();
    expect(plugin.name).toBe('io');
    expect(Object.keys(plugin.metrics ?? {})).toEqual([...WAIT, ...HOST]);
    for (const [name, declaration] of Object.entries(plugin.metrics ?? {})) {
      expect(declaration.kind, name).toBe('gauge');
      expect(declaration.unit, name).toBeTruthy();
      expect(declaration.description.length, name).toBeGreaterThan(20);
    }
    expect(plugin.metrics?.['io.wait.share_percent']?.description).toMatch(/can exceed 100/);
    expect(Object.keys(io({ host: false }).metrics ?? {})).toEqual(WAIT);
  });

  it('rejects a wrong option with a message naming it', () => {
    let error: unknown;
    try {
      io({ hots: false } as never);
    } catch (e) {
      error = e;
    }
    expect(isLoadlightError(error) && error.code).toBe('PLUGIN_OPTIONS_INVALID');
    expect((error as Error).message).toBe('plugin "io" options: unknown option "hots". Expected one of: host. Did you mean "host"?');
    expect(() => io({ host: 'yes' } as never)).toThrow(/"host" must be boolean/);
  });

  it('cannot be listed twice in one profiler', async () => {
    const plugin = io();
    const { profiler } = createTestProfiler([plugin, plugin]);
    await expect(profiler.start()).rejects.toMatchObject({ code: 'PLUGIN_ERROR', plugin: 'io' });
  });

  it('measures real file reads and writes: waits, and the disk bytes written', async () => {
    const { profiler } = createTestProfiler([io()]);
    await profiler.start();
    expect(isTracking()).toBe(true);
    await moreSamples(profiler, 2);
    const file = path.join(scratch, 'data.bin');
    const chunk = Buffer.alloc(MB, 3);
    for (let round = 0; round < 4; round++) {
      // synchronous IO through a function, forced to the disk
      timeIo(() => {
        const fd = openSync(file, 'w');
        for (let i = 0; i < 2; i++) writeSync(fd, chunk);
        fsyncSync(fd);
        closeSync(fd);
      });
      // asynchronous IO through promises
      await timeIo(writeFile(path.join(scratch, `copy-${round}.bin`), await timeIo(readFile(file))));
      await timeIo(() => readFile(file));
    }
    const synchronousCopy = timeIo(() => readFileSync(file));
    expect(synchronousCopy.length).toBe(2 * MB);
    await moreSamples(profiler, 3);
    const session = await profiler.stop();
    expect(isTracking()).toBe(false);
    expect(session.faults).toEqual([]);

    const { t } = session.samples;
    const values = denseSeries(session);
    // 4 rounds of 4 waits, and one more
    expect(perMinuteTotal(t, values['io.waits.per_minute']!)).toBeCloseTo(17, -1);
    expect(Math.max(...values['io.wait.ms_per_minute']!.map((v) => v ?? 0))).toBeGreaterThan(0);
    expect(Math.max(...values['io.wait.p95_ms']!.map((v) => v ?? 0))).toBeGreaterThan(0);
    for (const share of values['io.wait.share_percent']!) expect(share === null || share >= 0).toBe(true);
    if (linux) {
      // 4 x 2 MB forced to the disk by fsync; other writers only add to it
      expect(integrate(t, values['io.disk.write_bytes_per_second']!)).toBeGreaterThanOrEqual(6 * MB);
      for (const name of HOST) {
        expect(session.catalogue[name]?.unavailable, name).toBeUndefined();
        expect(values[name]![0], `${name}: the first tick is the baseline`).toBeNull();
        expect(values[name]!.slice(1).every((v) => typeof v === 'number' && v >= 0), name).toBe(true);
      }
    }
  });

  it('counts known waits at their rate, for two profilers at once', async () => {
    const a = createTestProfiler([io({ host: false })]);
    const b = createTestProfiler([io({ host: false })]);
    await a.profiler.start();
    await b.profiler.start();
    await moreSamples(a.profiler, 1);
    for (let i = 0; i < 300; i++) {
      trackIoWait(2);
      if (i % 50 === 0) await sleep(30);
    }
    await moreSamples(a.profiler, 2);
    await moreSamples(b.profiler, 2);
    const sessions = [await a.profiler.stop(), await b.profiler.stop()];
    for (const session of sessions) {
      const { t } = session.samples;
      const values = denseSeries(session);
      // rates are per minute of the time each tick covered: summed back, the 300 waits (600 ms)
      expect(perMinuteTotal(t, values['io.waits.per_minute']!)).toBeGreaterThan(300 * 0.8);
      expect(perMinuteTotal(t, values['io.waits.per_minute']!)).toBeLessThan(300 * 1.25);
      expect(perMinuteTotal(t, values['io.wait.ms_per_minute']!)).toBeGreaterThan(600 * 0.8);
      expect(perMinuteTotal(t, values['io.wait.ms_per_minute']!)).toBeLessThan(600 * 1.25);
      const p95s = values['io.wait.p95_ms']!.filter((v): v is number => v !== null);
      expect(p95s.length).toBeGreaterThan(0);
      for (const p95 of p95s) expect(p95).toBeCloseTo(2, 1);
    }
  });

  it('a profiler started beside a running one sees only its own waits in its p95, and the first one all of them', async () => {
    const a = createTestProfiler([io({ host: false })]);
    await a.profiler.start();
    await moreSamples(a.profiler, 1);
    for (let i = 0; i < 20; i++) trackIoWait(100); // a runs alone: they are a's only
    const b = createTestProfiler([io({ host: false })]);
    await b.profiler.start();
    for (let i = 0; i < 20; i++) trackIoWait(1);
    await moreSamples(a.profiler, 2);
    await moreSamples(b.profiler, 2);
    const p95s = (session: SessionProfile) => sessionSeries(session, 'io.wait.p95_ms').filter((v): v is number => v !== null);
    const ofA = p95s(await a.profiler.stop());
    const ofB = p95s(await b.profiler.stop());
    expect(ofB.length).toBeGreaterThan(0);
    for (const p95 of ofB) expect(p95).toBeCloseTo(1, 2);
    // the 38th of a's 40 waits is a 100 ms one
    expect(Math.max(...ofA)).toBeCloseTo(100, 0);
  });

  it('warns once about values that are not a wait, and carries on', async () => {
    const { profiler, warnings } = createTestProfiler([io({ host: false })]);
    await profiler.start();
    trackIoWait(Number.NaN);
    trackIoWait(-5);
    trackIoWait(3);
    await moreSamples(profiler, 2);
    trackIoWait(Number.NaN);
    await moreSamples(profiler, 2);
    const session = await profiler.stop();
    expect(warnings).toEqual([
      'trackIoWait() was given values that are not a wait in milliseconds (NaN, negative or over 86400000 ms); they were ignored',
    ]);
    expect(perMinuteTotal(session.samples.t, sessionSeries(session, 'io.waits.per_minute'))).toBeCloseTo(1, 0);
  });
});
