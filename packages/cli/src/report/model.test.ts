// The report reads every metric's values over time through the session (schema version 2):
// dense, sparse and runs series alike, and computed metrics, which the file does not store.
// The truth they are checked against is the Store that wrote the session.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLoadlightError, sessionSeries, type SessionProfile } from '@loadlight/core';
import { svgChart } from './chart.js';
import { renderHtml } from './html.js';
import { checkSession } from './load.js';
import { renderMarkdown } from './markdown.js';
import { buildReport, metricSeries, type Report } from './model.js';
import { renderText } from './text.js';
import { fixtureSession, ROWS } from './test-support.js';

const { session: written, profiler } = fixtureSession();
/** The session as a report reads it: from the file's text. */
const fromFile = (): SessionProfile => JSON.parse(JSON.stringify(written));
const report = (session = fromFile()): Report => buildReport(session, 'fixture.json', { top: 10 });

const COMPUTED = ['module.worker.calls_per_minute', 'module.worker.latency_mean_ms', 'module.worker.cpu_percent'];

/** The charts of a page: metric, points and path, in page order. */
function charts(html: string): Array<{ metric: string; points: number; d: string | null }> {
  return [...html.matchAll(/<svg class="chart"[^>]* data-metric="([^"]+)" data-points="(\d+)">(.*?)<\/svg>/g)].map((m) => ({
    metric: m[1]!,
    points: Number(m[2]),
    d: /<path class="line" d="([^"]+)"/.exec(m[3]!)?.[1] ?? null,
  }));
}

describe('buildReport', () => {
  it('gives every metric with values over time its series, equal to what the Store held, whatever its form', () => {
    const r = report();
    const byName = new Map(r.metrics.map((m) => [m.name, m]));
    expect([...byName.keys()]).toEqual(Object.keys(written.catalogue));
    for (const name of COMPUTED) {
      expect(Object.hasOwn(written.samples.values, name), name).toBe(false);
      expect(byName.get(name)!.formula, name).toEqual(written.catalogue[name]!.formula);
    }
    for (const m of r.metrics) {
      if (m.derivedFrom !== null) {
        expect(m.hasSeries, m.name).toBe(false);
        expect(metricSeries(r, m), m.name).toBeUndefined();
        continue;
      }
      expect(m.hasSeries, m.name).toBe(true);
      expect(metricSeries(r, m), m.name).toEqual(profiler.store.series(m.name));
      expect(m.stats, m.name).toEqual(written.statistics[m.name]);
    }
    expect(metricSeries(r, byName.get('fix.queue.wait_ms')!)!.filter((v) => v !== null)).toEqual([12.5, 40]);
    expect(metricSeries(r, byName.get('fix.jobs.count')!)).toEqual([...Array(15).fill(0), ...Array(5).fill(3)]);
  });

  it('computes the statistics of a series the file gives none for (a hand-made file)', () => {
    const session = fromFile();
    delete session.statistics['fix.queue.wait_ms'];
    delete session.statistics['module.worker.calls_per_minute'];
    session.samples.values['extra.uncatalogued'] = { runs: [ROWS], v: [7] };
    const r = report(session);
    const row = (name: string) => r.metrics.find((m) => m.name === name)!;
    expect(row('fix.queue.wait_ms').stats).toEqual(written.statistics['fix.queue.wait_ms']);
    expect(row('module.worker.calls_per_minute').stats).toEqual(written.statistics['module.worker.calls_per_minute']);
    expect(row('extra.uncatalogued')).toMatchObject({ unit: null, hasSeries: true, stats: { count: ROWS, mean: 7, max: 7 } });
  });
});

describe('the formats', () => {
  it('HTML: a chart of every metric with values, computed ones included, drawn from the Store\'s values', () => {
    const r = report();
    const page = renderHtml(r, { generator: 'test' });
    const drawn = charts(page);
    const expected = Object.keys(written.catalogue).filter((name) => !written.catalogue[name]!.derivedFrom);
    expect(drawn.map((c) => c.metric)).toEqual(expected);
    for (const chart of drawn) {
      const truth = profiler.store.series(chart.metric);
      const { path } = svgChart(written.samples.t, truth, { metric: chart.metric, title: '', format: String, formatTime: String, start: r.start });
      expect(chart.points, chart.metric).toBe(truth.filter((v) => v !== null).length);
      expect(chart.d, chart.metric).toBe(path.d);
    }
    // the sparse series: two points alone, each a dot
    expect(drawn.find((c) => c.metric === 'fix.queue.wait_ms')!.d).toMatch(/^M[\d.]+,[\d.]+l0,0M[\d.]+,[\d.]+l0,0$/);
    expect(page).toContain('<code>fix.cpu.slope_per_minute</code> is a statistic of <code>fix.cpu.percent</code> over a window (derived)');
    expect(page).not.toMatch(/data-metric="fix\.cpu\.slope_per_minute"/);
  });

  it('text and Markdown: count, mean, p95 and max of the computed and the sparse metrics', () => {
    const r = report();
    const text = renderText(r, { color: false, all: true });
    expect(text).toMatch(/^ {2}module\.worker\.calls_per_minute\s+20\s+90\/min\s+180\/min\s+180\/min$/m);
    expect(text).toMatch(/^ {2}module\.worker\.latency_mean_ms\s+15\s+7\.3ms\s+7\.3ms\s+7\.3ms$/m);
    expect(text).toMatch(/^ {2}fix\.queue\.wait_ms\s+2\s+26ms\s+40ms\s+40ms$/m);
    expect(text).toMatch(/^ {2}fix\.jobs\.count\s+20\s/m);
    const md = renderMarkdown(r);
    expect(md).toMatch(/\| `module\.worker\.cpu_percent` \| 20 \| 0\.75% \| 1\.5% \| 1\.5% \|/);
    expect(md).toMatch(/\| `fix\.queue\.wait_ms` \| 2 \| 26ms \| 40ms \| 40ms \|/);
  });

  it('the module row, the metric rows and the overhead sentence: the same cells in every format, exactly, each escaped its way', () => {
    const session = fromFile();
    const worker = session.modules[0]!;
    session.modules = [
      { ...worker, name: 'x|y`z<b>', level: 'red', cpuPercent: 12.345, cpuMs: 1234.5, calls: 12000, meanMs: 0.4567, p95Ms: 3.2, memoryMb: 12.5, errors: 3 },
      { ...worker, name: 'idle', level: null, cpuPercent: null, cpuMs: null, calls: null, meanMs: null, p95Ms: null, memoryMb: null, errors: null },
    ];
    session.catalogue['fix.cpu.percent']!.unavailable = 'no /proc <here> | `x`';
    session.statistics['fix.jobs.count'] = { ...session.statistics['fix.jobs.count']!, count: 0 };
    session.overhead = { ...session.overhead, cpuPercent: 0.123, cpuMs: 12_345, ticks: 77, meanTickMs: 1.234, storeBytes: 123_456, heapUsedMb: 7.5, rssMb: 55.25 };
    checkSession(session, 'fixture.json');
    const r = report(session);
    const overhead = '0.12% of one core (12s over 77 ticks, 1.2ms a tick), store 121KB, heap 7.5MB, RSS 55MB';

    const text = renderText(r, { color: false, all: false }).split('\n');
    const from = (line: string, count: number) => text.slice(text.indexOf(line), text.indexOf(line) + count);
    expect(from('Modules by CPU (2)', 4)).toEqual([
      'Modules by CPU (2)',
      '  LIGHT  MODULE    CPU  CPU TIME  CALLS    MEAN    P95  MEMORY  ERRORS',
      '  red    x|y`z<b>  12%    1235ms  12000  0.46ms  3.2ms    13MB       3',
      '  -      idle        -         -      -       -      -       -       -',
    ]);
    expect(from('Metrics (3)', 6)).toEqual([
      'Metrics (3)',
      '  6 per-module metrics are summed up in the module table; --all lists them',
      '  METRIC             COUNT  MEAN   P95                                 MAX',
      '  fix.cpu.percent                       unavailable: no /proc <here> | `x`',
      '  fix.queue.wait_ms      2  26ms  40ms                                40ms',
      '  fix.jobs.count         0                                      no samples',
    ]);
    expect(from('Profiler overhead', 2)).toEqual(['Profiler overhead', `  ${overhead}`]);

    const md = renderMarkdown(r).split('\n');
    const header = md.indexOf('| Light | Module | CPU | CPU time | Calls | Mean | p95 | Memory | Errors |');
    expect(md.slice(header + 1, header + 4)).toEqual([
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      "| 🔴 red | `x\\|y'z<b>` | 12% | 1235ms | 12000 | 0.46ms | 3.2ms | 13MB | 3 |",
      '| - | `idle` | - | - | - | - | - | - | - |',
    ]);
    expect(md).toContain('| `fix.cpu.percent` |  |  |  | unavailable: no /proc &lt;here&gt; \\| \\`x\\` |');
    expect(md).toContain('| `fix.jobs.count` | 0 |  |  | no samples |');
    expect(md).toContain(`Profiler overhead: ${overhead}.`);

    const html = renderHtml(r, { generator: 'test' });
    const n = (cells: string[]) => cells.map((cell) => `<td class="n">${cell}</td>`).join('');
    expect(html).toContain(
      `<tr><td><span class="light red">red</span></td><td><span class="mono">x|y\`z&lt;b&gt;</span></td>${n(['12%', '1235ms', '12000', '0.46ms', '3.2ms', '13MB', '3'])}</tr>`,
    );
    expect(html).toContain(`<tr><td><span class="muted">-</span></td><td><span class="mono">idle</span></td>${n(Array(7).fill('-'))}</tr>`);
    expect(html).toContain('<span class="muted">mean 25% · p95 30% · max 30%</span></figcaption><p class="note">unavailable: no /proc &lt;here&gt; | `x`</p>');
    expect(html).toMatch(/<span class="name mono" title="jobs started">fix\.jobs\.count<\/span><\/figcaption><svg /);
    expect(html).toContain(`<footer><p>Profiler overhead: ${overhead}.</p>`);
  });

  it('every format shows bidirectional controls in names and messages as \\uXXXX, and control characters as spaces', () => {
    const session = fromFile();
    session.modules = [{ ...session.modules[0]!, name: 'evil\u202egnp.exe\u2066x\ufeff' }];
    session.recommendations = [
      { id: 'a\u200fb', priority: 'high', message: 'line\none\u061c', module: null, rule: 'r', action: null, firstSeen: session.startedAt, lastSeen: session.startedAt, count: 1, evidence: { rule: 'r', file: 'rules.json', windowSeconds: 10, conditions: [] } },
    ];
    checkSession(session, 'fixture.json');
    const r = report(session);
    for (const out of [renderText(r, { color: false, all: false }), renderMarkdown(r), renderHtml(r, { generator: 'test' })]) {
      expect(out).not.toMatch(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/);
      // Markdown writes each backslash of a message twice.
      expect(out).toMatch(/evil\\+u202egnp\.exe\\+u2066x\\+ufeff/);
      expect(out).toMatch(/a\\+u200fb/);
      expect(out).toMatch(/line one\\+u061c/);
    }
  });

  it('every format says when a session was recovered from a journal and when a plugin was disabled', () => {
    const session = fromFile();
    const start = Date.parse(session.startedAt);
    session.recovered = { at: '2026-11-30T03:00:00.000Z', journal: 'abc.journal.jsonl', rows: 20, skippedLines: 1, tornLastLine: true };
    session.faults = [{ plugin: 'flaky', hook: 'collect', message: 'boom', count: 5, firstAt: start + 1000, lastAt: start + 5000, disabledAt: start + 5000 }];
    checkSession(session, 'fixture.json');
    const r = report(session);
    const note = /recovered.*abc\.journal\.jsonl.*20 rows, 1 unreadable line skipped, its cut-short last line dropped/;
    const text = renderText(r, { color: false, all: false });
    expect(text).toMatch(note);
    expect(text).toMatch(/flaky in collect: boom \(5 times, from \+1\.0s; disabled at \+5\.0s\)/);
    const md = renderMarkdown(r);
    expect(md).toMatch(/\*\*Recovered\*\* from the journal abc\.journal\.jsonl/);
    expect(md).toMatch(/boom \(disabled at \+5\.0s\)/);
    const html = renderHtml(r, { generator: 'test' });
    expect(html).toMatch(/<strong>Recovered<\/strong> from the journal abc\.journal\.jsonl/);
    expect(html).toContain('boom (disabled at +5.0s)');
  });

  it('any series a valid session may hold is reported in every format, or the session is refused', () => {
    const number = fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: -5, max: 5 }));
    const series = fc.oneof(
      fc.array(fc.option(number), { minLength: ROWS - 1, maxLength: ROWS + 1 }),
      fc.uniqueArray(fc.nat(ROWS), { maxLength: ROWS }).chain((at) =>
        fc.record({ at: fc.constant([...at].sort((a, b) => a - b)), v: fc.array(number, { minLength: at.length, maxLength: at.length }) }),
      ),
      fc.array(fc.integer({ min: 1, max: ROWS }), { minLength: 1, maxLength: 6 }).chain((runs) =>
        fc.record({ runs: fc.constant(runs), v: fc.array(fc.option(number), { minLength: runs.length, maxLength: runs.length }) }),
      ),
    );
    const name = fc.constantFrom('fix.cpu.percent', 'fix.queue.wait_ms', 'fix.jobs.count', 'module.worker.calls', 'module.worker.total_ms');
    let accepted = 0;
    fc.assert(
      fc.property(name, series, (metric, values) => {
        const session = fromFile() as SessionProfile & Record<string, any>;
        session.samples.values[metric] = values;
        try {
          checkSession(session, 'f.json');
        } catch (error) {
          expect(isLoadlightError(error), String(error)).toBe(true);
          return;
        }
        accepted++;
        const r = report(session);
        renderText(r, { color: false, all: true });
        renderMarkdown(r);
        const page = renderHtml(r, { generator: 'test' });
        const count = sessionSeries(session, metric).filter((v) => v !== null).length;
        const chart = charts(page).find((c) => c.metric === metric);
        if (count === 0) expect(page).toMatch(new RegExp(`<figure data-metric="${metric}"><figcaption>.*?</figcaption><p class="note">no values in this session</p>`));
        else expect(chart?.points).toBe(count);
      }),
      { numRuns: 300 },
    );
    expect(accepted).toBeGreaterThan(30);
  });
});
