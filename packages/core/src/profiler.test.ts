import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { definePlugin } from './plugin.js';
import { Profiler } from './profiler.js';
import { ruleFile } from './rules/test-support.js';
import { sessionSeries, validateSession } from './session.js';
import type { Store } from './store.js';
import { blockLoop, burnCpu, until } from './testing.js';
import type { MetricDeclaration, Plugin } from './types.js';

const running: Profiler[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop().catch(() => undefined)));
});

function make(plugins: Plugin[], extra: Record<string, unknown> = {}): Profiler {
  const warnings: string[] = [];
  const profiler = new Profiler(
    { plugins, reporters: [], rules: [], sampleIntervalMs: 20, ...extra },
    { handleExit: false, warn: (m) => warnings.push(m) },
  );
  (profiler as unknown as { warnings: string[] }).warnings = warnings;
  running.push(profiler);
  return profiler;
}

const counter = (name = 'counter') => {
  let n = 0;
  return definePlugin({
    name,
    metrics: { [`${name}.value`]: { unit: 'count', kind: 'gauge', description: 'a number that grows' } },
    apply(profiler) {
      profiler.hooks.collect.tap(name, (w) => w.set(`${name}.value`, ++n));
    },
  });
};

describe('Profiler', () => {
  it('freezes its hooks', () => {
    const profiler = make([]);
    expect(Object.isFrozen(profiler.hooks)).toBe(true);
    expect(() => {
      (profiler.hooks as Record<string, unknown>).collect = null;
    }).toThrow();
  });

  it('fires the hooks in order over a session', async () => {
    const order: string[] = [];
    const rulesFile = ruleFile(
      [
        {
          name: 'always-alert',
          description: 'fires whenever a value exists',
          conditions: { all: [{ fact: 'counter', path: '$.value', operator: 'greaterThan', value: 0 }] },
          event: { type: 'alert', params: { id: 'always', severity: 'info', message: 'value is {{counter.value}}' } },
        },
      ],
      'always.json',
    );
    const recorder = definePlugin({
      name: 'recorder',
      apply(p) {
        const seen = new Set<string>();
        const once = (name: string) => () => {
          if (!seen.has(name)) order.push(name);
          seen.add(name);
        };
        p.hooks.start.tap('recorder', once('start'));
        p.hooks.collect.tap('recorder', once('collect'));
        p.hooks.sample.tap('recorder', once('sample'));
        p.hooks.evaluated.tap('recorder', once('evaluated'));
        p.hooks.alert.tap('recorder', once('alert'));
        p.hooks.report.tap('recorder', once('report'));
        p.hooks.stop.tap('recorder', once('stop'));
        p.hooks.export.tap('recorder', once('export'));
      },
    });
    const profiler = make([counter(), recorder], { rules: [rulesFile] });
    await profiler.start();
    await until(() => order.includes('report'));
    const session = await profiler.stop();
    expect(order).toEqual(['start', 'collect', 'sample', 'evaluated', 'alert', 'report', 'stop', 'export']);
    expect(session.alerts[0]).toMatchObject({ id: 'always', state: 'firing' });
    expect(session.alerts[0]!.message).toMatch(/^value is \d/);
  });

  it('isolates a throwing and a hanging collect tap: sampling goes on, faults are recorded', async () => {
    const thrower = definePlugin({
      name: 'thrower',
      metrics: { 'thrower.value': { unit: 'count', kind: 'gauge', description: 'never written' } },
      apply(p) {
        p.hooks.collect.tap('thrower', (w) => {
          w.set('thrower.value', 1);
          throw new Error('boom');
        });
      },
    });
    const hanger = definePlugin({
      name: 'hanger',
      metrics: { 'hanger.value': { unit: 'count', kind: 'gauge', description: 'written before hanging' } },
      apply(p) {
        p.hooks.collect.tapPromise('hanger', (w) => {
          w.set('hanger.value', 1);
          return new Promise(() => undefined);
        });
      },
    });
    const profiler = make([counter(), thrower, hanger], { collectTimeoutMs: 30 });
    await profiler.start();
    await until(() => profiler.store.size >= 4);
    const session = await profiler.stop();
    validateSession(session);
    expect(sessionSeries(session, 'counter.value').slice(0, 4)).toEqual([1, 2, 3, 4]);
    // a failed tap's writes are nulled for that tick
    expect(sessionSeries(session, 'thrower.value').every((v) => v === null)).toBe(true);
    expect(sessionSeries(session, 'hanger.value').every((v) => v === null)).toBe(true);
    const faults = Object.fromEntries(session.faults.map((f) => [f.plugin, f]));
    expect(faults.thrower).toMatchObject({ hook: 'collect', message: 'boom' });
    expect(faults.thrower!.count).toBeGreaterThanOrEqual(4);
    expect(faults.hanger!.message).toMatch(/did not finish within 30 ms/);
    // not one warning per tick: one for the first failure, one when it is disabled (faults.test.ts)
    const warnings = (profiler as unknown as { warnings: string[] }).warnings;
    expect(warnings.filter((w) => w.includes('"thrower"'))).toEqual([
      'plugin "thrower" failed in collect: boom (further failures are counted in the session\'s faults)',
      'plugin "thrower" disabled in collect after 5 failures in a row (last: boom); its metrics read null from now on',
    ]);
  });

  it('isolates a throwing observer and a failing exporter', async () => {
    const bad = definePlugin({
      name: 'bad',
      apply(p) {
        p.hooks.sample.tap('bad', () => {
          throw new Error('observer failed');
        });
        p.hooks.export.tapPromise('bad', async () => {
          throw new Error('disk full');
        });
      },
    });
    const profiler = make([counter(), bad]);
    await profiler.start();
    await until(() => profiler.store.size >= 3);
    const session = await profiler.stop();
    expect(session.samples.t.length).toBeGreaterThanOrEqual(3);
    // the export fault happens after exporters got the session: the session stop() resolves with counts it
    expect(session.faults.map((f) => `${f.plugin}/${f.hook}`).sort()).toEqual(['bad/export', 'bad/sample']);
    expect(profiler.session().faults.map((f) => `${f.plugin}/${f.hook}`).sort()).toEqual(['bad/export', 'bad/sample']);
  });

  it('records undeclared metrics and non-numbers as faults', async () => {
    const sloppy = definePlugin({
      name: 'sloppy',
      apply(p) {
        p.hooks.collect.tap('sloppy', (w) => {
          w.set('sloppy.undeclared', 1);
          (w.set as (n: string, v: unknown) => void)('counter.value', 'seven');
        });
      },
    });
    const profiler = make([counter(), sloppy]);
    await profiler.start();
    await until(() => profiler.store.size >= 2);
    const session = await profiler.stop();
    expect(session.faults.find((f) => f.plugin === 'sloppy')?.message).toMatch(/undeclared metric "sloppy.undeclared"|expected a number or null/);
  });

  it('reports its own overhead, measured', async () => {
    const profiler = make([counter()]);
    await profiler.start();
    await until(() => profiler.store.size >= 5);
    const session = await profiler.stop();
    expect(session.overhead.ticks).toBeGreaterThanOrEqual(5);
    expect(session.overhead.cpuMs).toBeGreaterThan(0);
    expect(session.overhead.storeBytes).toBeGreaterThan(0);
  });

  it('rejects a second start and stopping a profiler never started', async () => {
    const profiler = make([]);
    await expect(profiler.stop()).rejects.toThrow(/never started/);
    await profiler.start();
    await expect(profiler.start()).rejects.toThrow(/already started/);
  });

  it('validates the config once, at construction, naming the option', () => {
    expect(() => new Profiler({ sampleIntervalMs: '1000' as unknown as number })).toThrow(
      'config: "sampleIntervalMs" must be integer, got string "1000".',
    );
    expect(() => new Profiler({ sampleIntervalMS: 10 } as never)).toThrow(
      'config: unknown option "sampleIntervalMS". Expected one of: $schema, sampleIntervalMs, evaluateEveryMs, reportIntervalMs, maxSamples, collectTimeoutMs, lifecycleTimeoutMs, maxConsecutiveFaults, windowSeconds, plugins, reporters, rules, watchRules, sessionId, budgets. Did you mean "sampleIntervalMs"?',
    );
    expect(() => new Profiler({ plugins: [42 as never] })).toThrow(
      'config: "plugins[0]" must be a plugin name ("system"), [name, options], or a plugin object with name and apply(), got number 42.',
    );
  });

  it('ignores writes to a metric marked unavailable, and says why in the catalogue', async () => {
    const partial = definePlugin({
      name: 'partial',
      metrics: {
        'partial.there': { unit: 'count', kind: 'gauge', description: 'measured' },
        'partial.missing': { unit: 'count', kind: 'gauge', description: 'not on this platform' },
      },
      apply(p) {
        p.markUnavailable('partial.missing', 'no such counter here');
        p.hooks.collect.tap('partial', (w) => {
          w.set('partial.there', 3);
          w.set('partial.missing', 4);
        });
      },
    });
    const profiler = make([partial]);
    await profiler.start();
    await until(() => profiler.store.size >= 2);
    const session = await profiler.stop();
    expect(sessionSeries(session, 'partial.there').every((v) => v === 3)).toBe(true);
    expect(sessionSeries(session, 'partial.missing').every((v) => v === null)).toBe(true);
    expect(profiler.store.info('partial.missing')?.unavailable).toBe('no such counter here');
    expect(() => profiler.markUnavailable('partial.nothing', 'x')).toThrow(/unknown metric "partial.nothing"/);
  });

  it('builds the report snapshot only when a plugin taps report, and no sample view without a sample tap', async () => {
    // The snapshot costs a little per metric: with 100,000 metrics and no reporter it once took
    // most of every tick, because every hook carries the profiler's own interceptor.
    const quiet = make([counter()]);
    const snapshots = vi.spyOn(quiet, 'snapshot');
    const views = vi.spyOn(quiet as unknown as { sampleView: () => unknown }, 'sampleView');
    await quiet.start();
    await until(() => quiet.store.size >= 4);
    await quiet.stop();
    expect(snapshots).not.toHaveBeenCalled();
    expect(views).not.toHaveBeenCalled();

    let reports = 0;
    let samples = 0;
    const listener = definePlugin({
      name: 'listener',
      apply(p) {
        p.hooks.report.tapPromise('listener', async () => void reports++);
        p.hooks.sample.tap('listener', () => void samples++);
      },
    });
    const watched = make([counter(), listener]);
    const watchedSnapshots = vi.spyOn(watched, 'snapshot');
    await watched.start();
    await until(() => reports >= 3 && samples >= 3);
    await watched.stop();
    expect(watchedSnapshots.mock.calls.length).toBeGreaterThanOrEqual(reports);
  });

  it('keeps at most maxSamples rows while it runs and in the session', async () => {
    const profiler = make([counter()], { maxSamples: 3 });
    await profiler.start();
    await until(() => profiler.store.size >= 3);
    await new Promise((r) => setTimeout(r, 100));
    expect(profiler.store.size).toBe(3);
    const session = await profiler.stop();
    expect(session.samples.t).toHaveLength(3);
  });
});

describe('exit', () => {
  it('never keeps the process alive: a program that ends while profiling exits by itself, its session exported', () => {
    const entry = pathToFileURL(path.resolve(__dirname, '../dist/index.js')).href;
    const script = `
      import { Profiler } from ${JSON.stringify(entry)};
      const exported = { name: 'probe', apply(p) { p.hooks.export.tap('probe', (s) => console.log('exported', s.samples.t.length)); } };
      const profiler = new Profiler({ plugins: [exported], reporters: [], rules: [], sampleIntervalMs: 50 });
      await profiler.start();
      setTimeout(() => console.log('program done'), 300);
    `;
    // a timer that kept the process alive would hit the time-out and throw
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 15_000 });
    expect(out).toMatch(/^program done\nexported \d+\n$/);
  });
});

describe('Profiler.stop', () => {
  it('takes a last sample so that events since the last tick reach the session', async () => {
    let events = 0;
    const counter = definePlugin({
      name: 'events',
      metrics: { 'events.count': { unit: 'count', kind: 'counter', description: 'events since the last tick' } },
      apply(p) {
        p.hooks.collect.tap('events', (w) => {
          w.set('events.count', events);
          events = 0;
        });
      },
    });
    const profiler = new Profiler({ plugins: [counter], reporters: [], rules: [], sampleIntervalMs: 60_000 }, { handleExit: false });
    await profiler.start();
    await new Promise((r) => setTimeout(r, 150));
    events = 7;
    const session = await profiler.stop();
    expect(sessionSeries(session, 'events.count')).toEqual([0, 7]);
  });
});

describe('the tick', () => {
  it('counts only its own work: a neighbour busy on the event loop while a tick waits is not in overhead()', async () => {
    // A rule file watched for edits (a stat at each evaluation) and a collect tap that waits a
    // loop turn: a neighbour that burns 40 ms at every turn of the loop runs while the tick
    // waits, and must not be counted as the profiler's.
    const file = ruleFile([
      {
        name: 'counter-high',
        description: 'the counter is high',
        conditions: { all: [{ fact: 'counter', path: '$.value', operator: 'greaterThan', value: 1e9 }] },
        event: { type: 'alert', params: { id: 'high', severity: 'info', message: 'counter at {{counter.value}}' } },
      },
    ]);
    const costs: number[] = [];
    let last = 0;
    const waiter = definePlugin({
      name: 'waiter',
      apply(p) {
        p.hooks.collect.tapPromise('waiter', async () => {
          // the profiler's count of every tick before this one (this tick's counting starts later)
          const cpuMs = p.overhead().cpuMs;
          if (last > 0) costs.push(cpuMs - last);
          last = cpuMs;
          await new Promise((resolve) => setImmediate(resolve));
        });
      },
    });
    const profiler = make([counter(), waiter], { rules: [file], watchRules: true, sampleIntervalMs: 50 });
    let burning = true;
    const neighbour = () => {
      if (!burning) return;
      burnCpu(40);
      setImmediate(neighbour);
    };
    await profiler.start();
    setImmediate(neighbour);
    try {
      await until(() => costs.length >= 8);
    } finally {
      burning = false;
    }
    await profiler.stop();
    const sorted = costs.slice(2).sort((a, b) => a - b);
    // a tick here costs a few ms; one that counted the neighbour would cost 40 ms or more
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(20);
  });

  it('evaluates and reports at every tick though ticks start a little late, unevenly', async () => {
    // Every other tick, the loop is blocked just before the next tick is due: that tick starts
    // 30 ms late, and the one after it less than an interval after it.
    let ticks = 0;
    let evaluations = 0;
    let reports = 0;
    const jitter = definePlugin({
      name: 'jitter',
      apply(p) {
        p.hooks.sample.tap('jitter', () => {
          if (++ticks % 2 === 1) setTimeout(() => blockLoop(30), 70).unref();
        });
        p.hooks.evaluated.tap('jitter', () => void evaluations++);
        p.hooks.report.tapPromise('jitter', async () => void reports++);
      },
    });
    const file = ruleFile([]);
    const profiler = make([counter(), jitter], { rules: [file], sampleIntervalMs: 100 });
    await profiler.start();
    await until(() => ticks >= 9);
    const seen = { ticks, evaluations, reports };
    await profiler.stop();
    // the report of the last tick may still be pending; none was skipped before it
    expect(seen.evaluations).toBe(seen.ticks);
    expect(seen.reports).toBeGreaterThanOrEqual(seen.ticks - 1);
  });

  it('isolates a synchronous collect tap that returns a failing or a hanging promise', async () => {
    const rejecting = definePlugin({
      name: 'rejecting',
      metrics: { 'rejecting.value': { unit: 'count', kind: 'gauge', description: 'written, then the promise fails' } },
      apply(p) {
        p.hooks.collect.tap('rejecting', (w) => {
          w.set('rejecting.value', 1);
          return Promise.reject(new Error('late failure'));
        });
      },
    });
    const hanging = definePlugin({
      name: 'hanging',
      apply(p) {
        p.hooks.collect.tap('hanging', () => new Promise(() => undefined));
      },
    });
    const profiler = make([counter(), rejecting, hanging], { collectTimeoutMs: 30 });
    await profiler.start();
    await until(() => profiler.store.size >= 3);
    const session = await profiler.stop();
    const faults = Object.fromEntries(session.faults.map((f) => [f.plugin, f]));
    expect(faults.rejecting).toMatchObject({ hook: 'collect', message: 'late failure' });
    expect(faults.hanging!.message).toMatch(/did not finish within 30 ms/);
    expect(sessionSeries(session, 'rejecting.value').every((v) => v === null)).toBe(true);
  });
});

describe('snapshot().metrics', () => {
  const gauges = definePlugin({
    name: 'g',
    metrics: {
      'g.a': { unit: 'count', kind: 'gauge', description: 'a' },
      'g.b': { unit: 'mb', kind: 'gauge', description: 'b' },
      'g.growth': { unit: 'mb_per_minute', kind: 'gauge', description: 'b per minute', derivedFrom: 'g.b' },
    },
    apply() {},
  });

  it('reads each metric from the Store when first read, as of the snapshot, and lists them all in catalogue order', async () => {
    const profiler = make([gauges]);
    await profiler.prepare();
    const store = profiler.store;
    const t0 = store.originT;
    const row = (a: number, b: number) => {
      const values = new Float64Array(store.metricCount).fill(Number.NaN);
      values[store.indexOf('g.a')!] = a;
      values[store.indexOf('g.b')!] = b;
      return values;
    };
    store.commit(t0 + 30_000, row(1, 10));
    store.commit(t0 + 60_000, row(2, 20.0004));
    const latest = vi.spyOn(store, 'latest');
    const snapshot = profiler.snapshot();
    expect(latest).not.toHaveBeenCalled();
    expect(snapshot.metrics['g.a']).toEqual({ name: 'g.a', unit: 'count', value: 2 });
    expect(latest).toHaveBeenCalledTimes(1);
    // a newer sample: what was not read yet still shows the snapshot's sample
    store.commit(t0 + 61_000, row(3, 30));
    expect(snapshot.metrics['g.b']).toEqual({ name: 'g.b', unit: 'mb', value: 20 });
    expect(snapshot.metrics['g.a']!.value).toBe(2);
    // derived: the slope of g.b over the window ending at the snapshot's sample (10 MB in 30 s)
    expect(snapshot.metrics['g.growth']!.value).toBeCloseTo(20, 6);
    expect(Object.keys(snapshot.metrics)).toEqual(store.catalogue().map((info) => info.name));
    expect('g.b' in snapshot.metrics).toBe(true);
    expect('g.nothing' in snapshot.metrics).toBe(false);
    expect(snapshot.metrics['g.nothing']).toBeUndefined();
    expect(JSON.parse(JSON.stringify(snapshot)).metrics['g.b'].value).toBe(20);
    expect({ ...snapshot.metrics }['g.a']!.value).toBe(2);
    expect(() => {
      (snapshot.metrics as Record<string, unknown>)['g.a'] = null;
    }).toThrow(TypeError);
    expect(profiler.snapshot().metrics['g.a']!.value).toBe(3);
  });
});

describe('plugins listed twice', () => {
  it('refuses the same plugin object twice, naming it, and applies nothing', async () => {
    let applied = 0;
    const once = definePlugin({ name: 'once', apply: () => void applied++ });
    const profiler = make([once, once]);
    await expect(profiler.start()).rejects.toThrow(`plugin "once" is listed twice in the same profiler's plugins`);
    expect(applied).toBe(1);
  });
});

describe('work per tick as metrics are added', () => {
  /**
   * Counts the Store's work, without timing: each call of one of its methods or getters (private
   * ones too), and each element read from the catalogue array it hands out (a lookup by index, or
   * one step of a loop over it).
   */
  function countStoreWork(store: Store): { readonly count: number } {
    const counter = { count: 0 };
    const isIndex = (key: string | symbol) => typeof key === 'string' && key.length > 0 && key.charCodeAt(0) >= 48 && key.charCodeAt(0) <= 57;
    for (let proto = Object.getPrototypeOf(store) as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (name === 'constructor' || Object.hasOwn(store, name)) continue;
        const descriptor = Object.getOwnPropertyDescriptor(proto, name)!;
        if (descriptor.get) {
          const get = descriptor.get;
          Object.defineProperty(store, name, { configurable: true, get: () => (counter.count++, get.call(store)) });
        } else if (typeof descriptor.value === 'function') {
          const method = descriptor.value as (...args: unknown[]) => unknown;
          const counted =
            name === 'catalogue'
              ? () => {
                  counter.count++;
                  const list = method.call(store) as object;
                  return new Proxy(list, { get: (target, key, receiver) => (isIndex(key) && counter.count++, Reflect.get(target, key, receiver)) });
                }
              : (...args: unknown[]) => (counter.count++, method.apply(store, args));
          Object.defineProperty(store, name, { configurable: true, writable: true, value: counted });
        }
      }
    }
    return counter;
  }

  const FIELDS = ['calls', 'errors', 'total_ms', 'cpu_ms', 'latency_p95_ms'];

  /** `n` metrics, written at every collect; with `modules`, five fields of n / 5 modules. */
  const wide = (n: number, modules: boolean) => {
    const metrics: Record<string, MetricDeclaration> = {};
    for (let i = 0; i < n; i++) {
      const declaration: MetricDeclaration = { unit: 'count', kind: i % 2 === 0 ? 'counter' : 'gauge', description: 'one of many' };
      if (modules) {
        const module = { name: `m${Math.floor(i / FIELDS.length)}`, field: FIELDS[i % FIELDS.length]! };
        metrics[`module.${module.name}.${module.field}`] = { ...declaration, module };
      } else metrics[`wide.m${i}`] = declaration;
    }
    const names = Object.keys(metrics);
    return definePlugin({
      name: 'wide',
      metrics,
      apply(profiler) {
        profiler.hooks.collect.tap('wide', (w) => names.forEach((name, i) => w.set(name, i % 7)));
      },
    });
  };

  /**
   * The store work of one whole tick (collect, commit, sample taps, rules, report) with `n`
   * metrics: counted between two sample hooks, after the first ticks; the largest of four (a tick
   * that came early skips its report).
   */
  async function workPerTick(n: number, options: { modules?: boolean; rules?: boolean; lookup?: 'by-name' | 'scan' } = {}): Promise<number> {
    const reader = definePlugin({
      name: 'reader',
      apply(profiler) {
        // A reporter reading the snapshot, and a sample tap reading every metric of the new row.
        profiler.hooks.report.tapPromise('reader', async (snapshot) => void Object.keys(snapshot.metrics).length);
        profiler.hooks.sample.tap('reader', (sample) => {
          for (const info of profiler.store.catalogue()) {
            if (options.lookup === 'scan') profiler.store.catalogue().find((other) => other.name === info.name);
            sample.get(info.name);
          }
        });
      },
    });
    const profiler = new Profiler(
      { plugins: [wide(n, options.modules ?? false)], reporters: [reader], ...(options.rules ? {} : { rules: [] }), sampleIntervalMs: 10, maxSamples: 8, watchRules: false },
      { handleExit: false, warn: () => undefined },
    );
    running.push(profiler);
    const work = countStoreWork(profiler.store);
    const marks: number[] = [];
    profiler.hooks.sample.tap({ name: 'mark', stage: -100 }, () => void marks.push(work.count));
    await profiler.start();
    await until(() => marks.length >= 7);
    await profiler.stop();
    if (options.rules) expect(profiler.evaluation).not.toBeNull();
    return Math.max(...[2, 3, 4, 5].map((i) => marks[i + 1]! - marks[i]!));
  }

  /** (work per metric added from 100 to 1,000) / (work per metric added from 10 to 100): 1 when linear. */
  async function growth(options: Parameters<typeof workPerTick>[1]): Promise<number> {
    const [w10, w100, w1000] = [await workPerTick(10, options), await workPerTick(100, options), await workPerTick(1000, options)];
    expect(w10).toBeGreaterThan(0);
    return (w1000 - w100) / 900 / ((w100 - w10) / 90);
  }

  it('grows linearly with the metrics: collect, commit, sample taps and report', async () => {
    expect(await growth({})).toBeLessThanOrEqual(1.1);
  });

  it('grows linearly with the metrics, the default rules included, for plain and module metrics', async () => {
    expect(await growth({ rules: true })).toBeLessThanOrEqual(1.1);
    expect(await growth({ rules: true, modules: true })).toBeLessThanOrEqual(1.1);
  });

  it('sees a tick that grows faster: a tap that scans the catalogue for each metric', async () => {
    expect(await growth({ lookup: 'scan' })).toBeGreaterThan(5);
  });
});
