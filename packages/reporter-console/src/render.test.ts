import type { Snapshot, SnapshotMetric } from '@loadlight/core';
import { describe, expect, it } from 'vitest';
import { stripAnsi, visibleWidth } from './ansi.js';
import { levelBadge, renderFrame, renderLine, renderSummary } from './render.js';

const SGR = /\u001b\[[0-9;]*m/;

function metric(name: string, unit: SnapshotMetric['unit'], value: number | null, module?: string): [string, SnapshotMetric] {
  return [name, { name, unit, value, ...(module === undefined ? {} : { module }) }];
}

const evidence = { rule: 'r', file: 'f.json', windowSeconds: 60, conditions: [] };

function snapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  const t = 1_700_000_000_000;
  return {
    sessionId: 'bot-42',
    t,
    startedAt: t - 12_400,
    uptimeMs: 12_400,
    samples: 12,
    metrics: Object.fromEntries([
      metric('system.cpu.percent', 'percent', 51.2),
      metric('system.memory.used_mb', 'mb', 6144),
      metric('system.load.avg1', 'load', 1.234),
      metric('system.disk.busy_percent', 'percent', 7),
      metric('process.event_loop.utilization', 'ratio', 0.1234),
      metric('process.cpu.percent', 'percent', 34.4),
      metric('process.memory.rss_mb', 'mb', 80.4),
      metric('process.heap.used_mb', 'mb', 20.2),
      metric('process.event_loop.delay_p99_ms', 'ms', 12.6),
      metric('process.gc.pause_ms_per_minute', 'ms_per_minute', null),
      metric('ocr.calls.per_minute', 'per_minute', 42),
      metric('module.ocr.cpu_percent', 'percent', 22, 'ocr'),
      metric('module.ocr.latency_p95_ms', 'ms', 180, 'ocr'),
      metric('module.frames.cpu_percent', 'percent', 3, 'frames'),
    ]),
    evaluation: {
      t,
      levels: [
        { subject: 'process', kind: 'process', level: 'yellow', evidence: null },
        { subject: 'system', kind: 'system', level: 'red', evidence: null },
        { subject: 'ocr', kind: 'module', level: 'red', evidence: null },
        { subject: 'frames', kind: 'module', level: 'green', evidence: null },
      ],
      recommendations: [
        { id: 'low-one', priority: 'low', message: 'a low one', evidence },
        { id: 'cache-ocr', priority: 'high', message: 'cache OCR results', module: 'ocr', evidence },
        { id: 'mid', priority: 'medium', message: 'a medium one', evidence },
        { id: 'low-two', priority: 'low', message: 'another low one', evidence },
      ],
      alerts: [
        { key: 'cpu-high', id: 'cpu-high', state: 'firing', severity: 'critical', message: 'CPU above 50%', since: t - 5000, evidence: null },
      ],
      transitions: [],
    },
    faults: [{ plugin: 'system', hook: 'collect', message: 'did not finish within 500 ms', count: 2, firstAt: t, lastAt: t }],
    rulesError: null,
    overhead: { cpuMs: 12, cpuPercent: 0.1, storeBytes: 1_258_291, ticks: 12, meanTickMs: 1 },
    actions: [],
    ...overrides,
  };
}

describe('renderFrame', () => {
  it('shows every section in plain text without colour', () => {
    const lines = renderFrame(snapshot());
    const text = lines.join('\n');
    expect(text).not.toMatch(SGR);
    expect(lines[0]).toBe('loadlight  session bot-42  up 12s  samples 12');
    // Known metrics first, in their order; others after, labelled by name without unit.
    expect(text).toMatch(/^host +red +cpu 51%  mem 6.0GB  load1 1.23  disk.busy 7.0%$/m);
    expect(text).toMatch(/^process +yellow +cpu 34%  rss 80MB  heap 20MB  loop p99 13ms  elu 0.12  gc pause -$/m);
    expect(text).toMatch(/^ocr +calls 42\/min$/m);
    // Modules: worst level first.
    expect(text).toMatch(/modules  2\n  ocr +red +cpu 22%  p95 180ms\n  frames +green +cpu 3.0%/);
    expect(text).toMatch(/alerts +1 firing, 0 pending\n  critical +cpu-high firing 5s  CPU above 50%/);
    // Top three recommendations by priority.
    expect(text).toMatch(/recommendations  4\n  high +cache OCR results \[ocr\]\n  medium +a medium one\n  low +a low one\n  … 1 more/);
    expect(text).toMatch(/overhead cpu 0.10%  1.0ms\/tick  store 1.2MB  faults 2\n  system\/collect x2  did not finish within 500 ms/);
  });

  it('colours levels when colour is on, with the same text', () => {
    const plain = renderFrame(snapshot());
    const colored = renderFrame(snapshot(), { color: true });
    expect(colored.map(stripAnsi)).toEqual(plain);
    const host = colored.find((l) => l.startsWith('host'))!;
    expect(host).toContain('\u001b[31mred\u001b[39m');
    expect(colored.find((l) => l.startsWith('process'))).toContain('\u001b[33myellow\u001b[39m');
    expect(colored.find((l) => l.includes('frames'))).toContain('\u001b[32mgreen\u001b[39m');
  });

  it('cuts every line to the width, colour or not', () => {
    for (const color of [false, true]) {
      const lines = renderFrame(snapshot(), { color, width: 30 });
      for (const line of lines) expect(visibleWidth(line)).toBeLessThanOrEqual(30);
      const cut = lines.filter((l) => stripAnsi(l).endsWith('…'));
      expect(cut.length).toBeGreaterThan(0);
      // A cut coloured line closes its colours.
      if (color) for (const line of cut.filter((l) => SGR.test(l))) expect(line.endsWith('\u001b[0m')).toBe(true);
    }
  });

  it('wraps long metric lines at item boundaries', () => {
    const lines = renderFrame(snapshot(), { width: 40 });
    const start = lines.findIndex((l) => l.startsWith('process'));
    expect(lines.slice(start, start + 3)).toEqual([
      'process  yellow cpu 34%  rss 80MB',
      '                heap 20MB  loop p99 13ms',
      '                elu 0.12  gc pause -',
    ]);
  });

  it('cuts the frame to the height', () => {
    const lines = renderFrame(snapshot(), { height: 5 });
    expect(lines).toHaveLength(5);
    expect(lines[4]).toMatch(/^… \d+ more lines/);
  });

  it('limits modules and recommendations', () => {
    const text = renderFrame(snapshot(), { maxModules: 1, maxRecommendations: 1 }).join('\n');
    expect(text).toContain('… 1 more modules');
    expect(text).toContain('… 3 more');
    expect(text).not.toContain('a medium one');
  });

  it('shows a rejected rules edit and no alerts section before the first evaluation', () => {
    const text = renderFrame(snapshot({ evaluation: null, rulesError: 'rules/a.json: rule "x": expected a number\nsecond line' })).join('\n');
    expect(text).toContain('rules    edit rejected, the last good rules stay in force\n  rules/a.json: rule "x": expected a number\n  second line');
    expect(text).not.toContain('alerts');
    expect(text).toMatch(/^process +cpu 34%/m);
  });

  it('renders text from the program as plain text', () => {
    const lines = renderFrame(snapshot({ sessionId: 'evil\u001b[2J\nid' }), { color: true });
    expect(lines[0]).not.toContain('\u001b[2J');
    expect(lines[0]).not.toContain('\n');
  });
});

describe('renderLine', () => {
  it('gives one compact status line', () => {
    expect(renderLine(snapshot())).toBe(
      '[loadlight] 12s cpu 34% rss 80MB heap 20MB elu 0.12 lvl process=yellow system=red ocr=red alerts=1 recs=4 faults=2',
    );
  });

  it('leaves out what is not there', () => {
    const line = renderLine(snapshot({ metrics: {}, evaluation: null, faults: [], rulesError: 'broken' }));
    expect(line).toBe('[loadlight] 12s rules=error');
  });

  it('fills the line with other sources when the process metrics are missing', () => {
    const metrics = Object.fromEntries([
      metric('queue.depth', 'count', 3),
      metric('module.ocr.cpu_percent', 'percent', 22, 'ocr'),
      metric('system.cpu.percent', 'percent', 10),
      metric('ocr.calls.per_minute', 'per_minute', 42),
    ]);
    expect(renderLine(snapshot({ metrics, evaluation: null, faults: [] }))).toBe('[loadlight] 12s queue.depth 3 ocr.calls 42/min');
  });

  it('does not list every metric when the process metrics fill the line (hundreds, with modules)', () => {
    const base = snapshot();
    let listed = 0;
    // Counts whoever enumerates the metrics (Object.values, Object.keys, for...in).
    const metrics = new Proxy(base.metrics, {
      ownKeys(target) {
        listed++;
        return Reflect.ownKeys(target);
      },
    });
    expect(renderLine({ ...base, metrics })).toBe(renderLine(base));
    expect(listed).toBe(0);
  });

  it('colours levels only when asked, and cuts to the width', () => {
    const colored = renderLine(snapshot(), { color: true });
    expect(colored).toMatch(SGR);
    expect(stripAnsi(colored)).toBe(renderLine(snapshot()));
    const cut = renderLine(snapshot(), { width: 40 });
    expect(visibleWidth(cut)).toBe(40);
    expect(cut.endsWith('…')).toBe(true);
  });
});

describe('levelBadge and renderSummary', () => {
  it('badges levels', () => {
    expect(levelBadge('red', false)).toBe('red');
    expect(levelBadge('green', true)).toBe('\u001b[32mgreen\u001b[39m');
    expect(levelBadge(null, true)).toBe('-');
  });

  it('summarises the session', () => {
    expect(renderSummary(snapshot())).toBe('[loadlight] session bot-42 stopped after 12s, 12 samples, overhead 0.10% cpu, 2 faults');
  });
});
