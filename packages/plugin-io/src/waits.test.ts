import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RecordingWriter, sleep } from '@loadlight/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { manualClock } from './test-utils.js';
import { isTracking, timeIo, trackIoWait, WaitReader } from './waits.js';

const readers: WaitReader[] = [];

type Waits = typeof import('./waits.js');

/** A reader on a clock the test moves, started at 0 (`from`: another copy of this module). */
function startReader(from: Pick<Waits, 'WaitReader'> = { WaitReader }) {
  const clock = manualClock();
  const reader = new from.WaitReader(clock.now);
  readers.push(reader);
  reader.start();
  const read = (): Record<string, number | null> => {
    const w = new RecordingWriter();
    const rejected = reader.read(w);
    return { ...Object.fromEntries(w.values), rejected };
  };
  return { reader, clock, read };
}

afterEach(() => {
  for (const reader of readers.splice(0)) reader.stop();
});

describe('trackIoWait', () => {
  it('gives rates per minute, the share of wall time and the p95 from known waits', () => {
    const { clock, read } = startReader();
    for (let i = 0; i < 30; i++) trackIoWait(10);
    trackIoWait(100);
    clock.advance(60_000);
    const first = read();
    expect(first['io.wait.ms_per_minute']).toBeCloseTo(400, 9); // 30 x 10 + 100 ms in one minute
    expect(first['io.wait.share_percent']).toBeCloseTo((400 / 60_000) * 100, 9);
    expect(first['io.waits.per_minute']).toBeCloseTo(31, 9);
    // nearest rank: the 30th of 31 waits is a 10 ms one; the histogram keeps 3 significant digits
    expect(first['io.wait.p95_ms']).toBeCloseTo(10, 1);
    expect(first.rejected).toBe(0);

    // every read covers the time since the previous one: 20 waits of 1.5 ms in 30 s
    for (let i = 0; i < 20; i++) trackIoWait(1.5);
    clock.advance(30_000);
    const second = read();
    expect(second['io.wait.ms_per_minute']).toBeCloseTo(60, 9);
    expect(second['io.waits.per_minute']).toBeCloseTo(40, 9);
    expect(second['io.wait.p95_ms']).toBeCloseTo(1.5, 2);

    clock.advance(1000);
    expect(read()).toEqual({
      'io.wait.ms_per_minute': 0,
      'io.wait.share_percent': 0,
      'io.waits.per_minute': 0,
      'io.wait.p95_ms': null, // no wait ended: no distribution
      rejected: 0,
    });
  });

  it('adds up waits in flight together, so the share can exceed 100%', () => {
    const { clock, read } = startReader();
    // three requests of 1 s each, in parallel, over one second
    for (let i = 0; i < 3; i++) trackIoWait(1000);
    clock.advance(1000);
    expect(read()['io.wait.share_percent']).toBeCloseTo(300, 9);
  });

  it('keeps sub-millisecond waits apart in the p95', () => {
    const { clock, read } = startReader();
    for (let i = 0; i < 100; i++) trackIoWait(0.05);
    trackIoWait(0); // counted, recorded as the smallest value the histogram holds (1 us)
    clock.advance(1000);
    const values = read();
    expect(values['io.wait.p95_ms']).toBeCloseTo(0.05, 4);
    expect(values['io.waits.per_minute']).toBeCloseTo(101 * 60, 6);
  });

  it('ignores values that are not a wait in ms, and counts them for a warning', () => {
    const { clock, read } = startReader();
    for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY, 1e12, '5' as unknown as number, undefined as unknown as number]) trackIoWait(bad);
    trackIoWait(2);
    clock.advance(60_000);
    expect(read()).toMatchObject({ 'io.wait.ms_per_minute': 2, 'io.waits.per_minute': 1, rejected: 6 });
  });

  it('is a no-op with no profiler running: nothing is counted for a reader started later', () => {
    expect(isTracking()).toBe(false);
    for (let i = 0; i < 1000; i++) trackIoWait(10);
    const { clock, read, reader } = startReader();
    expect(isTracking()).toBe(true);
    clock.advance(1000);
    expect(read()).toMatchObject({ 'io.waits.per_minute': 0, 'io.wait.p95_ms': null });
    reader.stop();
    expect(isTracking()).toBe(false);
  });

  it('two readers (two profilers) both see every wait; reading one does not reset the other', () => {
    const a = startReader();
    const b = startReader();
    for (let i = 0; i < 10; i++) trackIoWait(4);
    a.clock.advance(60_000);
    expect(a.read()).toMatchObject({ 'io.wait.ms_per_minute': 40, 'io.waits.per_minute': 10 });
    for (let i = 0; i < 5; i++) trackIoWait(8);
    b.clock.advance(60_000);
    const fromB = b.read();
    expect(fromB).toMatchObject({ 'io.wait.ms_per_minute': 80, 'io.waits.per_minute': 15 });
    expect(fromB['io.wait.p95_ms']).toBeCloseTo(8, 1);
    // one stops: the other still counts
    a.reader.stop();
    trackIoWait(3);
    b.clock.advance(60_000);
    expect(b.read()).toMatchObject({ 'io.wait.ms_per_minute': 3, 'io.waits.per_minute': 1 });
  });

  it('a reader started later sees only the waits from its start in its p95', () => {
    const a = startReader();
    for (let i = 0; i < 10; i++) trackIoWait(100);
    const b = startReader();
    for (let i = 0; i < 10; i++) trackIoWait(1);
    b.clock.advance(60_000);
    const fromB = b.read();
    expect(fromB).toMatchObject({ 'io.waits.per_minute': 10 });
    expect(fromB['io.wait.p95_ms']).toBeCloseTo(1, 2);
    a.clock.advance(60_000);
    const fromA = a.read();
    expect(fromA).toMatchObject({ 'io.waits.per_minute': 20 });
    expect(fromA['io.wait.p95_ms']).toBeCloseTo(100, 0);
  });

  it('writes nulls once stopped', () => {
    const { clock, read, reader } = startReader();
    reader.stop();
    clock.advance(1000);
    expect(read()).toMatchObject({ 'io.wait.ms_per_minute': null, 'io.wait.share_percent': null, 'io.waits.per_minute': null, 'io.wait.p95_ms': null });
  });
});

describe('wait histograms per reader', () => {
  it('a reader running alone holds no histogram of its own; beside another it gets one, and drops it once alone and read', () => {
    const a = startReader();
    trackIoWait(10);
    trackIoWait(30);
    expect(a.reader.ownHistogram).toBeNull();
    a.clock.advance(1000);
    const first = a.read();
    expect(first['io.waits.per_minute']).toBeCloseTo(120, 9);
    expect(first['io.wait.p95_ms']).toBeCloseTo(30, 1);
    expect(a.reader.ownHistogram).toBeNull();
    // read and emptied: the next read has no distribution
    a.clock.advance(1000);
    expect(a.read()['io.wait.p95_ms']).toBeNull();

    trackIoWait(50); // before b starts: a's alone
    const b = startReader();
    expect(a.reader.ownHistogram?.count).toBe(1);
    trackIoWait(70);
    b.clock.advance(1000);
    const ofB = b.read();
    expect(ofB['io.waits.per_minute']).toBeCloseTo(60, 9);
    expect(ofB['io.wait.p95_ms']).toBeCloseTo(70, 1);
    expect(b.reader.ownHistogram).not.toBeNull();
    trackIoWait(90);
    b.reader.stop();
    expect(b.reader.ownHistogram).toBeNull();

    // a saw all three (50 before b, 70 and 90 while b ran), through its own histogram
    expect(a.reader.ownHistogram?.count).toBe(3);
    a.clock.advance(1000);
    const ofA = a.read();
    expect(ofA['io.waits.per_minute']).toBeCloseTo(180, 9);
    expect(ofA['io.wait.p95_ms']).toBeCloseTo(90, 1);
    expect(a.reader.ownHistogram).toBeNull();
    trackIoWait(20);
    a.clock.advance(1000);
    expect(a.read()['io.wait.p95_ms']).toBeCloseTo(20, 1);
  });

  it('two readers at once each see only the waits since their own previous read', () => {
    const a = startReader();
    const b = startReader();
    for (let i = 0; i < 20; i++) trackIoWait(40);
    a.clock.advance(1000);
    expect(a.read()['io.wait.p95_ms']).toBeCloseTo(40, 1); // a's own histogram, read and emptied
    expect(a.reader.ownHistogram?.count).toBe(0);
    for (let i = 0; i < 20; i++) trackIoWait(2);
    a.clock.advance(1000);
    b.clock.advance(1000);
    // a: only the 2 ms waits since its read; b: all 40 since its start (half of 40 ms)
    expect(a.read()['io.wait.p95_ms']).toBeCloseTo(2, 2);
    expect(b.read()['io.wait.p95_ms']).toBeCloseTo(40, 1);
    expect(a.read()['io.wait.p95_ms']).toBeNull();
  });

  it('a reader left alone with an emptied histogram of its own lets it go at its next read', () => {
    const a = startReader();
    const b = startReader();
    trackIoWait(40);
    a.clock.advance(1000);
    expect(a.read()['io.wait.p95_ms']).toBeCloseTo(40, 1);
    expect(a.reader.ownHistogram?.count).toBe(0);
    b.reader.stop(); // nothing pending: nothing handed on
    trackIoWait(60);
    a.clock.advance(1000);
    const alone = a.read();
    expect(alone['io.waits.per_minute']).toBeCloseTo(60, 9);
    expect(alone['io.wait.p95_ms']).toBeCloseTo(60, 1);
    expect(a.reader.ownHistogram).toBeNull();
  });

  it('a reader that stops alone drops the waits pending, and one started later does not see them', () => {
    const a = startReader();
    trackIoWait(500);
    a.reader.stop();
    expect(a.reader.ownHistogram).toBeNull();
    const b = startReader();
    trackIoWait(5);
    b.clock.advance(1000);
    const values = b.read();
    expect(values['io.waits.per_minute']).toBeCloseTo(60, 9);
    expect(values['io.wait.p95_ms']).toBeCloseTo(5, 2);
  });

  it('a stopped reader reads nothing from the shared histogram: the running one keeps its waits', () => {
    const a = startReader();
    const b = startReader();
    b.reader.stop();
    trackIoWait(25);
    b.clock.advance(1000);
    expect(b.read()['io.wait.p95_ms']).toBeNull();
    a.clock.advance(1000);
    expect(a.read()['io.wait.p95_ms']).toBeCloseTo(25, 1);
  });
});

describe('one hub for every copy of the module (the ESM and CJS builds)', () => {
  /** A second, separately evaluated copy of waits.ts, as a program that loads both builds has. */
  async function secondCopy(): Promise<Waits> {
    vi.resetModules();
    const copy = await import('./waits.js');
    expect(copy.trackIoWait).not.toBe(trackIoWait);
    return copy;
  }

  it('turns every copy on and off together, and each reader sees the waits tracked through either', async () => {
    const copy = await secondCopy();
    expect([isTracking(), copy.isTracking()]).toEqual([false, false]);

    // a reader of this copy: waits tracked through the other one reach it
    const here = startReader();
    expect([isTracking(), copy.isTracking()]).toEqual([true, true]);
    for (let i = 0; i < 3; i++) copy.trackIoWait(50);
    copy.timeIo(() => 'sync');
    trackIoWait(10);
    here.clock.advance(60_000);
    const seen = here.read();
    expect(seen['io.waits.per_minute']).toBe(5);
    expect(seen['io.wait.ms_per_minute']).toBeGreaterThanOrEqual(160);
    expect(seen['io.wait.p95_ms']).toBeCloseTo(50, 1);
    here.reader.stop();
    expect([isTracking(), copy.isTracking()]).toEqual([false, false]);

    // and the other way round, after a start and stop
    const there = startReader(copy);
    expect([isTracking(), copy.isTracking()]).toEqual([true, true]);
    trackIoWait(7);
    copy.trackIoWait(7);
    there.clock.advance(60_000);
    expect(there.read()).toMatchObject({ 'io.wait.ms_per_minute': 14, 'io.waits.per_minute': 2 });
    there.reader.stop();
    trackIoWait(7);
    copy.trackIoWait(7);
    expect([isTracking(), copy.isTracking()]).toEqual([false, false]);
  });

  it('two readers of different copies both see every wait', async () => {
    const copy = await secondCopy();
    const a = startReader();
    const b = startReader(copy);
    for (let i = 0; i < 4; i++) trackIoWait(5);
    for (let i = 0; i < 4; i++) copy.trackIoWait(5);
    a.clock.advance(60_000);
    b.clock.advance(60_000);
    for (const values of [a.read(), b.read()]) {
      expect(values).toMatchObject({ 'io.wait.ms_per_minute': 40, 'io.waits.per_minute': 8 });
      expect(values['io.wait.p95_ms']).toBeCloseTo(5, 2);
    }
    expect(a.reader.ownHistogram).not.toBeNull();
    expect(b.reader.ownHistogram).not.toBeNull();
    // the first copy's reader stops: the second still counts, through both copies
    a.reader.stop();
    expect([isTracking(), copy.isTracking()]).toEqual([true, true]);
    trackIoWait(3);
    b.clock.advance(60_000);
    expect(b.read()).toMatchObject({ 'io.wait.ms_per_minute': 3, 'io.waits.per_minute': 1, 'io.wait.p95_ms': expect.closeTo(3, 2) });
    // alone now, it reads the one pending histogram both copies record into
    expect(b.reader.ownHistogram).toBeNull();
    copy.trackIoWait(9);
    b.clock.advance(60_000);
    expect(b.read()['io.wait.p95_ms']).toBeCloseTo(9, 1);
    expect(b.reader.ownHistogram).toBeNull();
  });

  it('the built packages: waits tracked through require() reach a profiler started through import', () => {
    // A fresh process, so that the two builds are what a program gets from `import` and
    // `require`. ms_per_minute / waits_per_minute is the mean wait, exact whatever the tick took:
    // 30 waits of 10 ms (ESM) and 10 of 50 ms (CJS) give 20 ms, one build alone 10 or 50.
    const script = `
      import { createRequire } from 'node:module';
      import { Profiler, sessionSeries } from '@loadlight/core';
      import * as esm from '@loadlight/plugin-io';
      const cjs = createRequire(import.meta.url)('@loadlight/plugin-io');
      if (cjs.trackIoWait === esm.trackIoWait) throw new Error('one build loaded, not two');
      const means = [];
      for (const [plugin, tracks] of [[esm, [[esm, 10, 30], [cjs, 50, 10]]], [cjs, [[cjs, 10, 30], [esm, 50, 10]]]]) {
        const profiler = new Profiler({ plugins: [plugin.default({ host: false })], reporters: [], rules: [], sampleIntervalMs: 3600000 }, { handleExit: false });
        await profiler.start();
        for (const [build, ms, times] of tracks) for (let i = 0; i < times; i++) build.trackIoWait(ms);
        // stop() takes its last sample (the one with these waits) once 100 ms passed since start's
        await new Promise((resolve) => setTimeout(resolve, 250));
        const session = await profiler.stop();
        const series = (name) => sessionSeries(session, name);
        const at = series('io.waits.per_minute').findLastIndex((v) => v > 0);
        means.push(series('io.wait.ms_per_minute')[at] / series('io.waits.per_minute')[at], series('io.wait.p95_ms')[at]);
      }
      process.stdout.write(JSON.stringify(means));
    `;
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd, encoding: 'utf8', timeout: 60_000 });
    expect(result.stderr).toBe('');
    const [esmMean, esmP95, cjsMean, cjsP95] = JSON.parse(result.stdout) as number[];
    // Both rates are held by the store at its resolution (1 us per minute, 0.01 waits per minute).
    expect(esmMean).toBeCloseTo(20, 4);
    expect(cjsMean).toBeCloseTo(20, 4);
    // the 38th of 40 waits is a 50 ms one
    expect(esmP95).toBeCloseTo(50, 1);
    expect(cjsP95).toBeCloseTo(50, 1);
  });
});

describe('timeIo', () => {
  const waitsSeen = (read: () => Record<string, unknown>, clock: { advance: (ms: number) => void }) => {
    clock.advance(60_000);
    return read()['io.waits.per_minute'];
  };

  it('returns a synchronous function\'s value as it is, and records the wait', () => {
    const { clock, read } = startReader();
    const value = { rows: 3 };
    const result = timeIo(() => value);
    expect(result).toBe(value); // not a promise
    expect(waitsSeen(read, clock)).toBe(1);
  });

  it('rethrows a synchronous throw unchanged, and records the wait', () => {
    const { clock, read } = startReader();
    const error = new Error('EACCES');
    let caught: unknown;
    try {
      timeIo(() => {
        throw error;
      });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(error);
    expect(waitsSeen(read, clock)).toBe(1);
  });

  it('resolves to a promise\'s value, and rejects with its reason unchanged', async () => {
    const { clock, read } = startReader();
    const value = Buffer.from('hud');
    expect(await timeIo(Promise.resolve(value))).toBe(value);
    const reason = Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    await expect(timeIo(Promise.reject(reason))).rejects.toBe(reason);
    await expect(timeIo(() => Promise.reject(reason))).rejects.toBe(reason);
    expect(await timeIo(async () => 42)).toBe(42);
    // a thenable that is not a native promise
    expect(await timeIo({ then: (resolve: (v: string) => void) => resolve('thenable') } as PromiseLike<string>)).toBe('thenable');
    expect(waitsSeen(read, clock)).toBe(5);
  });

  it('measures from the call to the settlement', async () => {
    const { clock, read } = startReader();
    await timeIo(sleep(60));
    await timeIo(() => sleep(60));
    clock.advance(60_000);
    const values = read();
    expect(values['io.waits.per_minute']).toBe(2);
    // timers may fire a little early (1 ms rounding) and late on a loaded machine
    expect(values['io.wait.ms_per_minute']).toBeGreaterThanOrEqual(2 * 58);
    expect(values['io.wait.p95_ms']).toBeGreaterThanOrEqual(58);
  });

  it('with no profiler running, calls the function or gives back the same promise', async () => {
    expect(isTracking()).toBe(false);
    const promise = Promise.resolve(1);
    expect(timeIo(promise)).toBe(promise);
    expect(timeIo(() => 'sync')).toBe('sync');
    const error = new Error('x');
    expect(() =>
      timeIo(() => {
        throw error;
      }),
    ).toThrow(error);
  });

  it('a wait that ends once no profiler runs is not counted', async () => {
    const first = startReader();
    let release!: () => void;
    const pending = timeIo(new Promise<void>((resolve) => (release = resolve)));
    first.reader.stop();
    release();
    await pending;
    const { clock, read } = startReader();
    expect(waitsSeen(read, clock)).toBe(0);
  });
});
