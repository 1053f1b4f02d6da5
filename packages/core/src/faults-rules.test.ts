// Faults in the rules: a rule file broken (or removed) while the profiler runs, and rules that
// read facts which disappear mid-run (a plugin disabled, a module no longer reported, a metric
// marked unavailable). Evaluation goes on; the compiled rules and json-rules-engine agree.
import { unlinkSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin } from './plugin.js';
import { Profiler } from './profiler.js';
import { RulesStage } from './rules/index.js';
import { T0, commit, edit, makeStore, ruleFile } from './rules/test-support.js';
import { validateSession } from './session.js';
import { createTestProfiler, stopTestProfilers, until, type TestProfiler } from './testing.js';
import type { Evaluation, LoadlightConfig, MetricDeclaration, Plugin } from './types.js';

afterEach(stopTestProfilers);

function make(plugins: Plugin[], extra: LoadlightConfig): TestProfiler {
  return createTestProfiler(plugins, { sampleIntervalMs: 20, collectTimeoutMs: 15, ...extra });
}

const last = (description: string): MetricDeclaration => ({ unit: 'count', kind: 'gauge', description, aggregate: 'last' });

/** A recommendation for every module above 50 % CPU. */
const MODULE_BUSY = {
  name: 'module-busy',
  description: 'a module is busy',
  conditions: { all: [{ fact: 'module', path: '$.cpu_percent', operator: 'greaterThan', value: 50 }] },
  event: { type: 'recommendation', params: { id: 'module-busy', priority: 'high', message: '{{module.name}} at {{module.cpu_percent}}%' } },
};

/** More evaluations than now (the evaluation's time moved on `count` times). */
async function moreEvaluations(profiler: Profiler, count: number): Promise<void> {
  const seen = new Set<number>();
  await until(() => {
    if (profiler.evaluation) seen.add(profiler.evaluation.t);
    return seen.size > count;
  }, `${count} more evaluations`);
}

describe('a rule file broken while the profiler runs', () => {
  it('takes a good edit at once, keeps the rules of the last good edit through bad ones (warned once each, counted as faults), and takes a good file afterwards', async () => {
    let n = 0;
    const counter = definePlugin({
      name: 'counter',
      metrics: { 'counter.value': last('grows') },
      apply(p) {
        p.hooks.collect.tap('counter', (w) => w.set('counter.value', ++n));
      },
    });
    const counterRed = (threshold: number) => ({
      name: 'counter-red',
      description: 'the counter is above the threshold',
      conditions: { all: [{ fact: 'counter', path: '$.value', operator: 'greaterThan', value: threshold }] },
      event: { type: 'load-level', params: { level: 'red', subject: 'process' } },
    });
    const rules = (threshold: number) => JSON.stringify({ rules: [counterRed(threshold)] });
    const file = ruleFile([counterRed(1e12)], 'levels.json');
    const { profiler, warnings } = make([counter], { rules: [file] });
    await profiler.start();
    await moreEvaluations(profiler, 2);
    expect(profiler.evaluation!.levels).toEqual([]); // 1e12 is far off
    const rejected = () => warnings.filter((w) => w.startsWith('rule file edit rejected'));
    const red = () => profiler.evaluation!.levels.map((l) => l.level);

    // 0. a good edit: the same data is now red, at the next evaluation
    edit(file, rules(0));
    await until(() => red().includes('red'), 'the good edit to take effect');
    expect(warnings.some((w) => /^rules reloaded from .*levels\.json \(sha256 [0-9a-f]{12}\)/.test(w))).toBe(true);

    // 1. not JSON at all
    edit(file, '{ "rules": [ { "name": ');
    await until(() => rejected().length === 1, 'the first rejection');
    await moreEvaluations(profiler, 5);
    expect(red()).toEqual(['red']); // the rules of the last good edit
    expect(profiler.snapshot().rulesError).toContain('levels.json');

    // 2. JSON, but not rules: an operator that does not exist
    edit(file, rules(1e12).replace('greaterThan', 'biggerThan'));
    await until(() => rejected().length === 2, 'the second rejection');
    await moreEvaluations(profiler, 5);
    expect(red()).toEqual(['red']);

    // 3. the file removed
    unlinkSync(file);
    await until(() => rejected().length === 3, 'the third rejection');
    await moreEvaluations(profiler, 5);
    expect(rejected()[2]).toContain('rule file not found; the last good rules stay in force');
    expect(red()).toEqual(['red']);

    // 4. a good file again: in force at once
    writeFileSync(file, rules(1e12));
    await until(() => profiler.evaluation!.levels.length === 0, 'the good file to take effect');
    expect(profiler.snapshot().rulesError).toBeNull();

    const size = profiler.store.size;
    const session = await profiler.stop();
    validateSession(session);
    expect(session.samples.t.length).toBeGreaterThanOrEqual(size);
    expect(session.faults).toEqual([expect.objectContaining({ plugin: 'rules', hook: 'reload', count: 3 })]);
    expect(rejected()).toHaveLength(3); // one per bad edit, not one per tick
    expect(warnings.filter((w) => w.startsWith('rules reloaded from'))).toHaveLength(2);
    expect(warnings).toHaveLength(5);
  });
});

describe('rules whose facts disappear mid-run', () => {
  it('go on evaluating, with no fault of the rules, and treat the condition as not met', async () => {
    let calls = 0;
    let broken = false;
    let moduleGone = false;
    const source = definePlugin({
      name: 'source',
      metrics: {
        'flaky.value': last('1 while the flaky collect works'),
        'gone.value': last('marked unavailable mid-run'),
        'module.ocr.cpu_percent': { ...last('a module\'s CPU'), unit: 'percent', module: { name: 'ocr', field: 'cpu_percent' } },
      },
      apply(p) {
        p.hooks.collect.tap('source', (w) => {
          calls++;
          w.set('gone.value', 9);
          if (!moduleGone) w.set('module.ocr.cpu_percent', 90);
        });
        // its own tap, so that disabling it leaves the others running
        p.hooks.collect.tap('flaky', (w) => {
          w.set('flaky.value', 1);
          if (broken) throw new Error('flaky broke');
        });
      },
    });
    const file = ruleFile(
      [
        {
          name: 'flaky-low',
          description: 'the flaky value is low',
          conditions: { all: [{ fact: 'flaky', path: '$.value', operator: 'lessThan', value: 5 }] },
          event: { type: 'load-level', params: { level: 'red', subject: 'process' } },
        },
        MODULE_BUSY,
        {
          name: 'gone-present',
          description: 'the value is there',
          conditions: { all: [{ fact: 'gone', path: '$.value', operator: 'greaterThanInclusive', value: 0 }] },
          event: { type: 'alert', params: { id: 'gone', severity: 'info', message: 'gone is {{gone.value}}' } },
        },
      ],
      'disappearing.json',
    );
    // a window of 5 ticks: a value no longer written leaves the facts quickly
    const { profiler, warnings } = make([source], { rules: [file], windowSeconds: 0.1 });
    await profiler.start();
    await until(() => {
      const e = profiler.evaluation;
      return !!e && e.levels.length === 1 && e.recommendations.length === 1 && e.alerts.some((a) => a.id === 'gone' && a.state === 'firing');
    }, 'every rule to hold');
    expect(profiler.evaluation!.recommendations[0]!.message).toBe('ocr at 90%');

    broken = true; // the flaky tap fails until disabled: flaky.value reads null
    moduleGone = true; // the module is no longer reported
    profiler.markUnavailable('gone.value', 'test: the source went away');
    await until(() => {
      const e = profiler.evaluation!;
      return e.levels.length === 0 && e.recommendations.length === 0 && e.alerts.length === 0;
    }, 'every rule to no longer hold');
    const before = calls;
    await moreEvaluations(profiler, 5);
    expect(calls).toBeGreaterThan(before);
    const evaluation = profiler.evaluation!;
    expect(evaluation.levels).toEqual([]);
    expect(evaluation.recommendations).toEqual([]);

    const session = await profiler.stop();
    validateSession(session);
    expect(session.alerts.map((a) => a.state)).toEqual(['firing', 'resolved']);
    // the disabled tap is the only fault; the rules had none
    expect(session.faults).toEqual([expect.objectContaining({ plugin: 'flaky', hook: 'collect', count: 5, disabledAt: expect.any(Number) })]);
    expect(warnings).toHaveLength(2);
  });

  it('give the same evaluations compiled and in json-rules-engine, for every operator on a missing value', async () => {
    // Every numeric operator, and the ones with no number check (a missing value is met by
    // notEqual and notIn, as in json-rules-engine), on a value that goes missing three ways.
    const operators: Array<[string, unknown]> = [
      ['equal', 1],
      ['notEqual', 1],
      ['lessThan', 5],
      ['lessThanInclusive', 5],
      ['greaterThan', -5],
      ['greaterThanInclusive', -5],
      ['in', [1, 2]],
      ['notIn', [7]],
    ];
    const facts = ['a', 'b', 'c'];
    const file = ruleFile(
      [
        ...facts.flatMap((fact) =>
          operators.map(([operator, value]) => ({
            name: `${fact}-${operator}`,
            description: `${fact} ${operator}`,
            conditions: { all: [{ fact, path: '$.value', operator, value }] },
            event: { type: 'recommendation', params: { id: `${fact}-${operator}`, priority: 'low', message: `${fact} is {{${fact}.value}}` } },
          })),
        ),
        MODULE_BUSY,
      ],
      'operators.json',
    );
    const metrics = Object.fromEntries(facts.map((fact) => [`${fact}.value`, last(fact)]));
    const stores = [makeStore(metrics, [{ name: 'ocr', fields: ['cpu_percent'] }]), makeStore(metrics, [{ name: 'ocr', fields: ['cpu_percent'] }])];
    const stages = [
      new RulesStage({ files: [file], windowSeconds: 1, store: stores[0]!, watch: false }),
      new RulesStage({ files: [file], windowSeconds: 1, store: stores[1]!, watch: false, engine: 'json-rules-engine' }),
    ];
    await Promise.all(stages.map((s) => s.load()));
    const ids = (e: Evaluation) => e.recommendations.map((r) => `${r.id}${r.module ? `:${r.module}` : ''} ${r.message}`);
    const step = async (t: number, values: Record<string, number | null>): Promise<string[]> => {
      for (const store of stores) commit(store, t, values);
      const [compiled, reference] = await Promise.all(stages.map((s) => s.evaluate(t)));
      expect(compiled).toEqual(reference);
      return ids(compiled!);
    };

    const all = { 'a.value': 1, 'b.value': 1, 'c.value': 1, 'module.ocr.cpu_percent': 90 };
    expect(await step(T0 + 1000, all)).toEqual([
      'a-equal a is 1',
      'a-lessThan a is 1',
      'a-lessThanInclusive a is 1',
      'a-greaterThan a is 1',
      'a-greaterThanInclusive a is 1',
      'a-in a is 1',
      'a-notIn a is 1',
      'b-equal b is 1',
      'b-lessThan b is 1',
      'b-lessThanInclusive b is 1',
      'b-greaterThan b is 1',
      'b-greaterThanInclusive b is 1',
      'b-in b is 1',
      'b-notIn b is 1',
      'c-equal c is 1',
      'c-lessThan c is 1',
      'c-lessThanInclusive c is 1',
      'c-greaterThan c is 1',
      'c-greaterThanInclusive c is 1',
      'c-in c is 1',
      'c-notIn c is 1',
      'module-busy:ocr ocr at 90%',
    ]);
    // a: no longer written (its plugin disabled); b: marked unavailable; c and the module: no
    // longer written either, and left out of the window two seconds on
    for (const store of stores) store.info('b.value')!.unavailable = 'test: gone';
    await step(T0 + 2000, { 'c.value': 1, 'module.ocr.cpu_percent': 90 });
    const gone = await step(T0 + 4000, {});
    expect(gone).toEqual(
      facts.flatMap((fact) => [`${fact}-notEqual ${fact} is ?`, `${fact}-notIn ${fact} is ?`]),
    );
    // and back
    for (const store of stores) delete store.info('b.value')!.unavailable;
    expect(await step(T0 + 5000, all)).toHaveLength(22);
  });
});
