// Fault isolation: faults injected into every hook a plugin can tap. Whatever a plugin does,
// sampling goes on, `stop()` resolves with a complete session, each fault is counted under the
// plugin's name and hook, and the other plugins do not notice.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { withTimeout } from './hooks.js';
import { definePlugin } from './plugin.js';
import { ruleFile } from './rules/test-support.js';
import { Profiler } from './profiler.js';
import { sessionSeries, validateSession } from './session.js';
import { blockLoop, createTestProfiler, sleep, stopTestProfilers, until, type TestProfiler } from './testing.js';
import type { LoadlightConfig, Plugin, SessionProfile } from './types.js';

const INTERVAL = 20;
afterEach(stopTestProfilers);

/** A profiler over `plugins` and `reporters`, its warnings kept. */
function make(plugins: Plugin[], reporters: Plugin[], extra: LoadlightConfig = {}): TestProfiler {
  return createTestProfiler(plugins, { reporters, sampleIntervalMs: INTERVAL, collectTimeoutMs: 15, lifecycleTimeoutMs: 150, ...extra });
}

/**
 * A rule file whose alert flips at every tick (`toggle.value` is 1 on odd ticks), so that the
 * `evaluated` and `alert` hooks are called at every tick.
 */
function toggleRules(): string {
  return ruleFile(
    [
      {
        name: 'toggle-on',
        description: 'the toggle is on',
        conditions: { all: [{ fact: 'toggle', path: '$.value', operator: 'equal', value: 1 }] },
        event: { type: 'alert', params: { id: 'toggle', severity: 'info', message: 'toggle is {{toggle.value}}' } },
      },
    ],
    'toggle.json',
  );
}

/** The healthy neighbours: a source whose series must stay 1, 2, 3..., observers and an exporter. */
function witness() {
  let n = 0;
  const seen = { collect: 0, sample: 0, evaluated: 0, alert: 0, report: 0, stop: 0, start: 0, exported: null as SessionProfile | null };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-export-'));
  const file = path.join(dir, 'session.json');
  const source = definePlugin({
    name: 'witness',
    metrics: {
      'witness.value': { unit: 'count', kind: 'gauge', description: 'one more each tick' },
      'toggle.value': { unit: 'count', kind: 'gauge', description: '1 on odd ticks', aggregate: 'last' },
    },
    apply(p) {
      p.hooks.start.tap('witness', () => void seen.start++);
      p.hooks.collect.tap('witness', (w) => {
        seen.collect++;
        n++;
        w.set('witness.value', n);
        w.set('toggle.value', n % 2);
      });
      p.hooks.sample.tap('witness', () => void seen.sample++);
      p.hooks.evaluated.tap('witness', () => void seen.evaluated++);
      p.hooks.alert.tap('witness', () => void seen.alert++);
      p.hooks.stop.tap('witness', () => void seen.stop++);
    },
  });
  const reporter = definePlugin({
    name: 'witness-reporter',
    apply(p) {
      p.hooks.report.tap('witness-reporter', () => void seen.report++);
      p.hooks.export.tapPromise('witness-reporter', async (session) => {
        seen.exported = session;
        writeFileSync(file, JSON.stringify(session));
      });
    },
  });
  return { source, reporter, seen, file };
}

type HookName = 'start' | 'collect' | 'sample' | 'evaluated' | 'alert' | 'report' | 'stop' | 'export';
const PER_TICK: HookName[] = ['collect', 'sample', 'evaluated', 'alert', 'report'];

/** Any hook, as a plugin taps it (a sync hook has no working tapPromise or tapAsync). */
interface Tappable {
  tap(name: string, fn: (...args: never[]) => unknown): void;
  tapPromise(name: string, fn: (...args: never[]) => unknown): void;
  tapAsync(name: string, fn: (...args: never[]) => unknown): void;
}

/** How a fault is injected; `fault` says what the session must count (null: nothing, harmless). */
interface Injection {
  kind: string;
  hooks: HookName[];
  fault: RegExp | null;
  tap(hook: Tappable, name: string): void;
}

const never = () => new Promise<never>(() => undefined);
const throwingThenable = () => ({
  then() {
    throw new Error('injected: then() threw');
  },
});
const thenGetterThrows = () =>
  Object.defineProperty({}, 'then', {
    get() {
      throw new Error('injected: the then getter threw');
    },
  });

const ASYNC: HookName[] = ['start', 'collect', 'report', 'stop', 'export'];
const SYNC: HookName[] = ['sample', 'evaluated', 'alert'];
const ALL: HookName[] = [...ASYNC, ...SYNC];

const INJECTIONS: Injection[] = [
  {
    kind: 'throws',
    hooks: ALL,
    fault: /^injected: throw$/,
    tap: (hook, name) =>
      hook.tap(name, () => {
        throw new Error('injected: throw');
      }),
  },
  {
    kind: 'throws a non-Error',
    hooks: ALL,
    fault: /^non-error thrown: \{"weird":true\}$/,
    tap: (hook, name) =>
      hook.tap(name, () => {
        throw { weird: true };
      }),
  },
  {
    kind: 'rejects (tapPromise)',
    hooks: ASYNC,
    fault: /^injected: rejection$/,
    tap: (hook, name) => hook.tapPromise(name, () => Promise.reject(new Error('injected: rejection'))),
  },
  {
    kind: 'rejects (an async observer)',
    hooks: ALL,
    fault: /^injected: async rejection$/,
    tap: (hook, name) =>
      hook.tap(name, async () => {
        throw new Error('injected: async rejection');
      }),
  },
  {
    kind: 'calls back with an error (tapAsync)',
    hooks: ASYNC,
    fault: /^injected: callback error$/,
    tap: (hook, name) => hook.tapAsync(name, (...args: unknown[]) => (args.at(-1) as (e: Error) => void)(new Error('injected: callback error'))),
  },
  {
    kind: 'hangs (a promise that never settles)',
    hooks: ALL,
    // Sync hooks wait for nothing: a never-settling promise from an observer is no fault.
    fault: /did not finish within \d+ ms/,
    tap: (hook, name) => hook.tap(name, never),
  },
  {
    kind: 'hangs (a callback never called)',
    hooks: ASYNC,
    fault: /did not finish within \d+ ms/,
    tap: (hook, name) => hook.tapAsync(name, () => undefined),
  },
  {
    kind: 'returns a thenable whose then() throws',
    hooks: ALL,
    fault: /^injected: then\(\) threw$/,
    tap: (hook, name) => hook.tap(name, throwingThenable),
  },
  {
    kind: 'returns an object whose then getter throws',
    hooks: ALL,
    fault: /^injected: the then getter threw$/,
    tap: (hook, name) => hook.tap(name, thenGetterThrows),
  },
  {
    kind: 'returns garbage, not a promise, from tapPromise',
    hooks: ASYNC,
    fault: /^tapPromise tap returned object, not a promise$/,
    tap: (hook, name) => hook.tapPromise(name, () => ({ not: 'a promise' })),
  },
  {
    kind: 'returns garbage from a plain tap (ignored: tap() may return anything)',
    hooks: ALL,
    fault: null,
    tap: (hook, name) => hook.tap(name, () => ({ then: 42, valueOf: NaN })),
  },
];

/**
 * Sync hooks wait on nothing: a promise that never settles there is no fault (nothing is
 * blocked). A sync tap that hangs the thread itself (an endless loop) cannot be interrupted
 * in-process, in any hook: see 'a tap that blocks the thread' for what can be tested.
 */
function expectedFault(injection: Injection, hook: HookName): RegExp | null {
  if (injection.kind.startsWith('hangs') && SYNC.includes(hook)) return null;
  return injection.fault;
}

const CASES = INJECTIONS.flatMap((injection) => injection.hooks.map((hook) => [hook, injection.kind, injection] as const));

/** Time between consecutive samples, in ms. */
function gaps(session: SessionProfile): number[] {
  const t = session.samples.t;
  return t.slice(1).map((v, i) => v - t[i]!);
}

/** What the tests measured, printed with LOADLIGHT_FAULT_FIGURES=1 (for docs/reliability.md). */
const figures = { cases: 0, faultyCases: 0, faultsCounted: 0, samples: 0, maxGapMs: 0, lateGaps: 0, gapsMs: { faulty: [] as number[], clean: [] as number[] } };
afterAll(() => {
  if (!process.env.LOADLIGHT_FAULT_FIGURES) return;
  const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];
  const summary = (values: number[]) => ({ n: values.length, p50: quantile(values, 0.5), p99: quantile(values, 0.99), max: Math.max(...values) });
  const { gapsMs, ...rest } = figures;
  console.log(`fault figures: ${JSON.stringify({ ...rest, gapsMs: { faulty: summary(gapsMs.faulty), clean: summary(gapsMs.clean) } })}`);
});

describe('a plugin that faults in a hook', () => {
  it.each(CASES)('%s: %s', async (hook, _kind, injection) => {
    const { source, reporter, seen, file } = witness();
    const faulty = definePlugin({
      name: 'faulty',
      apply(p) {
        injection.tap(p.hooks[hook] as never, 'faulty');
      },
    });
    // A reporter's hooks: the faulty plugin is listed as a reporter, the way it would be.
    const asReporter = hook === 'report' || hook === 'export';
    const { profiler, warnings } = make(asReporter ? [source] : [source, faulty], asReporter ? [reporter, faulty] : [reporter], { rules: [toggleRules()] });
    figures.cases++;

    await profiler.start();
    // Sampling continues: ticks keep coming, every hook of the neighbours keeps being called.
    await until(() => seen.collect >= 12 && seen.alert >= 6 && seen.report >= 6, 'ticks, evaluations and reports to go on');
    const session = await profiler.stop();
    validateSession(session);

    // The neighbours did not notice.
    const values = sessionSeries(session, 'witness.value');
    expect(values).toEqual(values.map((_, i) => i + 1));
    expect(seen.start).toBe(1);
    expect(seen.stop).toBe(1);
    expect(seen.sample).toBe(session.samples.t.length);
    expect(seen.exported).toBe(session);
    expect(JSON.parse(readFileSync(file, 'utf8')).sessionId).toBe(session.sessionId);
    expect(session.alerts.length).toBeGreaterThanOrEqual(6);

    // Ticks stay on schedule: the samples keep their phase (skipped ticks would show as gaps).
    const late = gaps(session).filter((gap) => gap > INTERVAL * 3);
    figures.samples += session.samples.t.length;
    figures.maxGapMs = Math.max(figures.maxGapMs, ...gaps(session));
    figures.lateGaps += late.length;
    expect(late.length).toBeLessThanOrEqual(2); // a loaded machine may delay a tick or two

    const expected = expectedFault(injection, hook);
    // between samples, the final one of stop() left out (it is off the schedule)
    figures.gapsMs[expected ? 'faulty' : 'clean'].push(...gaps(session).slice(0, -1));
    if (expected) figures.faultyCases++;
    const faults = session.faults.filter((f) => f.plugin === 'faulty');
    if (expected === null) {
      expect(session.faults).toEqual([]);
      expect(warnings).toEqual([]);
      return;
    }
    expect(faults).toHaveLength(1);
    const fault = faults[0]!;
    figures.faultsCounted += fault.count;
    expect(fault.hook).toBe(hook);
    expect(fault.message).toMatch(expected);
    expect(session.faults.filter((f) => f.plugin !== 'faulty')).toEqual([]);
    const mine = warnings.filter((w) => w.includes('"faulty"'));
    if (PER_TICK.includes(hook)) {
      // Failed at every call: disabled after the 5th, with one more warning, then never called again.
      expect(fault.count).toBe(5);
      expect(fault.disabledAt).toBeGreaterThanOrEqual(fault.firstAt);
      expect(mine).toHaveLength(2);
      expect(mine[1]).toMatch(new RegExp(`^plugin "faulty" disabled in ${hook} after 5 failures in a row`));
    } else {
      expect(fault.count).toBe(1);
      expect(fault.disabledAt).toBeUndefined();
      expect(mine).toHaveLength(1);
    }
    expect(mine[0]).toMatch(new RegExp(`^plugin "faulty" failed in ${hook}: `));
    expect(warnings.filter((w) => !w.includes('"faulty"'))).toEqual([]);
  });
});

describe('a tap that blocks the thread', () => {
  // A synchronous block cannot be interrupted in-process (no hook can bound it): what the
  // profiler can do is not pile up the ticks it missed, and go on once the block ends.
  it('delays the ticks it blocks, which are skipped rather than run in a burst, then sampling resumes', async () => {
    let blocked = false;
    const blocking = definePlugin({
      name: 'blocking',
      apply(p) {
        p.hooks.sample.tap('blocking', () => {
          if (p.store.size === 5 && !blocked) {
            blocked = true;
            blockLoop(INTERVAL * 10);
          }
        });
      },
    });
    const { source, reporter } = witness();
    const { profiler, warnings } = make([source, blocking], [reporter]);
    await profiler.start();
    await until(() => blocked && profiler.store.size >= 15, 'sampling to resume');
    const session = await profiler.stop();
    validateSession(session);
    const long = gaps(session).filter((gap) => gap >= INTERVAL * 8);
    expect(long).toHaveLength(1); // the block, once; no burst of catch-up ticks after it
    // the missed ticks are not replayed: at most one sample per interval (and the final one)
    const t = session.samples.t;
    expect(t.length).toBeLessThanOrEqual((t.at(-1)! - t[0]!) / INTERVAL + 2);
    expect(session.faults).toEqual([]);
    expect(warnings).toEqual([]);
  });
});

describe('a collect tap that writes garbage', () => {
  it('has each bad write dropped and counted, its good writes kept, and is not disabled for it', async () => {
    let calls = 0;
    let previous: { set(name: unknown, value: unknown): void } | null = null;
    const sloppy = definePlugin({
      name: 'sloppy',
      metrics: {
        'sloppy.good': { unit: 'count', kind: 'gauge', description: 'written right' },
        'sloppy.nan': { unit: 'count', kind: 'gauge', description: 'NaN: not measured' },
        'sloppy.inf': { unit: 'count', kind: 'gauge', description: 'Infinity: not measured' },
        'sloppy.bad': { unit: 'count', kind: 'gauge', description: 'only garbage is written here' },
      },
      apply(p) {
        p.hooks.collect.tap('sloppy', (w) => {
          calls++;
          const set = w.set.bind(w) as (name: unknown, value: unknown) => void;
          set('sloppy.bad', 'seven');
          set('sloppy.bad', { value: 7 });
          set('sloppy.bad', 7n);
          set('sloppy.undeclared', 1);
          set(Symbol('name'), 1);
          set('sloppy.nan', NaN);
          set('sloppy.inf', calls % 2 ? Infinity : -Infinity);
          set('sloppy.good', calls);
          // the writer of the last tick, after its tap finished
          previous?.set('sloppy.good', -1);
          previous = w as never;
        });
      },
    });
    const { source, reporter } = witness();
    const { profiler, warnings } = make([source, sloppy], [reporter]);
    await profiler.start();
    await until(() => calls >= 12, '12 ticks');
    const session = await profiler.stop();
    validateSession(session);

    expect(sessionSeries(session, 'sloppy.good')).toEqual(Array.from({ length: calls }, (_, i) => i + 1));
    expect(sessionSeries(session, 'sloppy.nan').every((v) => v === null)).toBe(true);
    expect(sessionSeries(session, 'sloppy.inf').every((v) => v === null)).toBe(true);
    expect(sessionSeries(session, 'sloppy.bad').every((v) => v === null)).toBe(true);
    const values = sessionSeries(session, 'witness.value');
    expect(values).toEqual(values.map((_, i) => i + 1));

    // five bad writes per call, and a late one from the second call on
    expect(session.faults).toEqual([expect.objectContaining({ plugin: 'sloppy', hook: 'collect', count: calls * 5 + (calls - 1) })]);
    expect(session.faults[0]!.message).toBe('wrote metric "sloppy.good" after its collect tap finished or timed out; the value is dropped');
    expect(session.faults[0]!.disabledAt).toBeUndefined();
    expect(warnings).toEqual(['plugin "sloppy" failed in collect: wrote string to metric "sloppy.bad"; expected a number or null (further failures are counted in the session\'s faults)']);
  });

  it('keeps the writes of a tapPromise tap that returns no promise (the return is its fault), not those of a tap that throws', async () => {
    const calls = { garbage: 0, throws: 0 };
    const odd = definePlugin({
      name: 'odd',
      metrics: {
        'odd.kept': { unit: 'count', kind: 'gauge', description: 'written, then garbage returned' },
        'odd.dropped': { unit: 'count', kind: 'gauge', description: 'written, then thrown' },
      },
      apply(p) {
        p.hooks.collect.tapPromise('odd-garbage', ((w: { set(name: string, value: number): void }) => {
          w.set('odd.kept', ++calls.garbage);
          return { not: 'a promise' };
        }) as never);
        p.hooks.collect.tapPromise('odd-throws', (w) => {
          w.set('odd.dropped', ++calls.throws);
          throw new Error('injected: throw after writing');
        });
      },
    });
    const { source, reporter } = witness();
    const { profiler } = make([source, odd], [reporter], { maxConsecutiveFaults: 0 });
    await profiler.start();
    await until(() => calls.garbage >= 8, '8 ticks');
    const session = await profiler.stop();
    validateSession(session);
    expect(sessionSeries(session, 'odd.kept')).toEqual(Array.from({ length: calls.garbage }, (_, i) => i + 1));
    expect(sessionSeries(session, 'odd.dropped').every((v) => v === null)).toBe(true);
    expect(session.faults).toEqual([
      expect.objectContaining({ plugin: 'odd-garbage', hook: 'collect', count: calls.garbage, message: 'tapPromise tap returned object, not a promise' }),
      expect.objectContaining({ plugin: 'odd-throws', hook: 'collect', count: calls.throws, message: 'injected: throw after writing' }),
    ]);
  });

  it('cannot write into a later tick once its collect timed out', async () => {
    let late = 0;
    const slow = definePlugin({
      name: 'slow',
      metrics: { 'slow.value': { unit: 'count', kind: 'gauge', description: 'written after the time-out' } },
      apply(p) {
        p.hooks.collect.tapPromise('slow', async (w) => {
          await sleep(40); // collectTimeoutMs is 15: the next tick has begun by now
          late++;
          w.set('slow.value', 1);
        });
      },
    });
    const { source, reporter } = witness();
    const { profiler } = make([source, slow], [reporter], { maxConsecutiveFaults: 0 });
    await profiler.start();
    await until(() => late >= 5, 'late writes');
    // the late writes made before stop(): a call still in flight then may write after it, uncounted
    const lateBeforeStop = late;
    const session = await profiler.stop();
    expect(sessionSeries(session, 'slow.value').every((v) => v === null)).toBe(true);
    const fault = session.faults.find((f) => f.plugin === 'slow')!;
    // each call: one time-out, then one late write
    expect(fault.count).toBeGreaterThanOrEqual(lateBeforeStop * 2);
  });
});

/** A source whose collect writes `name.value` and fails when `fails(call)`; also observes samples. */
function failing(name: string, fails: (call: number) => boolean) {
  const state = { calls: 0, samples: 0 };
  const plugin = definePlugin({
    name,
    metrics: { [`${name}.value`]: { unit: 'count', kind: 'gauge', description: 'the call number' } },
    apply(p) {
      p.hooks.collect.tap(name, (w) => {
        state.calls++;
        w.set(`${name}.value`, state.calls);
        if (fails(state.calls)) throw new Error(`${name} failed at call ${state.calls}`);
      });
      p.hooks.sample.tap(name, () => void state.samples++);
    },
  });
  return { plugin, state };
}

describe('a plugin that keeps failing', () => {
  it('is disabled in that hook after 5 failures in a row, with one warning; its metrics read null from then on', async () => {
    const { plugin, state } = failing('breaking', (call) => call > 3);
    const { source, reporter, seen } = witness();
    const { profiler, warnings } = make([source, plugin], [reporter]);
    await profiler.start();
    await until(() => seen.collect >= 20, '20 ticks');
    expect(profiler.snapshot().faults).toEqual([expect.objectContaining({ plugin: 'breaking', hook: 'collect', count: 5, disabledAt: expect.any(Number) })]);
    const session = await profiler.stop();
    validateSession(session);

    expect(state.calls).toBe(8); // 3 good calls, 5 failures, then never called again
    const series = sessionSeries(session, 'breaking.value');
    expect(series.slice(0, 3)).toEqual([1, 2, 3]);
    expect(series.slice(3).every((v) => v === null)).toBe(true);
    expect(series.length).toBeGreaterThanOrEqual(20);
    // its other taps go on: only the failing one is disabled
    expect(state.samples).toBe(session.samples.t.length);
    const values = sessionSeries(session, 'witness.value');
    expect(values).toEqual(values.map((_, i) => i + 1));

    const [fault] = session.faults;
    expect(fault).toMatchObject({ plugin: 'breaking', hook: 'collect', count: 5, message: 'breaking failed at call 8' });
    expect(fault!.disabledAt).toBe(fault!.lastAt);
    expect(warnings).toEqual([
      'plugin "breaking" failed in collect: breaking failed at call 4 (further failures are counted in the session\'s faults)',
      'plugin "breaking" disabled in collect after 5 failures in a row (last: breaking failed at call 8); its metrics read null from now on',
    ]);
  });

  it('is not disabled when it fails intermittently: a success resets the count', async () => {
    // four failures, one success, over and over
    const { plugin, state } = failing('flaky', (call) => call % 5 !== 0);
    const { source, reporter } = witness();
    const { profiler, warnings } = make([source, plugin], [reporter]);
    await profiler.start();
    await until(() => state.calls >= 30, '30 calls');
    const session = await profiler.stop();
    validateSession(session);
    const fault = session.faults.find((f) => f.plugin === 'flaky')!;
    expect(fault.count).toBe(state.calls - Math.floor(state.calls / 5));
    expect(fault.disabledAt).toBeUndefined();
    expect(sessionSeries(session, 'flaky.value').filter((v) => v !== null)).toEqual(
      Array.from({ length: Math.floor(state.calls / 5) }, (_, i) => (i + 1) * 5),
    );
    expect(warnings).toHaveLength(1);
  });

  it('is disabled after maxConsecutiveFaults failures, never with 0', async () => {
    const two = failing('two', () => true);
    const never = failing('never', () => true);
    const first = make([two.plugin], [], { maxConsecutiveFaults: 2 });
    const second = make([never.plugin], [], { maxConsecutiveFaults: 0 });
    await Promise.all([first.profiler.start(), second.profiler.start()]);
    await until(() => first.profiler.store.size >= 10 && second.profiler.store.size >= 10, '10 ticks each');
    const [a, b] = await Promise.all([first.profiler.stop(), second.profiler.stop()]);
    expect(two.state.calls).toBe(2);
    expect(a.faults).toEqual([expect.objectContaining({ plugin: 'two', count: 2, disabledAt: expect.any(Number) })]);
    expect(first.warnings).toHaveLength(2);
    expect(never.state.calls).toBeGreaterThanOrEqual(10);
    expect(b.faults).toEqual([expect.objectContaining({ plugin: 'never', count: never.state.calls })]);
    expect(b.faults[0]!.disabledAt).toBeUndefined();
    expect(second.warnings).toHaveLength(1);
  });
});

describe('the time-outs and the fault record', () => {
  it('do not count I/O that finished while the program blocked the event loop as late', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'loadlight-timeout-')), 'data');
    writeFileSync(file, 'x'.repeat(1024));
    for (let i = 0; i < 5; i++) {
      const read = withTimeout(readFile(file, 'utf8'), 20);
      blockLoop(100); // the read finishes meanwhile; the timer is due too when the loop runs again
      await expect(read).resolves.toHaveLength(1024);
    }
    await expect(withTimeout(new Promise(() => undefined), 20)).rejects.toThrow('did not finish within 20 ms');
  });

  it('bound start, stop and export taps by lifecycleTimeoutMs, 10 s by default', () => {
    const { profiler } = make([], [], { lifecycleTimeoutMs: undefined, maxConsecutiveFaults: undefined });
    expect(profiler.config.lifecycleTimeoutMs).toBe(10_000);
    expect(profiler.config.maxConsecutiveFaults).toBe(5);
    expect(() => new Profiler({ lifecycleTimeoutMs: 0 })).toThrow('config: "lifecycleTimeoutMs" must be >= 1, got number 0.');
    expect(() => new Profiler({ maxConsecutiveFaults: 1.5 })).toThrow('config: "maxConsecutiveFaults" must be integer, got number 1.5.');
  });

  it('keeps a stop() on time when every lifecycle tap hangs, and the other reporters still export', async () => {
    const hanging = definePlugin({
      name: 'hanging',
      apply(p) {
        p.hooks.start.tapPromise('hanging', never);
        p.hooks.stop.tapPromise('hanging', never);
        p.hooks.export.tapPromise('hanging', never);
      },
    });
    const { source, reporter, file, seen } = witness();
    // first in line: the series hooks (start, stop) go on with the next tap after the time-out
    const { profiler } = make([hanging, source], [reporter], { lifecycleTimeoutMs: 100 });
    await profiler.start();
    expect(seen.start).toBe(1);
    await until(() => profiler.store.size >= 3, '3 samples');
    const session = await profiler.stop();
    expect(seen.stop).toBe(1);
    expect(session.faults.map((f) => `${f.hook}: ${f.message}`)).toEqual([
      'start: did not finish within 100 ms',
      'stop: did not finish within 100 ms',
      'export: did not finish within 100 ms',
    ]);
    expect(JSON.parse(readFileSync(file, 'utf8')).samples.t.length).toBe(session.samples.t.length);
  });

  it('lets stop() called during a hung start finish the session once start gave up, and never tick after', async () => {
    const hanging = definePlugin({
      name: 'hanging',
      apply(p) {
        p.hooks.start.tapPromise('hanging', never);
      },
    });
    const { source, reporter, seen } = witness();
    const { profiler } = make([hanging, source], [reporter], { lifecycleTimeoutMs: 100 });
    const starting = profiler.start();
    await sleep(20);
    const session = await profiler.stop();
    await starting;
    expect(seen.start).toBe(1); // the set-up finished before the tear-down
    expect(seen.stop).toBe(1);
    expect(seen.exported).toBe(session);
    validateSession(session);
    expect(session.faults.map((f) => `${f.plugin}/${f.hook}`)).toEqual(['hanging/start']);
    await sleep(INTERVAL * 5);
    expect(profiler.running).toBe(false);
    expect(seen.collect).toBe(0);
  });

  it('rejects a stop() called during a start that then fails, and calls no stop or export tap', async () => {
    const broken = definePlugin({
      name: 'broken',
      apply() {
        throw new Error('cannot apply');
      },
    });
    const { source, reporter, seen } = witness();
    const { profiler } = make([source, broken], [reporter]);
    const starting = profiler.start();
    const stopping = profiler.stop();
    await expect(starting).rejects.toThrow('plugin "broken" failed to apply: cannot apply');
    await expect(stopping).rejects.toThrow('failed to start: there is no session to stop');
    expect(seen.stop).toBe(0);
    expect(seen.exported).toBeNull();
  });

  it('is valid in a session with or without disabledAt (older sessions have none)', async () => {
    const { profiler } = make([failing('x', () => true).plugin], []);
    await profiler.start();
    await until(() => profiler.store.size >= 6, '6 samples');
    const session = await profiler.stop();
    expect(session.faults[0]!.disabledAt).toEqual(expect.any(Number));
    validateSession(session);
    delete session.faults[0]!.disabledAt;
    validateSession(session);
    (session.faults[0] as unknown as Record<string, unknown>).disabledAt = 'yesterday';
    expect(() => validateSession(session)).toThrow(/disabledAt/);
  });
});
