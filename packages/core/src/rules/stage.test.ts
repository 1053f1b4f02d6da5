import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Evaluation } from '../types.js';
import { RulesStage } from './stage.js';
import {
  ALL_STANDARD_METRICS,
  MODULE_FIELD_UNITS,
  OCR_METRICS,
  SYSTEM_METRICS,
  T0,
  commit,
  copyDefaults,
  declareModule,
  defaultRuleFile,
  edit,
  makeStore,
  readJson,
  tempDir,
  type ModuleSpec,
} from './test-support.js';

type Values = Record<string, number | null>;

/** A stage over the given rule files and a store holding one sample of `values` at T0 + 1 s. */
async function evaluateOnce(files: string[], values: Values, modules: ModuleSpec[] = [], metrics = SYSTEM_METRICS): Promise<Evaluation> {
  const store = makeStore(metrics, modules);
  commit(store, T0 + 1000, values);
  const stage = new RulesStage({ files, windowSeconds: 60, store, watch: false });
  await stage.load();
  return stage.evaluate(T0 + 1000);
}

const levelOf = (evaluation: Evaluation, subject: string) => evaluation.levels.find((l) => l.subject === subject)?.level ?? null;

describe('default load levels (green < 25% CPU and 50 MB, yellow 25-50% or 50-100 MB, red above)', () => {
  const cases: Array<[string, Values, 'green' | 'yellow' | 'red' | null]> = [
    ['just below both yellow thresholds', { 'process.cpu.percent': 24.9, 'process.heap.used_mb': 49.9 }, 'green'],
    ['CPU at 25%', { 'process.cpu.percent': 25, 'process.heap.used_mb': 10 }, 'yellow'],
    ['heap at 50 MB', { 'process.cpu.percent': 1, 'process.heap.used_mb': 50 }, 'yellow'],
    ['CPU at 50%', { 'process.cpu.percent': 50, 'process.heap.used_mb': 10 }, 'yellow'],
    ['CPU just above 50%', { 'process.cpu.percent': 50.1, 'process.heap.used_mb': 10 }, 'red'],
    ['heap at 100 MB', { 'process.cpu.percent': 1, 'process.heap.used_mb': 100 }, 'yellow'],
    ['heap just above 100 MB', { 'process.cpu.percent': 1, 'process.heap.used_mb': 100.1 }, 'red'],
    ['red CPU wins over green heap', { 'process.cpu.percent': 80, 'process.heap.used_mb': 1 }, 'red'],
    ['no CPU measured: no green', { 'process.cpu.percent': null, 'process.heap.used_mb': 10 }, null],
  ];
  it.each(cases)('process: %s', async (_name, values, expected) => {
    const evaluation = await evaluateOnce([defaultRuleFile('load-levels')], values);
    expect(levelOf(evaluation, 'process')).toBe(expected);
  });

  const moduleCases: Array<[string, Values, 'green' | 'yellow' | 'red']> = [
    ['just below', { 'module.ocr.cpu_percent': 24.9, 'module.ocr.memory_mb': 49.9 }, 'green'],
    ['CPU just above 25', { 'module.ocr.cpu_percent': 25.1, 'module.ocr.memory_mb': 1 }, 'yellow'],
    ['memory just above 50', { 'module.ocr.cpu_percent': 1, 'module.ocr.memory_mb': 50.1 }, 'yellow'],
    ['CPU just above 50', { 'module.ocr.cpu_percent': 50.1, 'module.ocr.memory_mb': 1 }, 'red'],
    ['memory just above 100', { 'module.ocr.cpu_percent': 1, 'module.ocr.memory_mb': 100.1 }, 'red'],
  ];
  it.each(moduleCases)('module: %s', async (_name, values, expected) => {
    const evaluation = await evaluateOnce([defaultRuleFile('load-levels')], { ...values, 'module.db.cpu_percent': 1, 'module.db.memory_mb': 1 }, [
      'ocr',
      'db',
    ]);
    expect(evaluation.levels.find((l) => l.subject === 'ocr')).toMatchObject({ kind: 'module', level: expected });
    // each module is classified on its own facts
    expect(evaluation.levels.find((l) => l.subject === 'db')).toMatchObject({ kind: 'module', level: 'green' });
  });

  it('evidence holds the rule, the window and the values seen', async () => {
    const evaluation = await evaluateOnce([defaultRuleFile('load-levels')], { 'process.cpu.percent': 60, 'process.heap.used_mb': 20 });
    expect(evaluation.levels).toEqual([
      {
        subject: 'process',
        kind: 'process',
        level: 'red',
        evidence: {
          rule: 'process-red',
          file: defaultRuleFile('load-levels'),
          windowSeconds: 60,
          conditions: [
            { fact: 'process', path: '$.cpu.percent', operator: 'greaterThan', threshold: 50, value: 60 },
            { fact: 'process', path: '$.heap.used_mb', operator: 'greaterThan', threshold: 100, value: 20 },
          ],
        },
      },
    ]);
  });
});

describe('default recommendations fire just above their threshold and not just below', () => {
  const cases: Array<{ id: string; metric: string; threshold: number; message: RegExp }> = [
    { id: 'cpu-saturation', metric: 'process.cpu.percent', threshold: 80, message: /^This process used 80\.1% of a core over the window: move heavy work/ },
    { id: 'host-cpu-saturation', metric: 'system.cpu.percent', threshold: 90, message: /^The host CPU was 90\.1% busy over the window \(load \?\)/ },
    { id: 'event-loop-delay', metric: 'process.event_loop.delay_p99_ms', threshold: 100, message: /blocked up to 100\.1 ms \(p99\)/ },
    { id: 'gc-pressure', metric: 'process.gc.pause_ms_per_minute', threshold: 3000, message: /^GC pauses took 3000\.1 ms per minute \(\? collections\)/ },
  ];
  it.each(cases)('$id', async ({ id, metric, threshold, message }) => {
    const above = await evaluateOnce([defaultRuleFile('recommendations')], { [metric]: threshold + 0.1 });
    expect(above.recommendations.map((r) => r.id)).toEqual([id]);
    const recommendation = above.recommendations[0]!;
    expect(recommendation.message).toMatch(message);
    expect(recommendation.evidence.conditions).toEqual([
      { fact: metric.split('.')[0], path: `$.${metric.split('.').slice(1).join('.')}`, operator: 'greaterThan', threshold, value: threshold + 0.1 },
    ]);
    expect(recommendation.action).toEqual(expect.any(String));
    const below = await evaluateOnce([defaultRuleFile('recommendations')], { [metric]: threshold - 0.1 });
    expect(below.recommendations).toEqual([]);
  });

  it('memory-growth, from the slope of the heap over the window', async () => {
    const run = async (growthMbPerMinute: number, end = T0 + 60_000) => {
      const store = makeStore();
      // two samples 30 s apart: slope = delta * 2 per minute
      commit(store, end - 30_000, { 'process.heap.used_mb': 100 });
      commit(store, end, { 'process.heap.used_mb': 100 + growthMbPerMinute / 2 });
      const stage = new RulesStage({ files: [defaultRuleFile('recommendations')], windowSeconds: 60, store, watch: false });
      await stage.load();
      return stage.evaluate(end);
    };
    const above = await run(10.2);
    expect(above.recommendations.map((r) => r.id)).toEqual(['memory-growth']);
    expect(above.recommendations[0]!.message).toMatch(/^The heap grew 10\.2 MB per minute \(now 102\.6 MB\)/);
    expect(above.recommendations[0]!.evidence.conditions).toEqual([
      { fact: 'process', path: '$.heap.growth_mb_per_minute', operator: 'greaterThan', threshold: 10, value: expect.closeTo(10.2, 6) },
      { fact: 'session', path: '$.uptime_seconds', operator: 'greaterThanInclusive', threshold: 60, value: 60 },
    ]);
    expect((await run(9.8)).recommendations).toEqual([]);
    // the first minute's slope is too noisy to judge
    expect((await run(50, T0 + 59_000)).recommendations).toEqual([]);
  });
});

describe('default recommendations for the bot\'s sources (OCR, frames, IO, modules and their tags)', () => {
  const ALL_FIELDS = ['cpu_percent', 'memory_mb', 'calls_per_minute', 'latency_mean_ms'];
  /** The program under test: every standard source, and one module with the given tags. */
  const evaluate = (values: Values, tags: string[] = []) =>
    evaluateOnce([defaultRuleFile('recommendations')], values, [{ name: 'm', tags, fields: ALL_FIELDS }], ALL_STANDARD_METRICS);
  const ids = (evaluation: Evaluation) => evaluation.recommendations.map((r) => r.id);

  /**
   * Per rule: values where every condition holds with room to spare, then each numeric condition
   * in turn moved to just past its threshold on the firing side and just short of it on the other.
   */
  const cases: Array<{
    id: string;
    tags?: string[];
    module?: boolean;
    values: Values;
    edges: Array<{ metric: string; fires: number; quiet: number }>;
    message: RegExp;
    action?: string;
    priority: 'high' | 'medium' | 'low';
  }> = [
    {
      id: 'ocr.reduce-frequency',
      values: { 'ocr.calls.per_minute': 300, 'ocr.unchanged.percent': 80 },
      edges: [
        { metric: 'ocr.calls.per_minute', fires: 180.1, quiet: 179.9 },
        { metric: 'ocr.unchanged.percent', fires: 50.1, quiet: 49.9 },
      ],
      message: /^OCR ran 300 times a minute and 80% of the reads saw unchanged text: read less often/,
      action: 'ocr.reduce-frequency',
      priority: 'high',
    },
    {
      id: 'capture.disable-verbose',
      tags: ['verbose'],
      module: true,
      values: { 'module.m.cpu_percent': 20 },
      edges: [{ metric: 'module.m.cpu_percent', fires: 10.1, quiet: 9.9 }],
      message: /^Verbose module m used 20% of a core: disable verbose capture in production\.$/,
      action: 'capture.disable-verbose',
      priority: 'medium',
    },
    {
      id: 'heatmap.less-often',
      tags: ['heatmap'],
      module: true,
      values: { 'module.m.cpu_percent': 20, 'module.m.calls_per_minute': 120 },
      edges: [{ metric: 'module.m.cpu_percent', fires: 15.1, quiet: 14.9 }],
      message: /^Heatmap module m used 20% of a core \(120 calls a minute\): generate heatmaps less often\.$/,
      action: 'heatmap.less-often',
      priority: 'medium',
    },
    {
      id: 'modules.cache-repeated',
      module: true,
      values: { 'module.m.calls_per_minute': 1200, 'module.m.latency_mean_ms': 1, 'module.m.cpu_percent': 20 },
      edges: [
        { metric: 'module.m.calls_per_minute', fires: 600.1, quiet: 599.9 },
        { metric: 'module.m.latency_mean_ms', fires: 4.9, quiet: 5.1 },
        { metric: 'module.m.cpu_percent', fires: 10.1, quiet: 9.9 },
      ],
      message: /^Module m was called 1200 times a minute for 1 ms each, 20% of a core in all: cache its results/,
      priority: 'low',
    },
    {
      id: 'modules.disable-optional',
      tags: ['optional'],
      module: true,
      values: { 'module.m.cpu_percent': 60, 'module.m.memory_mb': 10 },
      edges: [{ metric: 'module.m.cpu_percent', fires: 50.1, quiet: 49.9 }],
      message: /^Optional module m used 60% of a core and 10 MB: disable it while the program is under load\.$/,
      action: 'modules.disable-optional',
      priority: 'medium',
    },
    {
      id: 'modules.disable-optional',
      tags: ['optional'],
      module: true,
      values: { 'module.m.cpu_percent': 5, 'module.m.memory_mb': 150 },
      edges: [{ metric: 'module.m.memory_mb', fires: 100.1, quiet: 99.9 }],
      message: /^Optional module m used 5% of a core and 150 MB/,
      action: 'modules.disable-optional',
      priority: 'medium',
    },
    {
      id: 'frames.over-budget',
      values: { 'frames.late.percent': 30, 'frames.budget_ms': 33.3, 'frames.latency.p95_ms': 41, 'frames.fps': 22, 'frames.target_fps': 30 },
      edges: [{ metric: 'frames.late.percent', fires: 10.1, quiet: 9.9 }],
      message: /^30% of the frames missed their 33\.3 ms budget \(p95 41 ms, 22 of 30 fps\): lower the target frame rate/,
      priority: 'high',
    },
    {
      id: 'io.bound',
      values: { 'io.wait.share_percent': 80, 'io.wait.p95_ms': 12, 'process.cpu.percent': 5 },
      edges: [
        { metric: 'io.wait.share_percent', fires: 50.1, quiet: 49.9 },
        { metric: 'process.cpu.percent', fires: 24.9, quiet: 25.1 },
      ],
      message: /^IO waits took 80% of the time \(p95 12 ms\) while the process used 5% of a core: batch writes/,
      priority: 'medium',
    },
  ];

  it.each(cases)('$id fires with its evidence, and its message and action', async ({ id, tags, module, values, message, action, priority }) => {
    const evaluation = await evaluate(values, tags);
    expect(ids(evaluation)).toEqual([id]);
    const recommendation = evaluation.recommendations[0]!;
    expect(recommendation).toMatchObject({ id, priority, evidence: { rule: id, file: defaultRuleFile('recommendations') } });
    expect(recommendation.message).toMatch(message);
    expect(recommendation.action).toBe(action);
    expect(recommendation.module).toBe(module ? 'm' : undefined);
  });

  it.each(cases.flatMap(({ id, tags, values, edges }) => edges.map((edge) => ({ id, tags, values, ...edge }))))(
    '$id: $metric fires at $fires and not at $quiet',
    async ({ id, tags, values, metric, fires, quiet }) => {
      const atFires = await evaluate({ ...values, [metric]: fires }, tags);
      expect(ids(atFires)).toEqual([id]);
      expect(atFires.recommendations[0]!.evidence.conditions).toContainEqual(expect.objectContaining({ value: fires }));
      expect(ids(await evaluate({ ...values, [metric]: quiet }, tags))).toEqual([]);
    },
  );

  it.each([
    ['capture.disable-verbose', 'verbose', { 'module.m.cpu_percent': 20 }],
    ['heatmap.less-often', 'heatmap', { 'module.m.cpu_percent': 20 }],
    ['modules.disable-optional', 'optional', { 'module.m.cpu_percent': 60 }],
  ])('%s needs the module tagged "%s"', async (id, tag, values) => {
    expect(ids(await evaluate(values, [tag]))).toEqual([id]);
    expect(ids(await evaluate(values, ['other']))).toEqual([]);
    expect(ids(await evaluate(values))).toEqual([]);
  });

  describe('ocr.reduce-frequency with a module tagged "ocr"', () => {
    const busyOcr = { 'ocr.calls.per_minute': 300, 'ocr.unchanged.percent': 80 };

    it('blames the module when it is yellow or red on CPU (25% or more), in place of the general recommendation', async () => {
      const evaluation = await evaluate({ ...busyOcr, 'module.m.cpu_percent': 25 }, ['ocr']);
      expect(evaluation.recommendations).toHaveLength(1);
      expect(evaluation.recommendations[0]).toMatchObject({
        id: 'ocr.reduce-frequency',
        module: 'm',
        action: 'ocr.reduce-frequency',
        priority: 'high',
        evidence: { rule: 'ocr.reduce-frequency.module', module: 'm' },
      });
      expect(evaluation.recommendations[0]!.message).toBe(
        'Module m used 25% of a core reading the screen 300 times a minute, and 80% of the reads saw unchanged text: read less often while the screen is quiet.',
      );
    });

    it('gives the general recommendation when the OCR module is green on CPU', async () => {
      const evaluation = await evaluate({ ...busyOcr, 'module.m.cpu_percent': 24.9 }, ['ocr']);
      expect(evaluation.recommendations.map((r) => [r.id, r.module, r.evidence.rule])).toEqual([['ocr.reduce-frequency', undefined, 'ocr.reduce-frequency']]);
    });

    it('stays quiet, module or not, when OCR is not frequent or the screen changes', async () => {
      for (const values of [
        { 'ocr.calls.per_minute': 179.9, 'ocr.unchanged.percent': 80 },
        { 'ocr.calls.per_minute': 300, 'ocr.unchanged.percent': 49.9 },
      ]) {
        expect(ids(await evaluate({ ...values, 'module.m.cpu_percent': 90 }, ['ocr']))).toEqual([]);
      }
    });

    // The demo's bot reads every frame at 5-10 fps with mostly unchanged HUD text; its action
    // reads every 4th frame. The rule must fire before and stop after, or it says nothing useful.
    it.each([5, 10])('fires for a bot reading every frame at %i fps, and stops at a 4x lower cadence', async (fps) => {
      const at = (readsPerSecond: number, cpuPercent: number) =>
        evaluate({ 'ocr.calls.per_minute': readsPerSecond * 60, 'ocr.unchanged.percent': 90, 'module.m.cpu_percent': cpuPercent }, ['ocr']);
      // tesseract.js at 50-100 ms a read
      expect(ids(await at(fps, fps * 7.5))).toEqual(['ocr.reduce-frequency']);
      expect(ids(await at(fps / 4, (fps * 7.5) / 4))).toEqual([]);
    });
  });

  it('the rules for plugins that are not loaded are inactive, not invalid', async () => {
    const stage = new RulesStage({ files: [defaultRuleFile('recommendations')], windowSeconds: 60, store: makeStore(), watch: false });
    await stage.load();
    const inactive = Object.fromEntries(stage.rules().filter((r) => !r.active).map((r) => [r.name, r.inactiveReason]));
    expect(inactive).toEqual({
      'ocr.reduce-frequency': 'no ocr.* metrics declared: load @loadlight/plugin-ocr',
      'ocr.reduce-frequency.module': expect.stringMatching(/^no module metrics declared yet/),
      'capture.disable-verbose': expect.stringMatching(/^no module metrics declared yet/),
      'heatmap.less-often': expect.stringMatching(/^no module metrics declared yet/),
      'modules.cache-repeated': expect.stringMatching(/^no module metrics declared yet/),
      'modules.disable-optional': expect.stringMatching(/^no module metrics declared yet/),
      'frames.over-budget': 'no frames.* metrics declared: load @loadlight/plugin-frames',
      'io.bound': 'no io.* metrics declared: load @loadlight/plugin-io',
    });
  });
});

describe('default alerts', () => {
  const cases: Array<{ id: string; metric: string; threshold: number; firstState: 'pending' | 'firing' }> = [
    { id: 'host-cpu-sustained', metric: 'system.cpu.percent', threshold: 85, firstState: 'pending' },
    { id: 'host-memory-pressure', metric: 'system.memory.used_percent', threshold: 90, firstState: 'firing' },
  ];
  it.each(cases)('$id raises just above its threshold and not just below', async ({ id, metric, threshold, firstState }) => {
    const above = await evaluateOnce([defaultRuleFile('alerts')], { [metric]: threshold + 0.1 });
    expect(above.transitions).toMatchObject([{ key: id, id, state: firstState }]);
    expect(above.alerts).toMatchObject([{ key: id, state: firstState, since: T0 + 1000 }]);
    expect(above.transitions[0]!.evidence!.conditions).toEqual([
      { fact: 'system', path: `$.${metric.split('.').slice(1).join('.')}`, operator: 'greaterThan', threshold, value: threshold + 0.1 },
    ]);
    const below = await evaluateOnce([defaultRuleFile('alerts')], { [metric]: threshold - 0.1 });
    expect(below.transitions).toEqual([]);
    expect(below.alerts).toEqual([]);
  });

  it('host CPU: pending for 30 s, firing, no flap between 75 and 85, keepFiringFor 10 s, resolved', async () => {
    const store = makeStore();
    // a 1 s window over one sample per evaluation: the fact is exactly the value committed
    const stage = new RulesStage({ files: [defaultRuleFile('alerts')], windowSeconds: 1, store, watch: false });
    await stage.load();
    const steps: Array<[seconds: number, cpu: number, transition: string | null, active: string | null]> = [
      [0, 90, 'pending', 'pending'],
      [5, 90, null, 'pending'],
      [25, 90, null, 'pending'],
      [30, 90, 'firing', 'firing'], // held for 30 s
      [35, 80, null, 'firing'], // between clear (75) and raise (85): stays firing
      [40, 86, null, 'firing'],
      [45, 76, null, 'firing'],
      [50, 70, null, 'firing'], // clear holds: keeps firing for 10 s
      [55, 70, null, 'firing'],
      [58, 80, null, 'firing'], // clear broke: the 10 s start again
      [60, 70, null, 'firing'],
      [69, 70, null, 'firing'],
      [70, 70, 'resolved', null],
      [75, 70, null, null],
      [100, 90, 'pending', 'pending'],
      [105, 80, null, null], // dropped before firing: no resolved
      [110, 80, null, null],
    ];
    for (const [seconds, cpu, transition, active] of steps) {
      const t = T0 + seconds * 1000;
      commit(store, t, { 'system.cpu.percent': cpu });
      const evaluation = await stage.evaluate(t);
      const where = `at ${seconds}s, cpu ${cpu}`;
      expect(evaluation.transitions.map((x) => x.state), where).toEqual(transition ? [transition] : []);
      expect(evaluation.alerts.map((x) => x.state), where).toEqual(active ? [active] : []);
      expect(stage.activeAlerts()).toEqual(evaluation.alerts);
    }
  });

  it('a resolution carries the clear condition as evidence, and the message is filled', async () => {
    const store = makeStore();
    const stage = new RulesStage({ files: [defaultRuleFile('alerts')], windowSeconds: 1, store, watch: false });
    await stage.load();
    commit(store, T0, { 'system.memory.used_percent': 95.04, 'system.memory.used_mb': 15_000 });
    const raised = await stage.evaluate(T0);
    expect(raised.transitions).toEqual([
      {
        key: 'host-memory-pressure',
        id: 'host-memory-pressure',
        state: 'firing',
        severity: 'critical',
        message: 'Host memory 95% used (15000 MB): the system may start swapping or killing processes.',
        t: T0,
        evidence: {
          rule: 'host-memory-pressure',
          file: defaultRuleFile('alerts'),
          windowSeconds: 1,
          conditions: [{ fact: 'system', path: '$.memory.used_percent', operator: 'greaterThan', threshold: 90, value: 95.04 }],
        },
      },
    ]);
    commit(store, T0 + 1000, { 'system.memory.used_percent': 87 });
    expect((await stage.evaluate(T0 + 1000)).transitions).toEqual([]);
    commit(store, T0 + 2000, { 'system.memory.used_percent': 84 });
    const resolved = await stage.evaluate(T0 + 2000);
    expect(resolved.transitions).toMatchObject([{ state: 'resolved', t: T0 + 2000 }]);
    expect(resolved.transitions[0]!.evidence!.conditions).toEqual([
      { fact: 'system', path: '$.memory.used_percent', operator: 'lessThan', threshold: 85, value: 84 },
    ]);
  });

  it('per-module alerts are keyed <id>:<module>', async () => {
    const file = join(tempDir(), 'module-alerts.json');
    writeFileSync(
      file,
      JSON.stringify({
        rules: [
          {
            name: 'module-hot',
            description: 'a module burns CPU',
            conditions: { all: [{ fact: 'module', path: '$.cpu_percent', operator: 'greaterThan', value: 50 }] },
            event: { type: 'alert', params: { id: 'module-hot', severity: 'warning', message: '{{module.name}} at {{module.cpu_percent}}%' } },
          },
        ],
      }),
    );
    const evaluation = await evaluateOnce([file], { 'module.ocr.cpu_percent': 70, 'module.db.cpu_percent': 10 }, ['ocr', 'db']);
    expect(evaluation.transitions).toMatchObject([
      { key: 'module-hot:ocr', id: 'module-hot', module: 'ocr', state: 'firing', message: 'ocr at 70%', evidence: { module: 'ocr' } },
    ]);
  });
});

describe('editing rule files', () => {
  /** Moves both CPU thresholds of the process levels from 25 to 30. */
  function raiseYellowCpuTo30(file: string): string {
    const data = readJson<{ rules: Array<{ name: string; conditions: { all?: Array<{ path: string; value: number }>; any?: Array<{ path: string; value: number }> } }> }>(
      file,
    );
    for (const rule of data.rules) {
      for (const condition of rule.conditions.all ?? rule.conditions.any ?? []) {
        if (condition.path === '$.cpu.percent' && condition.value === 25) condition.value = 30;
      }
    }
    return JSON.stringify(data, null, 2);
  }
  const data = { 'process.cpu.percent': 27, 'process.heap.used_mb': 10 };

  it('a threshold edited in a copy changes the classification of the same data', async () => {
    const [file] = copyDefaults('load-levels');
    expect(levelOf(await evaluateOnce([file!], data), 'process')).toBe('yellow');
    writeFileSync(file!, raiseYellowCpuTo30(file!));
    expect(levelOf(await evaluateOnce([file!], data), 'process')).toBe('green');
  });

  it('picks up an edit while running; a broken edit keeps the last good rules and says why', async () => {
    const [file] = copyDefaults('load-levels');
    const original = readFileSync(file!, 'utf8');
    const edited = raiseYellowCpuTo30(file!);
    const store = makeStore();
    const stage = new RulesStage({ files: [file!], windowSeconds: 60, store, watch: true });
    await stage.load();
    let t = T0;
    const next = async () => {
      t += 1000;
      commit(store, t, data);
      return stage.evaluate(t);
    };
    expect(levelOf(await next(), 'process')).toBe('yellow');
    const firstSha = stage.files[0]!.sha256;

    edit(file!, edited);
    expect(levelOf(await next(), 'process')).toBe('green');
    expect(stage.error).toBeNull();
    const editedSha = stage.files[0]!.sha256;
    expect(editedSha).not.toBe(firstSha);

    // invalid JSON: rejected, the edited rules stay in force
    edit(file!, '{ "rules": [ { "name": "x", } ] }');
    expect(levelOf(await next(), 'process')).toBe('green');
    expect(stage.error).toBe(`${file}:1:29: invalid JSON: expected a property name in double quotes, found "}" (JSON allows no comma after the last property)`);
    expect(stage.files).toEqual([{ file, sha256: editedSha, rules: 6 }]);
    // the same bad content is not re-validated and the error does not change
    expect(levelOf(await next(), 'process')).toBe('green');

    // a valid JSON with an unknown fact: rejected too
    edit(file!, edited.replace(/"process"/, '"procss"'));
    const afterUnknown = await next();
    expect(levelOf(afterUnknown, 'process')).toBe('green');
    expect(stage.error).toMatch(
      new RegExp(`^${file!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: rule "process-red": condition procss \\$\\.cpu\\.percent greaterThan 50: unknown fact "procss"\\. Known facts: .*Did you mean "process"\\?$`),
    );

    // back to the original: in force again, error cleared
    edit(file!, original);
    expect(levelOf(await next(), 'process')).toBe('yellow');
    expect(stage.error).toBeNull();
    expect(stage.files[0]!.sha256).toBe(firstSha);
  });

  it('a deleted file keeps the last good rules and says so', async () => {
    const [file] = copyDefaults('load-levels');
    const store = makeStore();
    const stage = new RulesStage({ files: [file!], windowSeconds: 60, store, watch: true });
    await stage.load();
    commit(store, T0 + 1000, data);
    unlinkSync(file!);
    expect(levelOf(await stage.evaluate(T0 + 1000), 'process')).toBe('yellow');
    expect(stage.error).toBe(`${file}: rule file not found; the last good rules stay in force`);
  });

  it('does not re-read files when not watching', async () => {
    const [file] = copyDefaults('load-levels');
    const store = makeStore();
    const stage = new RulesStage({ files: [file!], windowSeconds: 60, store, watch: false });
    await stage.load();
    commit(store, T0 + 1000, data);
    edit(file!, raiseYellowCpuTo30(file!));
    expect(levelOf(await stage.evaluate(T0 + 1000), 'process')).toBe('yellow');
  });

  it('resolves a firing alert whose rule was removed by an edit', async () => {
    const [file] = copyDefaults('alerts');
    const store = makeStore();
    const stage = new RulesStage({ files: [file!], windowSeconds: 60, store, watch: true });
    await stage.load();
    commit(store, T0 + 1000, { 'system.memory.used_percent': 95 });
    expect((await stage.evaluate(T0 + 1000)).transitions).toMatchObject([{ id: 'host-memory-pressure', state: 'firing' }]);
    const data = readJson<{ rules: Array<{ name: string }> }>(file!);
    edit(file!, JSON.stringify({ rules: data.rules.filter((r) => r.name !== 'host-memory-pressure') }));
    const after = await stage.evaluate(T0 + 2000);
    expect(after.transitions).toMatchObject([{ id: 'host-memory-pressure', state: 'resolved', evidence: null }]);
    expect(after.alerts).toEqual([]);
  });
});

describe('rules of plugins that are not loaded', () => {
  it('load, are inactive, and say why; module rules become active when a module appears', async () => {
    const file = join(tempDir(), 'ocr.json');
    writeFileSync(
      file,
      JSON.stringify({
        rules: [
          {
            name: 'ocr-slow',
            description: 'OCR calls are slow',
            conditions: { all: [{ fact: 'ocr', path: '$.latency.p95_ms', operator: 'greaterThan', value: 500 }] },
            event: { type: 'recommendation', params: { id: 'ocr-slow', priority: 'low', message: 'OCR p95 {{ocr.latency.p95_ms}} ms' } },
          },
        ],
      }),
    );
    const store = makeStore();
    const stage = new RulesStage({ files: [file, defaultRuleFile('load-levels')], windowSeconds: 60, store, watch: false });
    await stage.load();
    const rules = stage.rules();
    expect(rules.find((r) => r.name === 'ocr-slow')).toEqual({
      file,
      name: 'ocr-slow',
      description: 'OCR calls are slow',
      type: 'recommendation',
      active: false,
      inactiveReason: 'no ocr.* metrics declared: load @loadlight/plugin-ocr',
      conditions: { all: [{ fact: 'ocr', path: '$.latency.p95_ms', operator: 'greaterThan', value: 500 }] },
      event: { type: 'recommendation', params: { id: 'ocr-slow', priority: 'low', message: 'OCR p95 {{ocr.latency.p95_ms}} ms' } },
    });
    expect(rules.find((r) => r.name === 'module-red')).toMatchObject({ active: false, inactiveReason: expect.stringMatching(/^no module metrics declared yet/) });
    expect(rules.find((r) => r.name === 'process-red')).toMatchObject({ active: true });
    expect(stage.factCatalogue().find((e) => e.fact === 'ocr')).toMatchObject({ available: false });

    // a module declared at run time: its rules now run
    store.declare({ name: 'module.ocr.cpu_percent', plugin: 'modules', unit: 'percent', kind: 'gauge', description: '', module: { name: 'ocr', field: 'cpu_percent' } });
    store.declare({ name: 'module.ocr.memory_mb', plugin: 'modules', unit: 'mb', kind: 'gauge', description: '', module: { name: 'ocr', field: 'memory_mb' } });
    commit(store, T0 + 1000, { 'module.ocr.cpu_percent': 60, 'module.ocr.memory_mb': 1 });
    const evaluation = await stage.evaluate(T0 + 1000);
    expect(evaluation.levels).toMatchObject([{ subject: 'ocr', kind: 'module', level: 'red', evidence: { rule: 'module-red', module: 'ocr' } }]);
    expect(stage.rules().find((r) => r.name === 'module-red')).toMatchObject({ active: true });
  });
});

describe('default rules with part of plugin-system turned off', () => {
  it('load, and the rules on the metrics turned off are inactive and say which metric', async () => {
    const withoutGc = Object.fromEntries(Object.entries(SYSTEM_METRICS).filter(([name]) => !name.startsWith('process.gc.')));
    const store = makeStore(withoutGc);
    const files = [defaultRuleFile('load-levels'), defaultRuleFile('recommendations'), defaultRuleFile('alerts')];
    const stage = new RulesStage({ files, windowSeconds: 60, store, watch: false });
    await stage.load();
    const gcPressure = readJson<{ rules: Array<{ name: string; conditions: unknown; event: unknown }> }>(files[1]!).rules.find((r) => r.name === 'gc-pressure')!;
    expect(stage.rules().filter((r) => !r.active && r.inactiveReason?.includes('plugin-system'))).toEqual([
      {
        file: files[1],
        name: 'gc-pressure',
        description: 'Garbage collection pauses take a noticeable share of the time.',
        type: 'recommendation',
        active: false,
        inactiveReason: 'metric "process.gc.pause_ms_per_minute" is not declared (is it turned off in @loadlight/plugin-system\'s options?)',
        conditions: gcPressure.conditions,
        event: gcPressure.event,
      },
    ]);
    commit(store, T0 + 1000, { 'process.cpu.percent': 90, 'process.heap.used_mb': 10 });
    const evaluation = await stage.evaluate(T0 + 1000);
    expect(evaluation.recommendations.map((r) => r.id)).toEqual(['cpu-saturation']);
    expect(levelOf(evaluation, 'process')).toBe('red');
  });
});

describe('the stage', () => {
  it('reports the rules in force and serialises concurrent evaluations', async () => {
    const files = [defaultRuleFile('load-levels'), defaultRuleFile('recommendations'), defaultRuleFile('alerts')];
    const store = makeStore();
    const stage = new RulesStage({ files, windowSeconds: 1, store, watch: false });
    await stage.load();
    expect(stage.files.map((f) => [f.file, f.rules])).toEqual([
      [files[0], 6],
      [files[1], 13],
      [files[2], 2],
    ]);
    for (const f of stage.files) expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(stage.error).toBeNull();
    commit(store, T0, { 'system.cpu.percent': 90 });
    commit(store, T0 + 30_000, { 'system.cpu.percent': 90 });
    // not awaited in between: the second must see the state the first left
    const [first, second] = await Promise.all([stage.evaluate(T0), stage.evaluate(T0 + 30_000)]);
    expect(first.transitions.map((x) => x.state)).toEqual(['pending']);
    expect(second.transitions.map((x) => x.state)).toEqual(['firing']);
  });

  it('evaluateSoon() answers synchronously once the shapes are known, and waits its turn behind evaluate()', async () => {
    const files = [defaultRuleFile('load-levels'), defaultRuleFile('recommendations'), defaultRuleFile('alerts')];
    const store = makeStore(SYSTEM_METRICS, ['a', 'b']);
    const stage = new RulesStage({ files, windowSeconds: 60, store, watch: true });
    await stage.load();
    const twin = new RulesStage({ files, windowSeconds: 60, store, watch: false });
    await twin.load();
    for (let k = 1; k <= 3; k++) commit(store, T0 + k * 1000, { 'process.cpu.percent': 90, 'system.memory.used_percent': 95, 'module.a.cpu_percent': 30 });
    // load() learnt the order of the evaluations' shape: the first answers at once
    const first = stage.evaluateSoon(T0 + 1000);
    expect(first).not.toBeInstanceOf(Promise);
    expect(first).toEqual(await twin.evaluate(T0 + 1000));
    const sync = stage.evaluateSoon(T0 + 2000);
    expect(sync).not.toBeInstanceOf(Promise);
    expect(sync).toEqual(await twin.evaluate(T0 + 2000));
    // behind an evaluation in flight, it waits: alert state advances one evaluation at a time
    const pending = stage.evaluate(T0 + 3000);
    const queued = stage.evaluateSoon(T0 + 3000);
    expect(queued).toBeInstanceOf(Promise);
    expect((await queued).transitions).toEqual([]);
    expect((await pending).alerts.map((a) => a.id)).toEqual(['host-memory-pressure']);
  });

  it('changes its revision when the rules in force or the error change, and only then', async () => {
    const [file] = copyDefaults('load-levels');
    const store = makeStore();
    const stage = new RulesStage({ files: [file!], windowSeconds: 60, store, watch: true });
    await stage.load();
    commit(store, T0 + 1000, { 'process.cpu.percent': 10 });
    await stage.evaluate(T0 + 1000);
    const loaded = stage.revision;
    await stage.evaluate(T0 + 1000);
    expect(stage.revision).toBe(loaded);
    const original = readFileSync(file!, 'utf8');
    edit(file!, original.replace('"value": 50', '"value": 60'));
    await stage.evaluate(T0 + 1000);
    const edited = stage.revision;
    expect(edited).not.toBe(loaded);
    edit(file!, '{');
    await stage.evaluate(T0 + 1000);
    expect(stage.error).not.toBeNull();
    const rejected = stage.revision;
    expect(rejected).not.toBe(edited);
    await stage.evaluate(T0 + 1000);
    expect(stage.revision).toBe(rejected);
    unlinkSync(file!);
    await stage.evaluate(T0 + 1000);
    expect(stage.revision).not.toBe(rejected);
  });

  it('evaluate() before load() is a clear error', async () => {
    const stage = new RulesStage({ files: [], windowSeconds: 60, store: makeStore(), watch: false });
    await expect(stage.evaluate(T0)).rejects.toMatchObject({ code: 'PROFILER_STATE' });
  });

  it('evaluations are refused until load() resolves, its load-time runs included', async () => {
    const store = makeStore(ALL_STANDARD_METRICS);
    commit(store, T0 + 1000, { 'process.cpu.percent': 30 });
    const stage = new RulesStage({ files: [defaultRuleFile('load-levels'), defaultRuleFile('alerts')], windowSeconds: 60, store, watch: false });
    let loaded = false;
    // Evaluations attempted between the steps of load(): each time load() reads the catalogue,
    // a chain of attempts starts, one per microtask, alongside the load-time runs.
    const attempts: string[] = [];
    let attempting = false;
    const attempt = (left: number) => {
      if (loaded || left === 0) return;
      attempting = true;
      try {
        // orders learnt so far: 2 once both load-time runs are done
        const learnt = stage.debug.ordersComputed;
        const evaluation = stage.evaluateSoon(T0 + 1000);
        attempts.push(`ran after ${learnt} orders${evaluation instanceof Promise ? ', waiting' : ''}`);
        if (evaluation instanceof Promise) evaluation.catch(() => {});
      } catch (error) {
        attempts.push((error as { code?: string }).code ?? String(error));
      } finally {
        attempting = false;
      }
      queueMicrotask(() => attempt(left - 1));
    };
    const catalogue = store.catalogue.bind(store);
    store.catalogue = () => {
      if (!attempting) queueMicrotask(() => attempt(200));
      return catalogue();
    };
    await stage.load();
    loaded = true;
    // refused while loading; an attempt queued as load() returned runs on the orders learnt at load
    expect(attempts.filter((a) => a === 'PROFILER_STATE').length).toBeGreaterThan(2);
    expect(attempts.filter((a) => a !== 'PROFILER_STATE' && a !== 'ran after 2 orders')).toEqual([]);
    expect(stage.debug.ordersComputed).toBe(2);
    expect(stage.evaluateSoon(T0 + 1000)).not.toBeInstanceOf(Promise);
  });
});

describe('module levels without a memory reading', () => {
  it('a light module whose memory is not measured (a span, memory off) is green, a heavy one red', async () => {
    const evaluation = await evaluateOnce(
      [defaultRuleFile('load-levels')],
      { 'module.io.log.cpu_percent': 3, 'module.core.ocr.cpu_percent': 70 },
      [
        { name: 'io.log', fields: ['cpu_percent', 'memory_mb'] },
        { name: 'core.ocr', fields: ['cpu_percent', 'memory_mb'] },
      ],
    );
    const levels = Object.fromEntries(evaluation.levels.filter((l) => l.kind === 'module').map((l) => [l.subject, l.level]));
    expect(levels).toEqual({ 'io.log': 'green', 'core.ocr': 'red' });
  });
});

describe('module tags changed at run time', () => {
  it('are seen at the next evaluation (the metrics re-declared with the new tags)', async () => {
    const store = makeStore(SYSTEM_METRICS, [{ name: 'cap', fields: ['cpu_percent'] }]);
    const stage = new RulesStage({ files: [defaultRuleFile('recommendations')], windowSeconds: 60, store, watch: false });
    await stage.load();
    commit(store, T0 + 1000, { 'module.cap.cpu_percent': 20 });
    expect((await stage.evaluate(T0 + 1000)).recommendations).toEqual([]);
    declareModule(store, { name: 'cap', tags: ['verbose'], fields: ['cpu_percent'] });
    commit(store, T0 + 2000, { 'module.cap.cpu_percent': 20 });
    expect((await stage.evaluate(T0 + 2000)).recommendations.map((r) => [r.id, r.module])).toEqual([['capture.disable-verbose', 'cap']]);
  });
});

describe('debug', () => {
  it('says how the rules run: compiled, no fallback, and what the last evaluation computed', async () => {
    const files = [defaultRuleFile('load-levels'), defaultRuleFile('recommendations'), defaultRuleFile('alerts')];
    const store = makeStore(SYSTEM_METRICS, ['a', 'b']);
    const stage = new RulesStage({ files, windowSeconds: 60, store, watch: false });
    await stage.load();
    expect(stage.debug).toMatchObject({ engine: 'compiled', fallback: [], last: null });
    commit(store, T0 + 1000, { 'process.cpu.percent': 10 });
    await stage.evaluate(T0 + 1000);
    const debug = stage.debug;
    // active here: every rule but those of plugin-ocr, -frames and -io; two alerts with clearWhen
    expect(debug.compiled).toBe(stage.rules().filter((r) => r.active).length + 2);
    expect(debug.last).toEqual({ windows: expect.any(Number), metrics: store.metricCount, runs: 3 });
    expect(debug.last!.windows).toBeGreaterThan(0);
    expect(debug.last!.windows).toBeLessThan(store.metricCount);
  });
});

describe('compiled at load', () => {
  const files = [defaultRuleFile('load-levels'), defaultRuleFile('recommendations'), defaultRuleFile('alerts')];
  const ALL_MODULE_FIELDS = Object.keys(MODULE_FIELD_UNITS);

  it('compiles the module rules ahead: modules declared later need no new program, and give json-rules-engine\'s answers', async () => {
    const store = makeStore(ALL_STANDARD_METRICS);
    const stage = new RulesStage({ files, windowSeconds: 60, store, watch: false });
    const reference = new RulesStage({ files, windowSeconds: 60, store, watch: false, engine: 'json-rules-engine' });
    await stage.load();
    await reference.load();
    // the global program's order and the module program's, learnt at load
    expect(stage.debug.ordersComputed).toBe(2);
    commit(store, T0 + 1000, { 'process.cpu.percent': 30, 'ocr.calls.per_minute': 300, 'ocr.unchanged.percent': 80 });
    const before = stage.evaluateSoon(T0 + 1000);
    expect(before).not.toBeInstanceOf(Promise);
    expect(before).toStrictEqual(await reference.evaluate(T0 + 1000));
    // the modules arrive (as plugin-modules declares them: every field)
    declareModule(store, { name: 'ocr', tags: ['ocr'], fields: ALL_MODULE_FIELDS });
    declareModule(store, { name: 'cap', tags: ['verbose'], fields: ALL_MODULE_FIELDS });
    commit(store, T0 + 2000, { 'module.ocr.cpu_percent': 40, 'module.cap.cpu_percent': 20, 'ocr.calls.per_minute': 300, 'ocr.unchanged.percent': 80 });
    const after = stage.evaluateSoon(T0 + 2000);
    expect(after).not.toBeInstanceOf(Promise);
    const expected = await reference.evaluate(T0 + 2000);
    expect(after).toStrictEqual(expected);
    expect(expected.recommendations.map((r) => [r.id, r.module])).toEqual([
      ['ocr.reduce-frequency', 'ocr'],
      ['capture.disable-verbose', 'cap'],
    ]);
    expect(stage.debug.ordersComputed).toBe(2);
  });

  it('compiles anew when the metrics declared later make other rules active, with the same answers', async () => {
    const store = makeStore(SYSTEM_METRICS);
    const stage = new RulesStage({ files, windowSeconds: 60, store, watch: false });
    const reference = new RulesStage({ files, windowSeconds: 60, store, watch: false, engine: 'json-rules-engine' });
    await stage.load();
    await reference.load();
    const ordersAtLoad = stage.debug.ordersComputed;
    // plugin-ocr's metrics (its rules become active) and modules with fewer fields than anticipated
    for (const [name, declaration] of Object.entries(OCR_METRICS)) store.declare({ name, plugin: 'ocr', ...declaration });
    declareModule(store, { name: 'ocr', tags: ['ocr'], fields: ['cpu_percent'] });
    commit(store, T0 + 1000, { 'module.ocr.cpu_percent': 40, 'ocr.calls.per_minute': 300, 'ocr.unchanged.percent': 80 });
    const first = stage.evaluateSoon(T0 + 1000);
    // a shape not seen yet: its order is replayed, on promises
    expect(first).toBeInstanceOf(Promise);
    const expected = await reference.evaluate(T0 + 1000);
    expect(await first).toStrictEqual(expected);
    expect(expected.recommendations.map((r) => r.id)).toContain('ocr.reduce-frequency');
    expect(stage.debug.ordersComputed).toBeGreaterThan(ordersAtLoad);
    commit(store, T0 + 2000, { 'module.ocr.cpu_percent': 10 });
    const next = stage.evaluateSoon(T0 + 2000);
    expect(next).not.toBeInstanceOf(Promise);
    expect(next).toStrictEqual(await reference.evaluate(T0 + 2000));
  });
});

describe('compiled at load, then edited', () => {
  /** One per-module recommendation: a module above `threshold` % CPU. */
  const moduleRules = (threshold: number, suffix: string) =>
    JSON.stringify({
      rules: [
        {
          name: 'module-busy',
          description: 'a module burns CPU',
          conditions: { all: [{ fact: 'module', path: '$.cpu_percent', operator: 'greaterThan', value: threshold }] },
          event: { type: 'recommendation', params: { id: 'module.busy', priority: 'medium', message: `{{module.name}} at {{module.cpu_percent}}%${suffix}` } },
        },
      ],
    });

  it('a per-module rule edited before the modules appear: the program compiled ahead for the old rule is dropped, the edited rule runs', async () => {
    const file = join(tempDir(), 'module-rules.json');
    writeFileSync(file, moduleRules(50, ''));
    const files = [defaultRuleFile('load-levels'), file];
    const store = makeStore(SYSTEM_METRICS);
    const stage = new RulesStage({ files, windowSeconds: 60, store, watch: true });
    const reference = new RulesStage({ files, windowSeconds: 60, store, watch: true, engine: 'json-rules-engine' });
    await stage.load();
    await reference.load();
    // the global program's order, and the module program's compiled ahead
    expect(stage.debug.ordersComputed).toBe(2);
    commit(store, T0 + 1000, { 'process.cpu.percent': 30 });
    const before = stage.evaluateSoon(T0 + 1000);
    expect(before).not.toBeInstanceOf(Promise);
    expect(before).toStrictEqual(await reference.evaluate(T0 + 1000));

    // the module rule is edited (threshold 50 -> 20, another message) while no module is declared
    edit(file, moduleRules(20, ' (edited)'));
    commit(store, T0 + 2000, { 'process.cpu.percent': 30 });
    const edited = stage.evaluateSoon(T0 + 2000);
    // the global rules did not change: their program and order stay
    expect(edited).not.toBeInstanceOf(Promise);
    expect(edited).toStrictEqual(await reference.evaluate(T0 + 2000));
    expect(stage.files.find((f) => f.file === file)!.sha256).toBe(reference.files.find((f) => f.file === file)!.sha256);
    // the program compiled ahead for the old rule is gone: only the global program's order counts
    expect(stage.debug.ordersComputed).toBe(1);

    // the module appears: the edited rule's program is compiled now and learns its order
    declareModule(store, { name: 'ocr', fields: ['cpu_percent', 'memory_mb'] });
    commit(store, T0 + 3000, { 'process.cpu.percent': 30, 'module.ocr.cpu_percent': 30, 'module.ocr.memory_mb': 10 });
    const after = stage.evaluateSoon(T0 + 3000);
    expect(after).toBeInstanceOf(Promise);
    const expected = await reference.evaluate(T0 + 3000);
    expect(await after).toStrictEqual(expected);
    // 30% is above the edited threshold, not the old one
    expect(expected.recommendations.map((r) => [r.id, r.module, r.message])).toEqual([['module.busy', 'ocr', 'ocr at 30% (edited)']]);
    expect(stage.debug.ordersComputed).toBe(2);
    commit(store, T0 + 4000, { 'process.cpu.percent': 30, 'module.ocr.cpu_percent': 10, 'module.ocr.memory_mb': 10 });
    const next = stage.evaluateSoon(T0 + 4000);
    expect(next).not.toBeInstanceOf(Promise);
    expect(next).toStrictEqual(await reference.evaluate(T0 + 4000));
  });

  it('a second load() while modules are declared drops the program compiled ahead at the first', async () => {
    const file = join(tempDir(), 'module-rules.json');
    writeFileSync(file, moduleRules(50, ''));
    const store = makeStore(SYSTEM_METRICS);
    const stage = new RulesStage({ files: [file], windowSeconds: 60, store, watch: false });
    await stage.load();
    // no global rule: the order counted is the module program's, compiled ahead
    expect(stage.debug.ordersComputed).toBe(1);
    declareModule(store, { name: 'ocr', fields: ['cpu_percent'] });
    writeFileSync(file, moduleRules(20, ' (edited)'));
    await stage.load();
    // the module program in force (for the module present), learnt at load; the old one is not counted
    expect(stage.debug.ordersComputed).toBe(1);
    commit(store, T0 + 1000, { 'module.ocr.cpu_percent': 30 });
    const evaluation = stage.evaluateSoon(T0 + 1000);
    expect(evaluation).not.toBeInstanceOf(Promise);
    expect((evaluation as Evaluation).recommendations.map((r) => r.message)).toEqual(['ocr at 30% (edited)']);
  });
});
