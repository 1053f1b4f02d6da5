// The Grafana dashboard asks only for series the Prometheus reporter really exports, filters every
// query by the $job and $instance variables, and its PromQL parses (promtool, when installed).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Profiler } from '@loadlight/core';
import { moreSamples } from '@loadlight/core/testing';
import frames from '@loadlight/plugin-frames';
import io from '@loadlight/plugin-io';
import modules, { profileModule } from '@loadlight/plugin-modules';
import ocr from '@loadlight/plugin-ocr';
import system from '@loadlight/plugin-system';
import prometheus from '@loadlight/reporter-prometheus';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkTool, parseExposition } from '../../packages/reporter-prometheus/src/test-support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dashboard = JSON.parse(readFileSync(path.join(here, 'loadlight-dashboard.json'), 'utf8')) as Dashboard;
const promtool = checkTool('promtool', 'the PromQL syntax check of the Grafana dashboard');

interface Target {
  expr: string;
  refId: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

const panels = allPanels(dashboard.panels);
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const variables = dashboard.templating.list.filter((v) => v.type === 'query');
const variableQuery = (v: Variable) => (typeof v.query === 'string' ? v.query : v.query.query);

/** PromQL words that are not metric names. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/** The metric names a PromQL expression selects (functions, aggregations, labels and strings left out). */
export function metricNames(expr: string): string[] {
  const e = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\$\{?\w+\}?/g, ' ') // Grafana variables
    .replace(/\boffset\s+-?\w+/g, ' ') // offset durations
    .replace(/(?<![\w:])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g, ' '); // numbers
  const names: string[] = [];
  for (const match of e.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = e.slice(match.index + match[0].length).trimStart();
    if (rest.startsWith('(') || KEYWORDS.has(match[0])) continue; // a function or aggregation
    names.push(match[0]);
  }
  return names;
}

/** `label_values(metric{...}, label)` -> metric. */
function variableMetric(query: string): string {
  const match = /^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{[^}]*\})?\s*,\s*\w+\s*\)$/.exec(query);
  if (!match) throw new Error(`unexpected variable query: ${query}`);
  return match[1]!;
}

describe('metricNames', () => {
  it('finds the selected metrics and nothing else', () => {
    expect(metricNames('max by (job, instance) (loadlight_load_level{job=~"$job",kind="process"})')).toEqual(['loadlight_load_level']);
    expect(metricNames('60 * sum by (module) (rate(a_total{x="y"}[$__rate_interval])) + b / on(instance) group_left c')).toEqual(['a_total', 'b', 'c']);
    expect(metricNames('label_replace(x, "module", "$1", "subject", "(.*)") or vector(0)')).toEqual(['x']);
    expect(metricNames('count(y offset 5m) > bool 1e3')).toEqual(['y']);
  });
});

describe('the Grafana dashboard', () => {
  let exported: Set<string>;

  beforeAll(async () => {
    // Every series a profiler with all of loadlight's plugins, a module and the default rules exports.
    const reporter = prometheus({ port: 0, quiet: true });
    const profiler = new Profiler(
      { plugins: [system(), modules(), ocr(), frames(), io()], reporters: [reporter], watchRules: false, sampleIntervalMs: 50 },
      { handleExit: false, warn: () => undefined },
    );
    const work = profileModule('dashboard.test', () => JSON.stringify({ a: 1 }));
    await profiler.start();
    work();
    await moreSamples(profiler, 3);
    await profiler.stop();
    exported = new Set(parseExposition(await reporter.exposition()).keys());
    expect(exported.has('loadlight_module_cpu_percent')).toBe(true);
  });

  it('queries only metric names the reporter exports', () => {
    expect(queries.length).toBeGreaterThanOrEqual(20);
    for (const { panel, expr } of queries) {
      const names = metricNames(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(exported.has(name), `${panel}: ${name} in ${expr}`).toBe(true);
    }
    for (const variable of variables) expect(exported.has(variableMetric(variableQuery(variable))), variable.name).toBe(true);
  });

  it('has $job and $instance variables, and every query follows them', () => {
    expect(variables.map((v) => v.name)).toEqual(expect.arrayContaining(['job', 'instance']));
    for (const { panel, expr } of queries) {
      const selectors = [...expr.matchAll(/loadlight_\w+\{([^}]*)\}/g)].map((m) => m[1]!);
      expect(selectors.length, `${panel}: ${expr}`).toBe(metricNames(expr).length); // no metric without a selector
      for (const selector of selectors) {
        expect(selector, `${panel}: ${expr}`).toContain('job=~"$job"');
        expect(selector, `${panel}: ${expr}`).toContain('instance=~"$instance"');
      }
    }
    expect(variableQuery(variables.find((v) => v.name === 'instance')!)).toContain('job=~"$job"');
  });

  it('shows CPU, memory, event loop, OCR/frames/IO, modules, load levels and alerts', () => {
    const used = (pattern: RegExp) => queries.filter((q) => pattern.test(q.expr)).map((q) => q.panel);
    expect(used(/loadlight_(system|process)_cpu_percent/)).toContain('CPU');
    expect(used(/loadlight_process_memory_rss_bytes/)).toContain('Memory');
    expect(used(/loadlight_process_event_loop_delay_p99_seconds/)).toContain('Event loop');
    expect(used(/loadlight_ocr_calls_total/)).toContain('OCR');
    expect(used(/loadlight_frames_fps/)).toContain('Frames');
    expect(used(/loadlight_io_wait_share_percent/)).toContain('IO');
    expect(used(/loadlight_module_cpu_percent/)).toEqual(expect.arrayContaining(['CPU by module', 'Modules']));
    expect(used(/loadlight_load_level/)).toEqual(expect.arrayContaining(['Load levels', 'Modules']));
    expect(used(/loadlight_alert_active/)).toEqual(expect.arrayContaining(['Active alerts']));
    expect(panels.filter((p) => p.title === 'Modules').map((p) => p.type)).toEqual(['row', 'table']);
  });

  it('is importable: a uid, unique panel ids, the datasource variable everywhere, no overlapping panels', () => {
    expect(dashboard.uid).toBe('loadlight-overview');
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')?.type).toBe('datasource');
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels.filter((p) => p.type !== 'row')) expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
    const boxes = dashboard.panels.map((p) => ({ title: p.title, ...p.gridPos }));
    for (const [i, a] of boxes.entries()) {
      expect(a.x + a.w, a.title).toBeLessThanOrEqual(24);
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${a.title} / ${b.title}`).toBe(false);
      }
    }
  });

  it.skipIf(promtool.skip)('has PromQL that Prometheus parses (promtool check rules)', () => {
    if (!promtool.bin) throw new Error(promtool.reason!);
    // Grafana's variables as Grafana would fill them in, then each query as a recording rule.
    const fill = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replace(/\$\{?[a-zA-Z_]\w*\}?/g, '.*');
    const rules = queries.map(({ expr }, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(fill(expr))}`);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-grafana-'));
    try {
      const file = path.join(dir, 'rules.yml');
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
      const result = spawnSync(promtool.bin, ['check', 'rules', file], { encoding: 'utf8' });
      expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
      expect(result.stdout).toContain(`SUCCESS: ${queries.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
