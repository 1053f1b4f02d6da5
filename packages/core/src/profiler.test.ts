import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin } from './plugin.js';
import { Profiler } from './profiler.js';
import { validateSession } from './session.js';
import type { Plugin } from './types.js';

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

const until = async (check: () => boolean, timeoutMs = 10_000) => {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

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
    const rulesDir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-rules-'));
    const rulesFile = path.join(rulesDir, 'always.json');
    writeFileSync(
      rulesFile,
      JSON.stringify({
        rules: [
          {
            name: 'always-alert',
            description: 'fires whenever a value exists',
            conditions: { all: [{ fact: 'counter', path: '$.value', operator: 'greaterThan', value: 0 }] },
            event: { type: 'alert', params: { id: 'always', severity: 'info', message: 'value is {{counter.value}}' } },
          },
        ],
      }),
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
    expect(session.samples.values['counter.value']!.slice(0, 4)).toEqual([1, 2, 3, 4]);
    // a failed tap's writes are nulled for that tick
    expect(session.samples.values['thrower.value']!.every((v) => v === null)).toBe(true);
    expect(session.samples.values['hanger.value']!.every((v) => v === null)).toBe(true);
    const faults = Object.fromEntries(session.faults.map((f) => [f.plugin, f]));
    expect(faults.thrower).toMatchObject({ hook: 'collect', message: 'boom' });
    expect(faults.thrower!.count).toBeGreaterThanOrEqual(4);
    expect(faults.hanger!.message).toMatch(/did not finish within 30 ms/);
    // one warning per plugin and hook, not one per tick
    const warnings = (profiler as unknown as { warnings: string[] }).warnings;
    expect(warnings.filter((w) => w.includes('"thrower"'))).toHaveLength(1);
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
    expect(session.faults.map((f) => `${f.plugin}/${f.hook}`).sort()).toEqual(['bad/sample']);
    // the export fault happens after the session was built; it is still counted
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
      'config: unknown option "sampleIntervalMS". Expected one of: $schema, sampleIntervalMs, evaluateEveryMs, reportIntervalMs, maxSamples, collectTimeoutMs, windowSeconds, plugins, reporters, rules, watchRules, sessionId. Did you mean "sampleIntervalMs"?',
    );
    expect(() => new Profiler({ plugins: [42 as never] })).toThrow(
      'config: "plugins[0]" must be a plugin name ("system"), [name, options], or a plugin object with name and apply(), got number 42.',
    );
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
    expect(session.samples.values['events.count']).toEqual([0, 7]);
  });
});

describe('rule files edited while the profiler runs', () => {
  it('picks up a good edit at the next evaluation; a broken edit is reported and the last good rules stay', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-watch-'));
    const file = path.join(dir, 'levels.json');
    const rules = (threshold: number) =>
      JSON.stringify({
        rules: [
          {
            name: 'counter-red',
            description: 'the counter is above the threshold',
            conditions: { all: [{ fact: 'counter', path: '$.value', operator: 'greaterThan', value: threshold }] },
            event: { type: 'load-level', params: { level: 'red', subject: 'process' } },
          },
        ],
      });
    writeFileSync(file, rules(1e9));
    const profiler = make([counter()], { rules: [file] });
    const warnings = (profiler as unknown as { warnings: string[] }).warnings;
    await profiler.start();
    await until(() => profiler.evaluation !== null);
    expect(profiler.evaluation!.levels).toEqual([]);

    // a good edit: the same data is now red
    writeFileSync(file, rules(0));
    await until(() => profiler.evaluation!.levels.some((l) => l.level === 'red'));
    expect(warnings.some((w) => /^rules reloaded from .*levels\.json \(sha256 [0-9a-f]{12}\)/.test(w))).toBe(true);

    // a broken edit: reported once, and the last good rules stay in force
    writeFileSync(file, '{ "rules": [ { "name": ');
    await until(() => warnings.some((w) => w.startsWith('rule file edit rejected')));
    expect(profiler.snapshot().rulesError).toContain('levels.json');
    const evaluated = profiler.store.size;
    await until(() => profiler.store.size >= evaluated + 3);
    expect(profiler.evaluation!.levels.map((l) => l.level)).toEqual(['red']);
    expect(warnings.filter((w) => w.startsWith('rule file edit rejected'))).toHaveLength(1);
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
