// End to end: a real Prometheus server (Debian's `prometheus` package; scripts/install-prometheus.sh
// installs it in CI) scrapes a profiled program once a second, then its HTTP API must give back
// the module's CPU and the load levels the session recorded, scrape by scrape.
// Skipped, saying why, when prometheus is not installed; under CI=true it fails instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultRuleFiles, Profiler, sessionSeries, type Evaluation, type SessionProfile } from '@loadlight/core';
import { burnCpu, sleep, until } from '@loadlight/core/testing';
import modules, { profileModule } from '@loadlight/plugin-modules';
import system from '@loadlight/plugin-system';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import prometheus from './index.js';
import { checkTool, freePort } from './test-support.js';

const check = checkTool('prometheus', 'the real Prometheus scrape test');
const SAMPLE_INTERVAL_MS = 500;
const SCRAPE_INTERVAL_S = 1;
const MODULE = 'core.ocr';
const LEVEL = { green: 0, yellow: 1, red: 2 } as const;
const DASHBOARD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../examples/grafana/loadlight-dashboard.json');

/** Points of one series from Prometheus: scrape time (ms) -> value. */
type Points = Map<number, number>;

class PrometheusServer {
  private child: ChildProcess | null = null;
  log = '';
  readonly base: string;

  constructor(
    private readonly bin: string,
    private readonly dir: string,
    private readonly port: number,
  ) {
    this.base = `http://127.0.0.1:${port}`;
  }

  async start(target: string): Promise<void> {
    const config = path.join(this.dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        `  scrape_interval: ${SCRAPE_INTERVAL_S}s`,
        `  scrape_timeout: ${SCRAPE_INTERVAL_S}s`,
        'scrape_configs:',
        '  - job_name: loadlight',
        `    metrics_path: ${new URL(target).pathname}`,
        '    static_configs:',
        `      - targets: ['${new URL(target).host}']`,
        '',
      ].join('\n'),
    );
    this.child = spawn(
      this.bin,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer) => {
      this.log = (this.log + chunk.toString()).slice(-10_000);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    let exited = false;
    this.child.on('exit', () => (exited = true));
    let ready = false;
    await until(
      () => {
        if (exited) throw new Error(`prometheus exited at start:\n${this.log}`);
        void fetch(`${this.base}/-/ready`)
          .then((r) => (ready ||= r.ok))
          .catch(() => undefined);
        return ready;
      },
      `prometheus to be ready:\n${this.log}`,
      15_000,
    );
  }

  /** Resolves once the target was scraped successfully (\`up\` is 1). */
  async firstScrape(): Promise<void> {
    const end = Date.now() + 15_000;
    while ((await this.points('up{job="loadlight"}')).size === 0) {
      if (Date.now() > end) throw new Error(`prometheus did not scrape the program within 15 s:\n${this.log}`);
      await sleep(200);
    }
  }

  /** Every point of `selector` Prometheus holds from the last 5 minutes (a range-vector query gives the raw scrapes). */
  async points(selector: string): Promise<Points> {
    const query = `${selector}[5m]`;
    const response = await fetch(`${this.base}/api/v1/query?query=${encodeURIComponent(query)}&time=${Date.now() / 1000}`);
    const body = (await response.json()) as { status: string; error?: string; data: { resultType: string; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } };
    if (body.status !== 'success') throw new Error(`query ${query} failed: ${body.error}`);
    expect(body.data.resultType).toBe('matrix');
    if (body.data.result.length > 1) throw new Error(`${query} matched ${body.data.result.length} series`);
    return new Map((body.data.result[0]?.values ?? []).map(([t, v]) => [Math.round(t * 1000), Number(v)]));
  }

  /** Series count of an instant query at the present time. */
  async count(expr: string): Promise<number> {
    const response = await fetch(`${this.base}/api/v1/query?query=${encodeURIComponent(expr)}&time=${Date.now() / 1000}`);
    const body = (await response.json()) as { status: string; error?: string; data: { result: unknown[] } };
    if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
    return body.data.result.length;
  }

  async metricNames(): Promise<Set<string>> {
    const body = (await (await fetch(`${this.base}/api/v1/label/__name__/values`)).json()) as { data: string[] };
    return new Set(body.data);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

describe.skipIf(check.skip)('a real Prometheus scraping a profiled program', () => {
  let dir: string;
  let server: PrometheusServer;
  let session: SessionProfile;
  const evaluations = new Map<number, Evaluation>();
  let lastSample: Points;
  let evaluatedAt: Points;
  let cpu: Points;
  let calls: Points;
  let moduleLevel: Points;
  let processLevel: Points;
  /** The Grafana dashboard's queries whose metrics this program exports, and how many series each gave. */
  const dashboardQueries: Array<{ expr: string; series: number }> = [];

  beforeAll(async () => {
    if (!check.bin) throw new Error(`CI=true: ${check.reason}`);
    dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-prometheus-'));
    server = new PrometheusServer(check.bin, dir, await freePort());
    const reporter = prometheus({ port: 0, quiet: true, labels: { bot: 'e2e' } });
    const profiler = new Profiler(
      {
        plugins: [system(), modules()],
        reporters: [reporter],
        rules: [defaultRuleFiles()[0]!], // load levels
        watchRules: false,
        sampleIntervalMs: SAMPLE_INTERVAL_MS,
        windowSeconds: 1, // levels follow the last two samples, so they change within the run
      },
      { handleExit: false, warn: () => undefined },
    );
    profiler.hooks.evaluated.tap('test', (evaluation) => evaluations.set(evaluation.t, evaluation));
    const reader = profileModule(MODULE, (cpuMs: number) => burnCpu(cpuMs));
    await profiler.start();
    try {
      await server.start(reporter.url!);
      // Prometheus hands new targets to its scrapers every 5 s at most: the work starts once it scrapes.
      await server.firstScrape();
      // Heavy (about 80% of a core: red), then light (about 1%: green). The burns are short so
      // that the event loop answers each scrape within a few tens of ms.
      const heavyUntil = Date.now() + 4000;
      while (Date.now() < heavyUntil) {
        reader(40);
        await sleep(5);
      }
      const lightUntil = Date.now() + 4000;
      while (Date.now() < lightUntil) {
        reader(1);
        await sleep(100);
      }
      const selector = '{job="loadlight",bot="e2e"}';
      lastSample = await server.points(`loadlight_last_sample_timestamp_seconds${selector}`);
      evaluatedAt = await server.points(`loadlight_evaluation_timestamp_seconds${selector}`);
      cpu = await server.points(`loadlight_module_cpu_percent{job="loadlight",bot="e2e",module="${MODULE}"}`);
      calls = await server.points(`loadlight_module_calls_total{job="loadlight",bot="e2e",module="${MODULE}"}`);
      moduleLevel = await server.points(`loadlight_load_level{job="loadlight",bot="e2e",kind="module",subject="${MODULE}"}`);
      processLevel = await server.points(`loadlight_load_level{job="loadlight",bot="e2e",kind="process",subject="process"}`);
      // The dashboard's queries as Grafana sends them with every variable on "All".
      const held = await server.metricNames();
      const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
      for (const { expr } of dashboard.panels.flatMap((p) => p.targets ?? [])) {
        if (![...expr.matchAll(/loadlight_\w+/g)].every(([name]) => held.has(name))) continue; // OCR, frames, IO: not this program
        const filled = expr.replaceAll('$__rate_interval', '5s').replace(/\$\{?[a-zA-Z_]\w*\}?/g, '.*');
        dashboardQueries.push({ expr, series: await server.count(filled) });
      }
    } finally {
      // Stopped after the queries: a stop closes the endpoint, and Prometheus would mark the series stale.
      session = await profiler.stop();
    }
  }, 40_000);

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The session row of each scrape, by the sample time the scrape exposed. */
  function scrapes(): Array<{ at: number; t: number; row: number }> {
    return [...lastSample].map(([at, seconds]) => {
      const t = Math.round(seconds * 1000);
      return { at, t, row: session.samples.t.indexOf(t) };
    });
  }

  it('scraped the program about once a second', () => {
    expect(lastSample.size, server.log).toBeGreaterThanOrEqual(6);
    const times = [...lastSample.keys()];
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThan(500);
  });

  it('gives, at each scrape, the module CPU of the session sample that scrape saw', () => {
    let compared = 0;
    for (const { at, t, row } of scrapes()) {
      // Each scrape exposes the time of the sample its values come from, so the comparison is
      // exact. How far that sample is from the scrape's own time is the scrape race: Prometheus
      // stamps a scrape when it starts the request, and the program answers with the latest
      // sample at that moment, so a tick that lands during the request (a few ms) gives a sample
      // up to the scrape timeout newer than the stamp; and the latest sample is at most one
      // sample interval older than the stamp, plus the lateness of a tick behind a busy loop.
      expect(t - at, `sample ${t} vs scrape ${at}`).toBeLessThanOrEqual(SCRAPE_INTERVAL_S * 1000);
      expect(at - t, `sample ${t} vs scrape ${at}`).toBeLessThan(SAMPLE_INTERVAL_MS + 1000);
      expect(row, `the sample of ${new Date(t).toISOString()} is in the session`).toBeGreaterThanOrEqual(0);
      const expected = sessionSeries(session, `module.${MODULE}.cpu_percent`)[row];
      if (expected === null || expected === undefined) {
        expect(cpu.has(at), `no CPU figure at ${t}: no point`).toBe(false);
        continue;
      }
      expect(cpu.get(at), `CPU at scrape ${at} (sample ${t})`).toBe(expected);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(5);
    expect(Math.max(...cpu.values())).toBeGreaterThan(25); // the heavy phase was seen
  });

  it('counts the module calls since the start: the sum of the session rows up to each scrape', () => {
    const perTick = sessionSeries(session, `module.${MODULE}.calls`);
    let compared = 0;
    for (const { at, row } of scrapes()) {
      const rows = perTick.slice(0, row + 1);
      // Before the module's first call its metrics are not declared yet: no series.
      if (rows.every((v) => v === null)) {
        expect(calls.has(at), `no calls series at scrape ${at}`).toBe(false);
        continue;
      }
      expect(calls.get(at), `calls at scrape ${at}`).toBe(rows.reduce<number>((a, v) => a + (v ?? 0), 0));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(5);
  });

  it("answers the Grafana dashboard's queries for the series this program exports", () => {
    expect(dashboardQueries.length).toBeGreaterThanOrEqual(12);
    for (const { expr, series } of dashboardQueries) expect(series, expr).toBeGreaterThan(0);
  });

  it('gives, at each scrape, the load levels of the evaluation that scrape saw', () => {
    const seen = new Set<number>();
    for (const [at, seconds] of evaluatedAt) {
      const evaluation = evaluations.get(Math.round(seconds * 1000));
      expect(evaluation, `an evaluation at ${seconds}`).toBeDefined();
      const level = (subject: string) => evaluation!.levels.find((l) => l.subject === subject)?.level;
      const moduleExpected = level(MODULE);
      if (moduleExpected === undefined) expect(moduleLevel.has(at)).toBe(false);
      else {
        expect(moduleLevel.get(at), `module level at scrape ${at}`).toBe(LEVEL[moduleExpected]);
        seen.add(LEVEL[moduleExpected]);
      }
      expect(processLevel.get(at), `process level at scrape ${at}`).toBe(LEVEL[level('process')!]);
    }
    expect(evaluatedAt.size).toBeGreaterThanOrEqual(6);
    // Heavy then light: the level changed during the run, so the comparison above saw both.
    expect(seen.has(LEVEL.green), [...seen].join()).toBe(true);
    expect(seen.size).toBeGreaterThanOrEqual(2);
    // The session's final levels are those of the last evaluation.
    const last = evaluations.get(Math.max(...evaluations.keys()))!;
    expect(session.levels).toEqual(last.levels.map(({ subject, kind, level }) => ({ subject, kind, level })));
  });
});
