// The page's logic (ui/lib), without a browser: formatting, chart history, module rows,
// recommendations, the timeline, the token, and the API client against a real server.
import type { ActionRecord, Evaluation, LevelResult, Recommendation } from '@loadlight/core';
import { definePlugin } from '@loadlight/core';
import { createTestProfiler, moreSamples, stopTestProfilers } from '@loadlight/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, ApiError, takeToken, TOKEN_STORAGE_KEY } from '../ui/lib/api.js';
import { axisNumber, clock, describeResult, duration, formatValue, round } from '../ui/lib/format.js';
import {
  byPriority,
  CHART_METRICS,
  CHARTS,
  heavyModules,
  holds,
  levelReason,
  moduleViews,
  SeriesHistory,
  sortModules,
  SPARK_POINTS,
  sparkPath,
  Sparklines,
  Timeline,
} from '../ui/lib/model.js';
import dashboard from './index.js';
import type { DashboardSnapshot, ModuleRow } from './protocol.js';

afterEach(stopTestProfilers);

const row = (name: string, level: ModuleRow['level'], fields: Record<string, number | null>, tags: string[] = []): ModuleRow => ({ name, level, tags, fields });

function snap(t: number, values: Record<string, number | null>, extra: Partial<DashboardSnapshot> = {}): DashboardSnapshot {
  return {
    sessionId: 's1',
    t,
    startedAt: 0,
    uptimeMs: t,
    samples: 1,
    metrics: Object.fromEntries(Object.entries(values).map(([name, value]) => [name, { name, unit: 'percent', value }])),
    evaluation: null,
    faults: [],
    rulesError: null,
    overhead: { cpuMs: 0, cpuPercent: 0, storeBytes: 0, ticks: 0, meanTickMs: 0 },
    actions: [],
    modules: [],
    recentActions: [],
    ...extra,
  };
}

function evaluation(t: number, levels: Array<Pick<LevelResult, 'subject' | 'level'> & Partial<LevelResult>>, more: Partial<Evaluation> = {}): Evaluation {
  return {
    t,
    levels: levels.map((l) => ({ kind: 'module', evidence: null, ...l })),
    recommendations: [],
    alerts: [],
    transitions: [],
    ...more,
  };
}

describe('format', () => {
  it('writes values with their unit, and a dash when missing', () => {
    expect(formatValue(43.21, 'percent')).toBe('43.2%');
    expect(formatValue(118.4, 'mb')).toBe('118 MB');
    expect(formatValue(0.5, 'ratio')).toBe('50%');
    expect(formatValue(12.5, 'ms')).toBe('12.5 ms');
    expect(formatValue(480, 'per_minute')).toBe('480/min');
    expect(formatValue(7.93, 'fps')).toBe('7.93 fps');
    expect(formatValue(2048, 'bytes_per_second')).toBe('2 KB/s');
    expect(formatValue(null, 'percent')).toBe('–');
    expect(formatValue(Number.NaN, 'ms')).toBe('–');
    expect([round(0), round(0.01234), round(1.5), round(1234.5)]).toEqual(['0', '0.012', '1.5', '1235']);
    expect([axisNumber(0), axisNumber(2.5), axisNumber(750), axisNumber(1200), axisNumber(15_000)]).toEqual(['0', '2.5', '750', '1.2k', '15k']);
    expect(clock(new Date(2026, 0, 2, 3, 4, 5).getTime())).toBe('03:04:05');
    expect([duration(45_900), duration(723_000), duration(7_500_000)]).toEqual(['45 s', '12 min 3 s', '2 h 5 min']);
  });

  it('describes an action result in a line', () => {
    expect(describeResult({ ocrEvery: { from: 1, to: 4 }, readsPerSecond: { from: 8, to: 2 } })).toBe('ocrEvery 1→4; readsPerSecond 8→2');
    expect(describeResult({ disabled: ['analysis.heatmap'] })).toBe('disabled: analysis.heatmap');
    expect(describeResult({ disabled: [] })).toBe('disabled: none');
    expect(describeResult(null)).toBe('');
    expect(describeResult('done')).toBe('done');
  });
});

describe('SeriesHistory', () => {
  it('appends snapshots in seconds, ignores one that is not newer, and keeps a bounded window', () => {
    const history = new SeriesHistory(['a', 'b'], 3);
    expect(history.push(snap(1000, { a: 1, b: 2 }))).toBe(true);
    expect(history.push(snap(1000, { a: 9 }))).toBe(false);
    history.push(snap(2000, { a: 3 }));
    expect(history.data(['a', 'b'])).toEqual([[1, 2], [1, 3], [2, null]]);
    history.push(snap(3000, { a: 4, b: 5 }));
    history.push(snap(4000, { a: 6, b: 7 }));
    expect(history.data(['a', 'b'])).toEqual([[2, 3, 4], [3, 4, 6], [null, 5, 7]]);
  });

  it('merges older samples from the history API before the live ones, keeping live points', () => {
    const history = new SeriesHistory(['a']);
    history.push(snap(3000, { a: 30 }));
    history.merge({ t: [1000, 2000, 3000], values: { a: [10, null, 99] } });
    expect(history.data(['a'])).toEqual([[1, 2, 3], [10, null, 30]]);
    history.clear();
    expect(history.length).toBe(0);
  });

  it('charts the metrics the standard plugins declare', () => {
    expect(CHARTS.map((c) => c.id)).toEqual(['cpu', 'memory', 'event-loop', 'ocr', 'frames', 'io']);
    expect(CHART_METRICS).toEqual(
      expect.arrayContaining(['system.cpu.percent', 'process.cpu.percent', 'process.memory.rss_mb', 'process.event_loop.delay_p99_ms', 'ocr.calls.per_minute', 'frames.analysed.per_minute', 'frames.fps', 'io.wait.share_percent']),
    );
  });
});

describe('modules', () => {
  const rows = [
    row('io.log', 'green', { cpu_percent: 0.1, memory_mb: 1, calls: 8, calls_per_minute: 480, latency_p95_ms: 0.3 }),
    row('core.ocr.engine', 'red', { cpu_percent: 71, memory_mb: 113 }, ['ocr']),
    row('analysis.heatmap', 'yellow', { cpu_percent: 26, calls: 8, latency_p95_ms: 40 }),
    row('new', null, {}),
  ];

  it('reads the fields a module has, and leaves out those it does not', () => {
    const views = moduleViews(rows);
    expect(views[0]).toMatchObject({ name: 'io.log', cpu: 0.1, calls: 480, callsUnit: 'per_minute', p95: 0.3 });
    expect(views[1]).toMatchObject({ cpu: 71, memory: 113, calls: null, has: { cpu: true, memory: true, calls: false, p95: false } });
    expect(views[2]).toMatchObject({ calls: 8, callsUnit: 'count' });
  });

  it('sorts by any column, missing values last, ties by name', () => {
    const views = moduleViews(rows);
    expect(sortModules(views, 'cpu', 'desc').map((v) => v.name)).toEqual(['core.ocr.engine', 'analysis.heatmap', 'io.log', 'new']);
    expect(sortModules(views, 'cpu', 'asc').map((v) => v.name)).toEqual(['io.log', 'analysis.heatmap', 'core.ocr.engine', 'new']);
    expect(sortModules(views, 'level', 'desc').map((v) => v.name)).toEqual(['core.ocr.engine', 'analysis.heatmap', 'io.log', 'new']);
    expect(sortModules(views, 'name', 'asc').map((v) => v.name)).toEqual(['analysis.heatmap', 'core.ocr.engine', 'io.log', 'new']);
    expect(sortModules(views, 'p95', 'desc').map((v) => v.name)).toEqual(['analysis.heatmap', 'io.log', 'core.ocr.engine', 'new']);
    expect(heavyModules(views).map((v) => v.name)).toEqual(['core.ocr.engine']);
  });

  it('says why a module is red from the conditions that hold', () => {
    const levels: LevelResult[] = [
      {
        subject: 'core.ocr.engine',
        kind: 'module',
        level: 'red',
        evidence: {
          rule: 'module-red',
          file: 'load-levels.json',
          windowSeconds: 3,
          conditions: [
            { fact: 'module', path: '$.cpu_percent', operator: 'greaterThan', threshold: 50, value: 15.83 },
            { fact: 'module', path: '$.memory_mb', operator: 'greaterThan', threshold: 100, value: 112.64 },
          ],
        },
      },
    ];
    expect(levelReason(levels, 'core.ocr.engine')).toBe('memory_mb 112.6 > 100');
    expect(levelReason(levels, 'other')).toBeNull();
    expect([holds('lessThanInclusive', 2, 2), holds('notEqual', 1, 2), holds('contains', ['ocr'], 'ocr')]).toEqual([true, true, null]);
  });

  it('keeps a minute of CPU per module for the sparklines', () => {
    const sparks = new Sparklines();
    for (let i = 0; i < SPARK_POINTS + 5; i++) sparks.push([row('m', 'green', { cpu_percent: i })]);
    expect(sparks.points.get('m')).toHaveLength(SPARK_POINTS);
    expect(sparks.points.get('m')![0]).toBe(5);
    const fresh = new Sparklines();
    fresh.push([row('m', 'green', { cpu_percent: 9 })]);
    fresh.backfill({ t: [1, 2, 3], values: { 'module.m.cpu_percent': [1, 2, 9] } });
    expect(fresh.points.get('m')).toEqual([1, 2, 9]);
    // right-aligned, scaled to the box, nulls skipped
    expect(sparkPath([0, null, 10], 59, 12)).toBe('57.0,11.0 59.0,1.0');
  });
});

describe('recommendations and timeline', () => {
  const rec = (id: string, priority: Recommendation['priority']): Recommendation => ({
    id,
    priority,
    message: id,
    evidence: { rule: id, file: 'r.json', windowSeconds: 3, conditions: [] },
  });

  it('orders recommendations high, medium, low, keeping the rules order within one', () => {
    expect(byPriority([rec('a', 'low'), rec('b', 'high'), rec('c', 'medium'), rec('d', 'high')]).map((r) => r.id)).toEqual(['b', 'd', 'c', 'a']);
  });

  it('records level changes, alert transitions and actions once each, newest first', () => {
    const timeline = new Timeline();
    timeline.observe(snap(1000, {}, { evaluation: evaluation(1000, [{ subject: 'a', level: 'green' }, { subject: 'b', level: 'red' }]) }));
    // a subject that starts green is not news; one that starts red is
    expect(timeline.entries.map((e) => e.title)).toEqual(['b is red']);
    const transition = { key: 'cpu', id: 'cpu', state: 'firing' as const, severity: 'critical' as const, message: 'hot', t: 2000, evidence: null };
    const action: ActionRecord = { id: 'x.y', at: new Date(2500).toISOString(), source: 'dashboard', ok: true, durationMs: 1, recommendation: null, result: { every: { from: 1, to: 4 }, levelsBefore: { a: 'red' } }, error: null };
    const second = snap(3000, {}, { evaluation: evaluation(3000, [{ subject: 'a', level: 'red' }, { subject: 'b', level: 'red' }], { transitions: [transition] }), recentActions: [action] });
    expect(timeline.observe(second)).toBe(true);
    expect(timeline.observe(second)).toBe(false);
    expect(timeline.entries.map((e) => [e.kind, e.title, e.tone])).toEqual([
      ['level', 'a turned red', 'critical'],
      ['action', 'applied x.y (dashboard)', 'ok'],
      ['alert', 'alert cpu firing', 'critical'],
      ['level', 'b is red', 'critical'],
    ]);
    expect(timeline.entries[1]!.detail).toBe('every 1→4');
    expect(timeline.addAction(action)).toBe(false);
    timeline.clear();
    expect(timeline.entries).toEqual([]);
  });
});

describe('token', () => {
  class Memory {
    data = new Map<string, string>();
    getItem(k: string) {
      return this.data.get(k) ?? null;
    }
    setItem(k: string, v: string) {
      this.data.set(k, v);
    }
  }

  it('comes from ?token=, is kept for a reload, and is taken out of the address', () => {
    const storage = new Memory();
    expect(takeToken('http://127.0.0.1:7317/?token=abc&x=1', storage)).toEqual({ token: 'abc', cleanHref: 'http://127.0.0.1:7317/?x=1' });
    expect(storage.getItem(TOKEN_STORAGE_KEY)).toBe('abc');
    expect(takeToken('http://127.0.0.1:7317/', storage)).toEqual({ token: 'abc', cleanHref: null });
    expect(takeToken('http://127.0.0.1:7317/', null)).toEqual({ token: null, cleanHref: null });
  });
});

describe('ApiClient against the real server', () => {
  async function serve() {
    let level = 8;
    const work = definePlugin({
      name: 'work',
      metrics: { 'process.cpu.percent': { unit: 'percent', kind: 'gauge', description: 'test' } },
      apply(p) {
        p.hooks.collect.tap('work', (w) => w.set('process.cpu.percent', level));
      },
    });
    const reporter = dashboard({ port: 0, quiet: true, token: 'unit-test-token-0123456789' });
    const { profiler } = createTestProfiler([work], { reporters: [reporter] });
    profiler.actions.register('work.less', () => {
      const from = level;
      level = 2;
      return { level: { from, to: level } };
    });
    await profiler.start();
    await moreSamples(profiler, 2);
    const base = new URL(reporter.url!).origin;
    const fetchAt: typeof fetch = (input, init) => fetch(new URL(String(input), base), init);
    return { profiler, client: new ApiClient('unit-test-token-0123456789', fetchAt), stranger: new ApiClient('wrong-token-0123456789', fetchAt), base };
  }

  it('reads history, runs an action, fetches the session; a wrong token is told apart from a dead server', async () => {
    const { profiler, client, stranger } = await serve();
    const history = await client.history(['process.cpu.percent'], 60);
    expect(history.t.length).toBeGreaterThanOrEqual(2);
    expect(history.values['process.cpu.percent']!.every((v) => v === 8)).toBe(true);

    const record = await client.runAction('work.less', 'work.less');
    expect(record).toMatchObject({ id: 'work.less', ok: true, source: 'dashboard', result: { level: { from: 8, to: 2 } } });
    await expect(client.runAction('no.such')).rejects.toMatchObject({ status: 404 });

    const { blob, filename } = await client.session('fallback.json');
    expect(filename).toMatch(/\.json$/);
    const session = JSON.parse(await blob.text()) as { sessionId: string; actions: Array<{ id: string }> };
    expect(session.sessionId).toBe(profiler.sessionId);
    expect(session.actions.map((a) => a.id)).toEqual(['work.less']);

    expect(client.withToken('/api/events')).toBe('/api/events?token=unit-test-token-0123456789');
    await expect(client.probe()).resolves.toBe('ok');
    await expect(stranger.probe()).resolves.toBe('unauthorized');
    await expect(stranger.runAction('work.less')).rejects.toBeInstanceOf(ApiError);
    await profiler.stop();
    await expect(client.probe()).resolves.toBe('unreachable');
  });
});
