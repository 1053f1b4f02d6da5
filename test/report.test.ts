// `loadlight report` on a session a real profiled run writes: each format's content, refused
// files, a large session, and the HTML report in headless Chromium (charts drawn, no request).
// Needs the built CLI (npm run build); the Chromium part needs /usr/bin/chromium
// (scripts/install-browser.sh) and is skipped without it, but fails in CI.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionSeries, validateSession, type MetricDeclaration, type MetricUnit, type SessionProfile } from '@loadlight/core';
import { createTestProfiler } from '@loadlight/core/testing';
import { formatValue } from '@loadlight/reporter-console';
import { reportCommand } from '../packages/cli/src/report/command.js';
import { loadlight, sessionsIn, tempProject, type Run } from './helpers.js';

const BROWSER = process.env.LOADLIGHT_CHROMIUM || '/usr/bin/chromium';
const BROWSER_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const browserMissing = existsSync(BROWSER) ? null : `${BROWSER} not found: run scripts/install-browser.sh (or set LOADLIGHT_CHROMIUM)`;
if (browserMissing && process.env.CI) throw new Error(`[report e2e] ${browserMissing}`);
if (browserMissing) console.warn(`[report e2e] skipped: ${browserMissing}`);

// What the functions passed to page.evaluate use of the browser (the root tsconfig has no DOM lib).
interface Rect {
  width: number;
  height: number;
}
interface PageElement {
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
  getBoundingClientRect(): Rect;
  getTotalLength(): number;
}
declare const document: { querySelectorAll(selector: string): Iterable<PageElement>; body: PageElement };
declare function getComputedStyle(element: PageElement): { color: string; backgroundColor: string };

// The profiled program: a busy module and a waiting one, an action it runs on itself. Its config
// adds a metric that is 1 for the first second then 0 (an alert that fires and resolves, and a
// recommendation naming the action) and a plugin whose collect always fails (faults).
const CONFIG = `
import { defaultRuleFiles, definePlugin } from '@loadlight/core';
const started = Date.now();
const phase = definePlugin({
  name: 'phase',
  metrics: { 'demo.phase': { unit: 'count', kind: 'gauge', description: 'busy (1), then quiet (0)' } },
  apply(profiler) {
    profiler.hooks.collect.tap('phase', (w) => w.set('demo.phase', Date.now() - started < 1000 ? 1 : 0));
  },
});
const flaky = definePlugin({
  name: 'flaky',
  apply(profiler) {
    profiler.hooks.collect.tap('flaky', () => { throw new Error('sensor unplugged'); });
  },
});
export default {
  sampleIntervalMs: 100,
  windowSeconds: 0.3,
  plugins: ['system', 'modules', phase, flaky],
  reporters: [['json', { dir: 'out' }]],
  rules: [...defaultRuleFiles(), './demo-rules.json'],
};
`;
const busyPhase = { all: [{ fact: 'demo', path: '$.phase', operator: 'greaterThan', value: 0.5 }] };
const RULES = JSON.stringify({
  rules: [
    {
      name: 'demo-busy',
      description: 'the demo is in its busy phase',
      conditions: busyPhase,
      event: {
        type: 'alert',
        params: {
          id: 'demo.busy',
          severity: 'critical',
          // markup and a table separator from a rule: escaped in every format
          message: 'The demo is busy <b>now</b> | phase {{demo.phase}}',
          clearWhen: { all: [{ fact: 'demo', path: '$.phase', operator: 'lessThan', value: 0.5 }] },
        },
      },
    },
    {
      name: 'demo-slow-down',
      description: 'the demo is busy: slow it down',
      conditions: busyPhase,
      event: { type: 'recommendation', params: { id: 'demo.slow-down', priority: 'high', message: 'Slow the demo down', action: 'work.slow-down' } },
    },
  ],
});
const APP = `
import { getProfiler } from '@loadlight/core';
import { profileModule } from '@loadlight/plugin-modules';
let rounds = 20000;
const hash = profileModule('work.hash', () => { let x = 0; for (let i = 0; i < rounds * 20; i++) x += Math.sqrt(i); return x; });
const wait = profileModule('work.wait', () => new Promise((resolve) => setTimeout(resolve, 5)));
getProfiler().actions.register('work.slow-down', () => { rounds = Math.floor(rounds / 2); return { rounds }; });
const busy = setInterval(() => { const start = Date.now(); while (Date.now() - start < 10) hash(); void wait(); }, 20);
setTimeout(() => void getProfiler().actions.run('work.slow-down', { source: 'app' }), 500);
setTimeout(() => clearInterval(busy), 2000);
`;

let dir: string;
let sessionFile: string;
let session: SessionProfile;

/** A copy of the session with `change` applied, written beside it. */
function variant(name: string, change: (s: any) => unknown): string {
  const copy = structuredClone(session) as any;
  const replaced = change(copy);
  const file = path.join(dir, name);
  writeFileSync(file, typeof replaced === 'string' ? replaced : JSON.stringify(replaced ?? copy));
  return file;
}

const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const unitOf = (name: string) => session.catalogue[name]!.unit as MetricUnit;
/** How a session file holds a metric's values: one of the three forms, or none (computed, derived). */
function formOf(s: SessionProfile, name: string): 'dense' | 'sparse' | 'runs' | 'none' {
  const series = Object.hasOwn(s.samples.values, name) ? s.samples.values[name] : undefined;
  return series === undefined ? 'none' : Array.isArray(series) ? 'dense' : 'runs' in series ? 'runs' : 'sparse';
}
/**
 * Metrics with values over time (charted): stored in any form or computed, read with core's
 * sessionSeries; derived ones have none.
 */
const charted = (s: SessionProfile = session) =>
  Object.keys(s.catalogue).filter((name) => !s.catalogue[name]!.derivedFrom && sessionSeries(s, name).some((v) => v !== null));
/** Metrics computed from a formula (no series in the file) that have values. */
const computed = () => charted().filter((name) => session.catalogue[name]!.formula !== undefined);

function expectRefused(run: Run, ...parts: Array<string | RegExp>): void {
  expect(run.code, run.stdout + run.stderr).toBe(1);
  expect(run.stdout).toBe('');
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stderr).not.toContain('unexpected error');
  for (const part of parts) {
    if (typeof part === 'string') expect(run.stderr).toContain(part);
    else expect(run.stderr).toMatch(part);
  }
}

beforeAll(async () => {
  dir = tempProject({ 'perf.config.ts': CONFIG, 'demo-rules.json': RULES, 'app.js': APP });
  const run = await loadlight(['run', '--', 'node', 'app.js'], { cwd: dir });
  expect(run.code, run.stderr).toBe(0);
  const [written] = sessionsIn(path.join(dir, 'out'));
  expect(written, run.stderr).toBeDefined();
  sessionFile = written!.file;
  validateSession(written!.data);
  session = written!.data as SessionProfile;
  // what the tests below rely on
  expect(session.modules.map((m) => m.name).sort()).toEqual(['work.hash', 'work.wait']);
  expect(session.alerts.some((a) => a.id === 'demo.busy' && a.state === 'resolved'), JSON.stringify(session.alerts)).toBe(true);
  expect(session.actions).toHaveLength(1);
  expect(session.faults.some((f) => f.plugin === 'flaky')).toBe(true);
  // a version 2 session: computed metrics with values but no series, and not every series dense
  expect(session.schemaVersion).toBe(2);
  expect(computed()).toEqual(expect.arrayContaining(['module.work.hash.calls_per_minute', 'module.work.hash.cpu_percent', 'module.work.hash.latency_mean_ms']));
  for (const name of computed()) expect(formOf(session, name), name).toBe('none');
  expect(charted().filter((name) => formOf(session, name) === 'runs').length, JSON.stringify(session.samples.values)).toBeGreaterThan(0);
}, 60_000);

describe('loadlight report (terminal)', () => {
  let run: Run;
  beforeAll(async () => {
    run = await loadlight(['report', sessionFile]);
  });

  it('summarises the session: header, modules by CPU with their lights', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toMatch(/\u001b\[/); // NO_COLOR (the helpers set it) and not a TTY
    expect(run.stdout).toContain(`loadlight report  ${session.sessionId}  ${sessionFile}`);
    expect(run.stdout).toMatch(new RegExp(`, \\d+ samples every 100ms`));
    const byCpu = session.modules.slice().sort((a, b) => (b.cpuPercent ?? -1) - (a.cpuPercent ?? -1));
    expect(byCpu[0]!.name).toBe('work.hash');
    const lines = run.stdout.split('\n');
    const rows = byCpu.map((m) => lines.findIndex((l) => new RegExp(`^  ${m.level ?? '-'}\\s+${escapeRe(m.name)}\\s+${escapeRe(formatValue(m.cpuPercent, 'percent'))}\\s`).test(l)));
    expect(rows.every((i) => i > 0), run.stdout).toBe(true);
    expect(rows).toEqual(rows.slice().sort((a, b) => a - b));
    const hash = lines[rows[0]!]!;
    expect(hash).toContain(` ${byCpu[0]!.calls} `);
  });

  it('lists count, mean, p95 and max with units for every metric but the per-module ones', () => {
    const perModule = Object.values(session.catalogue).filter((c) => c.module && !c.derivedFrom).length;
    expect(run.stdout).toContain(`${perModule} per-module metrics are summed up in the module table; --all lists them`);
    for (const name of charted().filter((n) => !session.catalogue[n]!.module)) {
      const s = session.statistics[name]!;
      const cells = [s.count, formatValue(s.mean, unitOf(name)), formatValue(s.p95, unitOf(name)), formatValue(s.max, unitOf(name))];
      expect(run.stdout).toMatch(new RegExp(`^  ${escapeRe(name)}\\s+${cells.map((c) => escapeRe(String(c))).join('\\s+')}$`, 'm'));
    }
    expect(run.stdout).toMatch(/^ {2}process\.cpu\.percent\s+\d+\s+[\d.]+%\s+[\d.]+%\s+[\d.]+%$/m);
    expect(run.stdout).not.toMatch(/^ {2}module\.work\.hash\./m);
  });

  it('lists recommendations by priority, alerts with when they fired and resolved, actions, faults and overhead', () => {
    const ids = session.recommendations.map((r) => r.id);
    expect(ids).toContain('demo.slow-down');
    const positions = session.recommendations
      .map((r) => ({ rank: { high: 0, medium: 1, low: 2 }[r.priority], at: run.stdout.indexOf(`  ${r.priority}  ${r.id}`) }))
      .sort((a, b) => a.at - b.at);
    expect(positions.every((p) => p.at > 0)).toBe(true);
    expect(positions.map((p) => p.rank)).toEqual(positions.map((p) => p.rank).sort());
    expect(run.stdout).toMatch(/high {2}demo\.slow-down {2}\d+ times, (at \+[\d.]+m?s|\+[\d.]+m?s to \+[\d.]+m?s)\n {4}Slow the demo down\n {4}action: work\.slow-down/);
    expect(run.stdout).toMatch(/critical {2}demo\.busy {2}fired \+[\d.]+m?s, resolved \+[\d.]+m?s\n {4}The demo is busy <b>now<\/b> \| phase [\d.]+/);
    expect(run.stdout).toMatch(/\+[\d.]+m?s {2}work\.slow-down from app: ok in [\d.]+ms, for demo\.slow-down -> \{"rounds":10000\}/);
    expect(run.stdout).toMatch(/flaky in collect: sensor unplugged \(5 times, from \+[\d.]+m?s; disabled at \+[\d.]+m?s\)/);
    expect(run.stdout).toMatch(/Profiler overhead\n {2}[\d.]+% of one core \([\d.]+m?s over \d+ ticks, [\d.]+ms a tick\), store \d+KB, heap [\d.]+MB, RSS \d+MB/);
  });

  it('--all lists the per-module metrics, --top limits the modules', async () => {
    const all = await loadlight(['report', sessionFile, '--all', '--top', '1']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^ {2}module\.work\.hash\.calls\s+\d+/m);
    expect(all.stdout).toContain('Modules by CPU (top 1 of 2)');
    expect(all.stdout).not.toMatch(/^ {2}\S+\s+work\.wait\s/m);
  });

  it('colours the lights on a terminal, and not with NO_COLOR or into a pipe', async () => {
    const saved = { NO_COLOR: process.env.NO_COLOR, FORCE_COLOR: process.env.FORCE_COLOR, TERM: process.env.TERM };
    const render = async (isTTY: boolean, env: Record<string, string | undefined>) => {
      Object.assign(process.env, { TERM: 'xterm' });
      for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
      const out = Object.assign(new PassThrough(), { isTTY });
      let text = '';
      out.on('data', (d: Buffer) => (text += d.toString()));
      expect(await reportCommand([sessionFile], out)).toBe(0);
      return text;
    };
    try {
      const tty = await render(true, { NO_COLOR: undefined, FORCE_COLOR: undefined });
      expect(tty).toMatch(/\u001b\[3[123]m● (red|yellow|green)\u001b\[39m\s+work\.hash/);
      expect(await render(true, { NO_COLOR: '1', FORCE_COLOR: undefined })).not.toMatch(/\u001b\[/);
      expect(await render(false, { NO_COLOR: undefined, FORCE_COLOR: undefined })).not.toMatch(/\u001b\[/);
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    const forced = await loadlight(['report', sessionFile], { env: { NO_COLOR: '', FORCE_COLOR: '1' } });
    expect(forced.stdout).toMatch(/\u001b\[1mloadlight report\u001b\[22m/);
  });

  it('reads the newest session of a folder', async () => {
    const folder = await loadlight(['report', path.join(dir, 'out')]);
    expect(folder.code, folder.stderr).toBe(0);
    expect(folder.stderr).toContain(`reading the newest session in ${path.join(dir, 'out')}: ${path.basename(sessionFile)}`);
    expect(folder.stdout).toContain(session.sessionId);
  });
});

describe('loadlight report --format md', () => {
  it('writes GitHub-flavoured Markdown: tables, lights, escaped text', async () => {
    const run = await loadlight(['report', sessionFile, '--format', 'md']);
    expect(run.code, run.stderr).toBe(0);
    const md = run.stdout;
    expect(md.startsWith(`## loadlight report: \`${session.sessionId}\`\n`)).toBe(true);
    expect(md).toContain('| Light | Module | CPU | CPU time | Calls | Mean | p95 | Memory | Errors |\n| --- | --- | ---: |');
    const hash = session.modules.find((m) => m.name === 'work.hash')!;
    const emoji = { green: '🟢', yellow: '🟡', red: '🔴' }[hash.level!];
    expect(md).toContain(`| ${emoji} ${hash.level} | \`work.hash\` | ${formatValue(hash.cpuPercent, 'percent')} |`);
    expect(md).toMatch(/- 🔴 \*\*high\*\* `demo\.slow-down`: Slow the demo down _\(\d+×, (at \+[\d.]+m?s|\+[\d.]+m?s to \+[\d.]+m?s); action `work\.slow-down`\)_/);
    // the rule's markup is shown as text, its "|" does not split the table row
    expect(md).toMatch(/\| 🔴 critical \| `demo\.busy` \| \+[\d.]+m?s \| \+[\d.]+m?s \| The demo is busy &lt;b&gt;now&lt;\/b&gt; \\\| phase [\d.]+ \|/);
    const cpu = session.statistics['process.cpu.percent']!;
    expect(md).toContain(`| \`process.cpu.percent\` | ${cpu.count} | ${formatValue(cpu.mean, 'percent')} | ${formatValue(cpu.p95, 'percent')} | ${formatValue(cpu.max, 'percent')} |`);
    expect(md).toMatch(/<details><summary>Per-module metrics \(\d+\)<\/summary>\n\n\| Metric \| Count/);
    expect(md).toMatch(/\| \+[\d.]+m?s \| `work\.slow-down` \| app \| ✅ ok \| [\d.]+ms \| `\{"rounds":10000\}` \|/);
    expect(md).toMatch(/\| `flaky` \| `collect` \| 5 \| sensor unplugged \(disabled at \+[\d.]+m?s\) \|/);
    expect(md).toMatch(/\nProfiler overhead: [\d.]+% of one core/);
    // every table row has as many cells as its header
    for (const block of md.split('\n\n').filter((b) => b.startsWith('| '))) {
      const rows = block.split('\n').map((r) => r.replace(/\\\|/g, '').split('|').length);
      expect(new Set(rows).size, block).toBe(1);
    }
  });
});

describe('loadlight report --format html', () => {
  let html: string;
  let htmlFile: string;
  beforeAll(async () => {
    const run = await loadlight(['report', sessionFile, '--format', 'html']);
    expect(run.code, run.stderr).toBe(0);
    htmlFile = sessionFile.replace(/\.json$/, '.html');
    expect(run.stdout).toBe(`loadlight report: wrote ${htmlFile} (${formatValue(statSync(htmlFile).size, 'bytes')})\n`);
    html = readFileSync(htmlFile, 'utf8');
  });

  it('is one self-contained page: no script, no external reference, a CSP that forbids any fetch', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none';`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|src=/i);
    // the only links are fragments within the page
    for (const [, href] of html.matchAll(/href="([^"]*)"/g)) expect(href).toMatch(/^#/);
    expect(html).toContain('@media (prefers-color-scheme:dark)');
  });

  it('holds a chart for every metric with values, the module table and the recommendations', () => {
    for (const name of charted()) {
      expect(html).toMatch(new RegExp(`<svg class="chart"[^>]* data-metric="${escapeRe(name)}" data-points="[1-9]\\d*">`));
    }
    expect(html.match(/<path class="line" d="M/g)?.length).toBe(charted().length);
    expect(html).toContain('<code>demo.slow-down</code>');
    expect(html).toContain('The demo is busy &lt;b&gt;now&lt;/b&gt; | phase');
    expect(html).not.toContain('<b>now</b>');
  });

  it('--out writes where asked, and never over the session itself', async () => {
    const out = path.join(dir, 'custom report.html');
    const run = await loadlight(['report', sessionFile, '--format', 'html', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('<title>loadlight report: ');
    const over = await loadlight(['report', sessionFile, '--format', 'html', '--out', sessionFile]);
    expectRefused(over, 'is the session file itself');
    validateSession(JSON.parse(readFileSync(sessionFile, 'utf8')));
    const nowhere = await loadlight(['report', sessionFile, '--format', 'md', '--out', path.join(dir, 'missing/r.md')]);
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toBe(`loadlight report: cannot write ${path.join(dir, 'missing/r.md')}: its folder does not exist\n`);
  });

  describe.skipIf(browserMissing !== null)('in headless Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: BROWSER, args: BROWSER_ARGS });
    }, 30_000);
    afterAll(async () => {
      await browser?.close();
    });

    for (const scheme of ['light', 'dark'] as const) {
      it(`draws every chart and makes no request (${scheme})`, async () => {
        const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1200, height: 900 } });
        const routed: string[] = [];
        const requested: string[] = [];
        const problems: string[] = [];
        // every request the page makes goes through here: only the file itself is let through
        await context.route('**/*', (route) => {
          const url = route.request().url();
          routed.push(url);
          return url === pathToFileURL(htmlFile).href ? route.continue() : route.abort();
        });
        const page = await context.newPage();
        page.on('request', (r) => requested.push(r.url()));
        page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning') problems.push(`console: ${m.text()}`);
        });
        await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'load' });

        const charts = await page.evaluate(() =>
          [...document.querySelectorAll('svg.chart')].map((svg) => {
            const line = svg.querySelector('path.line');
            const box = svg.getBoundingClientRect();
            return {
              metric: svg.getAttribute('data-metric'),
              points: Number(svg.getAttribute('data-points')),
              drawn: (line?.getAttribute('d')?.match(/[ML]/g) ?? []).length,
              length: line ? line.getTotalLength() : 0,
              lineBox: line ? line.getBoundingClientRect() : { width: 0, height: 0 },
              width: box.width,
              height: box.height,
            };
          }),
        );
        expect(charts.map((c) => c.metric).sort()).toEqual(charted().sort());
        for (const chart of charts) {
          const series = sessionSeries(session, chart.metric!);
          expect(chart.width, chart.metric!).toBeGreaterThan(200);
          expect(chart.height, chart.metric!).toBeGreaterThan(50);
          expect(chart.points, chart.metric!).toBe(chart.drawn);
          expect(chart.points, chart.metric!).toBe(series.filter((v) => v !== null).length);
          // a line wherever two consecutive samples have values
          if (series.some((v, i) => v !== null && series[i + 1] != null)) {
            expect(chart.length, chart.metric!).toBeGreaterThan(0);
            expect(chart.lineBox.width, chart.metric!).toBeGreaterThan(0);
          }
        }
        const modules = await page.locator('table[data-table="modules"] tbody tr').count();
        expect(modules).toBe(session.modules.length);
        expect(await page.locator('li[data-recommendation]').count()).toBe(session.recommendations.length);
        // readable in either scheme: the text stands out from the background
        const colors = await page.evaluate(() => {
          const style = getComputedStyle(document.body);
          return { color: style.color, background: style.backgroundColor };
        });
        const luminance = (css: string) => {
          const [r, g, b] = css.match(/\d+/g)!.map(Number);
          return (0.2126 * r! + 0.7152 * g! + 0.0722 * b!) / 255;
        };
        expect(Math.abs(luminance(colors.color) - luminance(colors.background))).toBeGreaterThan(0.6);
        expect(luminance(colors.background) > 0.5).toBe(scheme === 'light');

        expect(routed).toEqual([pathToFileURL(htmlFile).href]);
        expect(requested).toEqual([pathToFileURL(htmlFile).href]);
        expect(problems).toEqual([]);
        await context.close();
      });
    }
  });
});

describe('loadlight report refuses what is not a valid session', () => {
  it('a truncated session: the line and column where it ends', async () => {
    const text = readFileSync(sessionFile, 'utf8');
    const cut = variant('truncated.json', () => text.slice(0, Math.floor(text.length / 2)));
    expectRefused(await loadlight(['report', cut]), `loadlight: ${cut}: not valid JSON: the file ends at line `, 'cut short');
  });

  it('not JSON, an unknown schema version, schema errors: naming the file, the path and what was expected', async () => {
    const notJson = variant('notes.json', () => 'session: yes\n');
    expectRefused(await loadlight(['report', notJson]), `loadlight: ${notJson}: not valid JSON at line 1, column 1: expected a value`);
    const v3 = variant('v3.json', (s) => ({ ...s, schemaVersion: 3 }));
    expectRefused(await loadlight(['report', v3]), `loadlight: ${v3}: session schema version 3 is not supported: this loadlight reads "schemaVersion": 2`);
    const other = variant('package.json', () => ({ name: 'x', version: '1.0.0' }));
    expectRefused(await loadlight(['report', other]), `${other}: not a loadlight session: it has no "schemaVersion"`);
    const wrong = variant('wrong.json', (s) => {
      s.samples.t[0] = 'yesterday';
      s.modules[0].level = 'purple';
      delete s.overhead;
    });
    expectRefused(
      await loadlight(['report', wrong]),
      `loadlight: ${wrong} is not a valid loadlight session:`,
      '"samples.t[0]" must be number, got string "yesterday"',
      '"modules[0].level" must be one of "green", "yellow", "red", null, got string "purple"',
      '"overhead" is required.',
    );
  });

  it('a version 1 session (every series dense, computed ones stored, no "since"): of an older version', async () => {
    const v1 = variant('v1.json', (s) => {
      const values: Record<string, Array<number | null>> = {};
      for (const [name, entry] of Object.entries(s.catalogue as SessionProfile['catalogue'])) {
        if (!entry.derivedFrom) values[name] = sessionSeries(session, name);
        delete entry.formula;
      }
      s.schemaVersion = 1;
      s.samples = { t: s.samples.t, values };
    });
    expectRefused(
      await loadlight(['report', v1]),
      `loadlight: ${v1} is a loadlight session of schema version 1, written by an older loadlight: this loadlight reads schema version 2 `,
      'Read it with the loadlight that wrote it.',
    );
  });

  it('a series that does not fit the sample times, in each form: naming its path', async () => {
    const n = session.samples.t.length;
    const short = variant('short.json', (s) => {
      s.samples.values['process.cpu.percent'] = sessionSeries(session, 'process.cpu.percent').slice(1);
    });
    expectRefused(await loadlight(['report', short]), `"samples.values["process.cpu.percent"]" has ${n - 1} values, expected ${n} (one per time in "samples.t")`);
    const sparse = variant('sparse.json', (s) => {
      s.samples.values['demo.phase'] = { at: [n - 1, 0], v: [0, 1] };
    });
    expectRefused(
      await loadlight(['report', sparse]),
      `loadlight: ${sparse} is not a valid loadlight session:`,
      `"samples.values["demo.phase"].at[1]" is 0: expected rows in ascending order, each below ${n} (the number of times in "samples.t").`,
    );
    const runs = variant('runs.json', (s) => {
      s.samples.values['demo.phase'] = { runs: [1, n], v: [1, 0] };
    });
    expectRefused(
      await loadlight(['report', runs]),
      `loadlight: ${runs} is not a valid loadlight session:`,
      `"samples.values["demo.phase"]" has runs of ${n + 1} rows in all, expected ${n} (the number of times in "samples.t").`,
    );
  });

  it('a missing file, an empty file, and wrong options', async () => {
    expectRefused(await loadlight(['report', path.join(dir, 'nope.json')]), `${path.join(dir, 'nope.json')}: cannot read the session file: no such file`);
    const empty = variant('empty.json', () => '');
    expectRefused(await loadlight(['report', empty]), 'the file is empty');
    expectRefused(await loadlight(['report']), 'loadlight report: which session?', 'Run "loadlight report --help" for usage.');
    expectRefused(await loadlight(['report', sessionFile, '--format', 'pdf']), '--format expects text, md or html, got "pdf"');
    expectRefused(await loadlight(['report', sessionFile, '--top', '0']), '--top expects a whole number');
    expectRefused(await loadlight(['report', sessionFile, sessionFile]), 'one session at a time');
  });
});

describe('a large session', () => {
  it('a full ring of 60,000 samples, written by core: reported in every format, the HTML charts thinned', async () => {
    // A profiler with the real session's metrics, its rows committed 1 s apart: the real session's
    // stored values over and over; the Store computes the computed ones, core writes the session.
    const n = 60_000;
    const { profiler } = createTestProfiler([], { maxSamples: n });
    const stored: string[] = [];
    for (const [name, entry] of Object.entries(session.catalogue)) {
      const declaration: MetricDeclaration = { unit: entry.unit, kind: entry.kind, description: entry.description };
      if (entry.module) declaration.module = { name: entry.module, field: name.slice(`module.${entry.module}.`.length) };
      if (entry.formula) declaration.formula = entry.formula;
      if (entry.derivedFrom) declaration.derivedFrom = entry.derivedFrom;
      profiler.declareMetric(name, declaration, entry.plugin);
      if (entry.unavailable) profiler.markUnavailable(name, entry.unavailable);
      stored.push(Object.hasOwn(session.samples.values, name) ? name : '');
    }
    const columns = stored.map((name) => (name ? sessionSeries(session, name) : []));
    const m = session.samples.t.length;
    const row = new Float64Array(stored.length);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < columns.length; k++) row[k] = columns[k]![i % m] ?? Number.NaN;
      profiler.store.commit(profiler.store.originT + (i + 1) * 1000, row);
    }
    const written = profiler.session();
    const forms = new Set(Object.keys(written.catalogue).map((name) => formOf(written, name)));
    expect([...forms].sort()).toEqual(['dense', 'none', 'runs', 'sparse']);
    const big = path.join(dir, 'big.json');
    writeFileSync(big, JSON.stringify(written));
    const bytes = statSync(big).size;
    expect(bytes).toBeGreaterThan(5 * 1024 * 1024);

    const text = await loadlight(['report', big]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`${n} samples every 100ms (ring of ${n} full: the oldest samples were dropped)`);
    const md = await loadlight(['report', big, '--format', 'md']);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toContain(`${n} samples every 100ms`);
    const out = path.join(dir, 'big.html');
    const html = await loadlight(['report', big, '--format', 'html', '--out', out]);
    expect(html.code, html.stderr).toBe(0);
    const page = readFileSync(out, 'utf8');
    expect(page.length).toBeLessThan(bytes / 5);
    const points = [...page.matchAll(/data-metric="([^"]+)" data-points="(\d+)"/g)].map((match) => ({ metric: match[1]!, points: Number(match[2]) }));
    expect(points.map((p) => p.metric).sort()).toEqual(charted(written).sort());
    expect(points.map((p) => p.metric)).toEqual(expect.arrayContaining(computed()));
    for (const p of points) {
      expect(p.points, p.metric).toBeGreaterThan(0);
      expect(p.points, p.metric).toBeLessThanOrEqual(600);
    }
  }, 60_000);
});
