import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePlugin, sessionSeries, type MetricDeclaration, type SessionProfile } from '@loadlight/core';
import { createTestProfiler, moreSamples, stopTestProfilers } from '@loadlight/core/testing';
import { checkBudgets, fails } from './budgets.js';
import { compareSessions, perSampleValues, type Comparison, type MetricComparison } from './compare.js';
import { directionOf } from './metrics.js';
import { renderJson, renderMarkdown, renderText } from './render.js';

/** A deterministic pseudo-random stream in [-1, 1] (so that the sessions, and the test, never vary). */
function noise(seed: number): (i: number) => number {
  return (i) => {
    const x = Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453;
    return (x - Math.floor(x)) * 2 - 1;
  };
}

type Series = { declaration: MetricDeclaration; value: (i: number) => number | null };

const gauge = (unit: MetricDeclaration['unit'], extra: Partial<MetricDeclaration> = {}): MetricDeclaration => ({
  unit,
  kind: 'gauge',
  description: 'fixture',
  ...extra,
});

/** A real session: a profiler whose one plugin writes the given series, tick after tick. */
async function session(series: Record<string, Series>, samples = 40): Promise<SessionProfile> {
  const plugin = definePlugin({
    name: 'fixture',
    metrics: Object.fromEntries(Object.entries(series).map(([name, s]) => [name, s.declaration])),
    apply(profiler) {
      let i = 0;
      profiler.hooks.collect.tap('fixture', (w) => {
        for (const [name, s] of Object.entries(series)) w.set(name, s.value(i));
        i++;
      });
    },
  });
  const { profiler } = createTestProfiler([plugin], { sampleIntervalMs: 10, maxSamples: 1000 });
  await profiler.start();
  await moreSamples(profiler, samples);
  return profiler.stop();
}

const around = (mean: number, spread: number, seed: number) => {
  const n = noise(seed);
  return (i: number) => mean + spread * n(i);
};

let baseline: SessionProfile;
let current: SessionProfile;
let comparison: Comparison;
const row = (name: string): MetricComparison => comparison.metrics.find((m) => m.name === name)!;

beforeAll(async () => {
  baseline = await session({
    'fix.cpu.percent': { declaration: gauge('percent'), value: around(20, 2, 1) },
    'fix.same.percent': { declaration: gauge('percent'), value: around(20, 2, 2) },
    'fix.near.percent': { declaration: gauge('percent'), value: around(20, 2, 3) },
    'fix.small.ms': { declaration: gauge('ms'), value: (i) => 100 + (i % 5) * 0.01 },
    'fix.render.fps': { declaration: gauge('fps'), value: around(30, 1, 4) },
    'fix.ocr.confidence': { declaration: gauge('percent'), value: around(80, 1, 5) },
    'fix.jobs.count': { declaration: { unit: 'count', kind: 'counter', description: 'jobs done' }, value: () => 5 },
    'fix.sparse.ms': { declaration: gauge('ms'), value: (i) => (i < 3 ? 10 : null) },
    'fix.only.base': { declaration: gauge('mb'), value: () => 10 },
    // Latency percentiles move in histogram steps: 0.737 ms, and one slow tick.
    'fix.step.ms': { declaration: gauge('ms'), value: (i) => (i === 7 ? 2.949 : 0.737) },
    'fix.task.errors': { declaration: gauge('count'), value: () => 0 },
    'fix.tail.ms': { declaration: gauge('ms'), value: around(100, 5, 12) },
    'module.worker.cpu_percent': { declaration: gauge('percent', { module: { name: 'worker', field: 'cpu_percent' } }), value: around(10, 1, 6) },
  });
  current = await session({
    'fix.cpu.percent': { declaration: gauge('percent'), value: around(30, 2, 7) },
    'fix.same.percent': { declaration: gauge('percent'), value: around(20, 2, 8) },
    'fix.near.percent': { declaration: gauge('percent'), value: around(20.3, 2, 3) },
    // 2 % slower, and perfectly separated from the baseline: real, but under the 5 % minimum change.
    'fix.small.ms': { declaration: gauge('ms'), value: (i) => 102 + (i % 5) * 0.01 },
    'fix.render.fps': { declaration: gauge('fps'), value: around(24, 1, 9) },
    'fix.ocr.confidence': { declaration: gauge('percent'), value: around(90, 1, 10) },
    'fix.jobs.count': { declaration: { unit: 'count', kind: 'counter', description: 'jobs done' }, value: () => 10 },
    'fix.sparse.ms': { declaration: gauge('ms'), value: (i) => (i < 3 ? 20 : null) },
    'fix.only.current': { declaration: gauge('mb'), value: () => 10 },
    // One step down (-7 %): every sample moved, the mean (without the slow tick) by -14 %.
    'fix.step.ms': { declaration: gauge('ms'), value: () => 0.683 },
    // Errors in one tick out of three: the median stays 0, the mean decides.
    'fix.task.errors': { declaration: gauge('count'), value: (i) => (i % 3 === 0 ? 2 : 0) },
    // The same, but for three slow ticks: enough to move the p95 of 40 samples.
    'fix.tail.ms': { declaration: gauge('ms'), value: (i) => (i === 5 || i === 17 || i === 29 ? 300 : around(100, 5, 12)(i)) },
    'module.worker.cpu_percent': { declaration: gauge('percent', { module: { name: 'worker', field: 'cpu_percent' } }), value: around(25, 1, 11) },
  });
  comparison = compareSessions(baseline, current, { baseline: 'base.json', current: 'new.json' });
});

afterAll(stopTestProfilers);

describe('compareSessions', () => {
  it('flags a shifted gauge as worse when lower is better, with the mean change and a small p', () => {
    const cpu = row('fix.cpu.percent');
    expect(cpu.verdict).toBe('worse');
    expect(cpu.stat).toBe('mean');
    expect(cpu.baselineValue).toBeCloseTo(baseline.statistics['fix.cpu.percent']!.mean!, 9);
    expect(cpu.currentValue).toBeCloseTo(current.statistics['fix.cpu.percent']!.mean!, 9);
    expect(cpu.changePercent).toBeGreaterThan(40);
    expect(cpu.p).toBeLessThan(1e-6);
  });

  it('does not flag noise: the same distribution, or a shift small against the spread', () => {
    expect(row('fix.same.percent').verdict).toBe('same');
    expect(row('fix.same.percent').p).toBeGreaterThan(0.01);
    expect(row('fix.near.percent').verdict).toBe('same');
    expect(row('fix.near.percent').change).toBeGreaterThan(0);
  });

  it('does not flag a real but tiny change (under the minimum change), unless asked to', () => {
    const small = row('fix.small.ms');
    expect(small.significant).toBe(true);
    expect(small.verdict).toBe('same');
    const strict = compareSessions(baseline, current, { baseline: 'a', current: 'b' }, { minChangePercent: 1 });
    expect(strict.metrics.find((m) => m.name === 'fix.small.ms')!.verdict).toBe('worse');
  });

  it('judges the typical sample too: a one-step shift of the median with an outlier in the mean is not flagged', () => {
    const step = row('fix.step.ms');
    expect(step.significant).toBe(true);
    expect(step.changePercent).toBeLessThan(-10);
    expect(step.verdict).toBe('same');
  });

  it('lets the mean decide in a mostly-zero series (errors in some ticks)', () => {
    const errors = row('fix.task.errors');
    expect(errors.baseline!.p50).toBe(0);
    expect(errors.current!.p50).toBe(0);
    expect(errors.verdict).toBe('worse');
  });

  it('knows the direction: fewer fps is worse, more confidence is better, more jobs is a change', () => {
    expect(row('fix.render.fps').verdict).toBe('worse');
    expect(row('fix.ocr.confidence').verdict).toBe('better');
    const jobs = row('fix.jobs.count');
    expect(jobs.verdict).toBe('changed');
    expect(jobs.direction).toBe('none');
  });

  it("reads a counter as a rate per minute: its total over the time its ticks cover", () => {
    const jobs = row('fix.jobs.count');
    expect(jobs.stat).toBe('rate_per_minute');
    const t = baseline.samples.t;
    const values = sessionSeries(baseline, 'fix.jobs.count');
    const sum = values.reduce((a: number, v) => a + v!, 0);
    // The first tick's interval began at samples.since.
    expect(jobs.baselineValue).toBeCloseTo((sum / (t.at(-1)! - baseline.samples.since)) * 60_000, 6);
    expect(perSampleValues(baseline, 'fix.jobs.count', 'counter').values).toHaveLength(t.length);
    expect(jobs.changePercent).toBeGreaterThan(50); // 10 a tick instead of 5
  });

  it('groups module metrics by module and field, after the others', () => {
    const worker = row('module.worker.cpu_percent');
    expect(worker.module).toBe('worker');
    expect(worker.field).toBe('cpu_percent');
    expect(worker.verdict).toBe('worse');
    expect(comparison.metrics.at(-1)!.name).toBe('module.worker.cpu_percent');
  });

  it('says when a metric is in one session only, or has too few samples to judge', () => {
    expect(row('fix.only.base').verdict).toBe('removed');
    expect(row('fix.only.current').verdict).toBe('added');
    const sparse = row('fix.sparse.ms');
    expect(sparse.verdict).toBe('too-few-samples');
    expect(sparse.p).toBeNull();
    expect(sparse.changePercent).toBeCloseTo(100, 9);
  });

  it('compares a session with itself as unchanged everywhere', () => {
    const self = compareSessions(baseline, baseline, { baseline: 'a', current: 'a' });
    for (const m of self.metrics) {
      expect(['same', 'too-few-samples'], m.name).toContain(m.verdict);
      expect(m.change, m.name).toBe(0);
    }
  });
});

describe('checkBudgets', () => {
  const check = (budgets: Parameters<typeof checkBudgets>[0]) => checkBudgets(budgets, comparison, 'perf.config.ts');

  it('max / min judge the current statistic alone', () => {
    const [over, within, fps] = check({ 'fix.cpu.percent': { max: 25 }, 'module.worker.cpu_percent': { max: 40 }, 'fix.render.fps': { min: 25 } });
    expect(over!.status).toBe('exceeded');
    expect(over!.checks[0]).toMatchObject({ limit: 'max', value: 25, over: true, failed: true });
    expect(within!.status).toBe('ok');
    expect(fps!.status).toBe('exceeded');
    expect(fails(over!) && !fails(within!) && fails(fps!)).toBe(true);
  });

  it('relative limits judge the change from the baseline, and fail only beyond noise', () => {
    const [cpu, near, fps] = check({
      'fix.cpu.percent': { maxIncreasePercent: 10 },
      'fix.near.percent': { maxIncreasePercent: 0 },
      'fix.render.fps': { maxDecreasePercent: 10 },
    });
    expect(cpu!.status).toBe('exceeded');
    expect(cpu!.checks[0]!.actual).toBeCloseTo(cpu!.changePercent!, 9);
    // Its mean rose past 0 %, but its samples did not move beyond noise: not a failure.
    expect(near!.status).toBe('within-noise');
    expect(near!.checks[0]!.over).toBe(true);
    expect(fails(near!)).toBe(false);
    expect(fps!.status).toBe('exceeded');
    expect(fps!.checks[0]!.actual).toBeGreaterThan(10);
    expect(fps!.checks[0]!.p).toBeLessThan(0.01);
  });

  it('a change just past a relative limit is within noise unless it is past the limit in 99 % of the resamples', () => {
    const change = row('fix.cpu.percent').changePercent!;
    const [just] = check({ 'fix.cpu.percent': { maxIncreasePercent: Math.floor(change) - 1 } });
    expect(just!.checks[0]!.over).toBe(true);
    expect(just!.checks[0]!.p).toBeGreaterThan(0.01);
    expect(just!.status).toBe('within-noise');
    const [clear] = check({ 'fix.cpu.percent': { maxIncreasePercent: Math.floor(change / 2) } });
    expect(clear!.status).toBe('exceeded');
  });

  it("judges a quantile budget by resampling it: three slow ticks out of 40 move the p95, but not beyond noise", () => {
    const [tail, shifted] = check({ 'fix.tail.ms': { stat: 'p95', maxIncreasePercent: 50 }, 'fix.cpu.percent': { stat: 'p95', maxIncrease: 2 } });
    expect(tail!.changePercent).toBeGreaterThan(150);
    expect(tail!.checks[0]!.over).toBe(true);
    expect(tail!.checks[0]!.p).toBeGreaterThan(0.05);
    expect(tail!.status).toBe('within-noise');
    // Every sample 10 higher: the p95 too, in every resample.
    expect(shifted!.status).toBe('exceeded');
    expect(shifted!.checks[0]!.p).toBeLessThan(0.01);
  });

  it('takes the statistic the budget names, a rate per minute for a counter by default', () => {
    const [p95, jobs, fps] = check({
      'fix.cpu.percent': { stat: 'p95', max: 100 },
      'fix.jobs.count': { max: 1000 },
      'fix.render.fps': { maxDecrease: 10 },
    });
    expect(p95!.current).toBe(row('fix.cpu.percent').current!.p95);
    expect(p95!.status).toBe('ok');
    expect(jobs!.stat).toBe('rate_per_minute');
    expect(jobs!.current).toBeGreaterThan(1000);
    expect(jobs!.status).toBe('exceeded');
    expect(fps!.status).toBe('ok'); // 6 fps down, within 10
  });

  it('fails a budget it cannot measure', () => {
    const [removed, added] = check({ 'fix.only.base': { max: 100 }, 'fix.only.current': { maxIncrease: 1 } });
    expect(removed!.status).toBe('not-measured');
    expect(removed!.note).toContain('the current session has no values');
    expect(added!.status).toBe('not-measured');
    expect(added!.note).toContain('the baseline has no values');
    expect(fails(removed!) && fails(added!)).toBe(true);
  });

  it('rejects a budget on a metric in neither session (with a "did you mean") and one without a limit', () => {
    expect(() => check({ 'fix.cpu.percnt': { max: 1 } })).toThrow(
      'perf.config.ts: budget "fix.cpu.percnt": no such metric in either session. Did you mean "fix.cpu.percent"?',
    );
    expect(() => check({ 'fix.cpu.percent': { stat: 'p95' } } as never)).toThrow(/budget "fix\.cpu\.percent" sets no limit: give one of max, min/);
  });
});

describe('renderers', () => {
  const budgets = () => checkBudgets({ 'fix.cpu.percent': { max: 25 }, 'module.worker.cpu_percent': { max: 40 } }, comparison, 'perf.config.ts');

  it('text: a metric table, a module table, the budgets and the exit code', () => {
    const text = renderText({ comparison, budgets: { file: 'perf.config.ts', results: budgets() }, changedOnly: false, exitCode: 2 });
    expect(text).toMatch(/^METRIC\s+STAT\s+BASELINE\s+CURRENT\s+CHANGE\s+P\s+VERDICT$/m);
    expect(text).toMatch(/^fix\.cpu\.percent\s+mean\s+[\d.]+ %\s+[\d.]+ %\s+\+[\d.]+ \(\+\d+ %\)\s+<0\.001\s+worse$/m);
    expect(text).toMatch(/^worker\s+cpu_percent\s+mean\s+.*worse$/m);
    expect(text).toMatch(/^fix\.jobs\.count\s+rate\s+\d+ \/min/m);
    expect(text).toMatch(/^fix\.cpu\.percent\s+mean <= 25 %\s+.*EXCEEDED: [\d.]+ % > 25 %$/m);
    expect(text).toMatch(/^module\.worker\.cpu_percent\s+mean <= 40 %\s+.*\bok$/m);
    expect(text).toContain('budgets: 1 of 2 exceeded or not measured: exit code 2');
  });

  it('--changed leaves out what stayed within noise', () => {
    const text = renderText({ comparison, budgets: null, changedOnly: true, exitCode: 0 });
    expect(text).toContain('fix.cpu.percent');
    expect(text).not.toContain('fix.same.percent');
    expect(text).toContain('fix.only.base'); // in one session only: shown
  });

  it('md: GitHub tables, a headline naming the exceeded budgets', () => {
    const md = renderMarkdown({ comparison, budgets: { file: 'perf.config.ts', results: budgets() }, changedOnly: false, exitCode: 2 });
    expect(md).toMatch(/^### loadlight compare: 1 budget exceeded$/m);
    expect(md).toContain('| metric | stat | baseline | current | change | p | verdict |');
    expect(md).toMatch(/^\| `fix\.cpu\.percent` \| mean \| .* \| \*\*worse\*\* \|$/m);
    expect(md).toMatch(/^\| `fix\.cpu\.percent` \| mean <= 25 % \| .* \| \*\*EXCEEDED: .*\*\* \|$/m);
  });

  it('json: every metric, the budgets with failed flags, finite numbers only', () => {
    const doc = JSON.parse(renderJson({ comparison, budgets: { file: 'perf.config.ts', results: budgets() }, changedOnly: true, exitCode: 2 }));
    expect(doc.metrics).toHaveLength(comparison.metrics.length);
    expect(doc.summary.worse).toBeGreaterThanOrEqual(3);
    expect(doc.budgets.results.map((r: { failed: boolean }) => r.failed)).toEqual([true, false]);
    expect(doc.exitCode).toBe(2);
    expect(doc.method).toMatchObject({ alpha: 0.01, minChangePercent: 10 });
  });
});

describe('directionOf', () => {
  it.each([
    ['process.cpu.percent', 'percent', 'lower'],
    ['module.core.ocr.latency_p95_ms', 'ms', 'lower'],
    ['process.memory.rss_mb', 'mb', 'lower'],
    ['frames.fps', 'fps', 'higher'],
    ['frames.target_fps', 'fps', 'none'],
    ['frames.budget_ms', 'ms', 'none'],
    ['ocr.confidence.mean', 'percent', 'higher'],
    ['ocr.calls.per_minute', 'per_minute', 'none'],
    ['ocr.errors.per_minute', 'per_minute', 'lower'],
    ['module.work.errors', 'count', 'lower'],
    ['frames.late.per_minute', 'per_minute', 'lower'],
    ['frames.dropped.per_minute', 'per_minute', 'lower'],
    ['process.gc.count_per_minute', 'per_minute', 'lower'],
    ['io.waits.per_minute', 'per_minute', 'lower'],
    ['process.event_loop.utilization', 'ratio', 'lower'],
    ['io.disk.read_bytes_per_second', 'bytes_per_second', 'none'],
    ['queue.depth', 'count', 'none'],
    ['custom.thing', 'furlongs', 'none'],
  ])('%s (%s): %s is better', (name, unit, direction) => {
    expect(directionOf(name, unit)).toBe(direction);
  });
});
