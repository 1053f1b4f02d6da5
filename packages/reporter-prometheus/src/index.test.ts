import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultRuleFiles, definePlugin, Profiler, sessionSeries, type ActiveAlert, type Evaluation, type MetricInfo, type SessionProfile } from '@loadlight/core';
import { burnCpu, sleep } from '@loadlight/core/testing';
import frames, { trackFrame } from '@loadlight/plugin-frames';
import io, { trackIoWait } from '@loadlight/plugin-io';
import modules, { moduleSpan, profileModule } from '@loadlight/plugin-modules';
import ocr, { timeOcr } from '@loadlight/plugin-ocr';
import system from '@loadlight/plugin-system';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import prometheus, { exposedName, exposedType, type PrometheusReporter } from './index.js';
import { checkTool, parseExposition, sampleOf, type ParsedFamily } from './test-support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const LEVEL = { green: 0, yellow: 1, red: 2 } as const;
const BOT = { bot: 'reader-1' };
/** A module name no profiler wrapper would accept, but a plugin may declare: label escaping. */
const ODD = 'odd "quoted" \\ back\nslash';
/** A description that HELP must escape (a backslash, a line break). */
const ODD_HELP = 'a \\ backslash\nand a new line in a HELP text';
const promtool = checkTool('promtool', 'the promtool lint of the exposition');

/** A plugin with a module of an odd name (label escaping) and a metric whose name clashes with the reporter's own. */
const odd = definePlugin({
  name: 'odd',
  metrics: {
    'odd.mod.cpu_percent': {
      unit: 'percent',
      kind: 'gauge',
      description: 'an odd module',
      module: { name: ODD, field: 'cpu_percent', tags: ['weird', 'heatmap'] },
    },
    'odd.text': { unit: 'count', kind: 'gauge', description: ODD_HELP },
    'load.level': { unit: 'count', kind: 'gauge', description: "its name clashes with the reporter's loadlight_load_level" },
  },
  apply(profiler) {
    profiler.hooks.collect.tapPromise('odd', async (w) => {
      w.set('odd.mod.cpu_percent', 12.5);
      w.set('odd.text', 1);
      w.set('load.level', 3);
    });
  },
});

function tempDir(prefix: string): string {
  const base = path.join(root, 'test/.tmp');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(path.join(base, prefix));
}

/** Rules: the default load levels, plus an alert that fires for every module at once. */
function writeRules(dir: string): string[] {
  const file = path.join(dir, 'module-alert.json');
  const rule = {
    name: 'module-seen',
    description: 'Fires for every module that has a CPU figure: the test needs an active alert with a module.',
    conditions: { all: [{ fact: 'module', path: '$.cpu_percent', operator: 'greaterThanInclusive', value: 0 }] },
    event: { type: 'alert', params: { id: 'module-seen', severity: 'critical', message: '{{module.name}} was seen' } },
  };
  writeFileSync(file, JSON.stringify({ rules: [rule] }));
  return [defaultRuleFiles()[0]!, file];
}

/** What the profiler held when a scrape was answered: the values the exposition must show. */
interface Expected {
  latestTime: number | null;
  /** Latest value of each metric (a derived one: its window aggregate). */
  values: Map<string, number | null>;
  evaluation: Evaluation | null;
  alerts: ActiveAlert[];
}

function capture(profiler: Profiler): Expected {
  const { store } = profiler;
  const values = new Map<string, number | null>();
  for (const info of store.catalogue()) {
    values.set(info.name, info.derivedFrom ? store.window(info.name, profiler.config.windowSeconds).slopePerMinute : store.latest(info.name));
  }
  return { latestTime: store.latestTime(), values, evaluation: profiler.evaluation, alerts: profiler.activeAlerts() };
}

/**
 * A scrape that saw exactly the state captured with it: neither a tick nor an evaluation happened
 * while the request was served (checked, and captured, in the same synchronous step).
 */
async function consistentScrape(profiler: Profiler, url: string): Promise<{ text: string; families: Map<string, ParsedFamily>; expected: Expected }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const t = profiler.store.latestTime();
    const evaluated = profiler.evaluation;
    const text = await (await fetch(url)).text();
    if (profiler.store.latestTime() === t && profiler.evaluation === evaluated) return { text, families: parseExposition(text), expected: capture(profiler) };
  }
  throw new Error('every scrape raced a tick');
}

/** The conversion the README promises, written independently of the reporter's. */
function expectedValue(unit: string, value: number): number {
  if (unit === 'ms' || unit === 'ms_per_minute') return value / 1000;
  if (unit === 'mb' || unit === 'mb_per_minute') return value * 1024 * 1024;
  return value;
}

function expectClose(actual: number, expected: number, unit: string, what: string): void {
  // ms -> s may differ by the last bit of a double; MB -> bytes is rounded to whole bytes.
  const tolerance = unit.startsWith('mb') ? 0.5 : 1e-12 * Math.max(1, Math.abs(expected));
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
}

/** The family and label set exposing one loadlight metric. */
function seriesOf(info: MetricInfo): { family: string; labels: Record<string, string> } {
  return { family: `loadlight_${exposedName(info)}`, labels: info.module ? { module: info.module.name } : {} };
}

describe('a real profiler session, scraped over HTTP', () => {
  const warnings: string[] = [];
  let reporter: PrometheusReporter;
  let profiler: Profiler;
  let url: string;
  let session: SessionProfile;
  let dir: string;
  const scrapes: Array<Map<string, ParsedFamily>> = [];
  let live: { text: string; families: Map<string, ParsedFamily>; expected: Expected };
  let final: Map<string, ParsedFamily>;

  beforeAll(async () => {
    dir = tempDir('prometheus-');
    reporter = prometheus({ port: 0, labels: BOT, quiet: true });
    profiler = new Profiler(
      {
        plugins: [system(), modules(), ocr(), frames({ targetFps: 30 }), io(), odd],
        reporters: [reporter],
        rules: writeRules(dir),
        watchRules: false,
        sampleIntervalMs: 100,
        windowSeconds: 1,
      },
      { handleExit: false, warn: (message) => warnings.push(message) },
    );
    const reader = profileModule('core.ocr', (cpuMs: number) => burnCpu(cpuMs), { tags: ['ocr'] });
    await profiler.start();
    url = reporter.url!;
    const end = Date.now() + 1500;
    let nextScrape = Date.now() + 300;
    while (Date.now() < end) {
      reader(15);
      timeOcr(() => ({ text: 'frame 1', confidence: 91 }));
      trackFrame(5);
      trackIoWait(2);
      const span = moduleSpan('io.log');
      JSON.stringify({ frame: 1 });
      span();
      if (Date.now() >= nextScrape) {
        scrapes.push(parseExposition(await (await fetch(url)).text()));
        nextScrape += 300;
      }
      await sleep(5);
    }
    live = await consistentScrape(profiler, url);
    session = await profiler.stop();
    final = parseExposition(await reporter.exposition());
  });

  afterAll(async () => {
    if (profiler?.running) await profiler.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a valid exposition in the text format, with the labels option on every series', () => {
    expect(live.text).toMatch(/^# HELP loadlight_/);
    for (const family of live.families.values()) {
      expect(family.type, family.name).toMatch(/^(gauge|counter)$/);
      expect(family.help.length, family.name).toBeGreaterThan(0);
      for (const sample of family.samples) expect(sample.labels.bot, `${family.name} ${JSON.stringify(sample.labels)}`).toBe('reader-1');
    }
  });

  it('exposes every metric of the session under its Prometheus name, type and unit, valued from the latest sample', () => {
    const exposedAt = sampleOf(live.families, 'loadlight_last_sample_timestamp_seconds')!.value;
    const catalogue = profiler.store.catalogue();
    expect(catalogue.length).toBeGreaterThan(60);
    let compared = 0;
    for (const info of catalogue) {
      if (info.name === 'load.level') continue; // refused: see the name-clash test
      const { family: name, labels } = seriesOf(info);
      const family = live.families.get(name);
      expect(family, `${info.name} -> ${name}`).toBeDefined();
      expect(family!.type, name).toBe(exposedType(info));
      expect(family!.help, name).toContain(info.module ? `module.<module>.${info.module.field}` : info.name);
      const sample = sampleOf(live.families, name, labels);
      if (family!.type === 'counter') {
        expect(sample, `${name} ${JSON.stringify(labels)}`).toBeDefined(); // counters exist from their declaration
        continue;
      }
      const latest = live.expected.values.get(info.name)!;
      if (latest === null) {
        expect(sample, `${info.name} has no value: no sample`).toBeUndefined();
        continue;
      }
      expect(sample, `${name} ${JSON.stringify(labels)}`).toBeDefined();
      expectClose(sample!.value, expectedValue(info.unit, latest), info.unit, info.name);
      compared++;
    }
    expect(compared).toBeGreaterThan(40);
    expect(Math.round(exposedAt * 1000)).toBe(live.expected.latestTime);
    expect(session.samples.t).toContain(Math.round(exposedAt * 1000));
  });

  it('names units the Prometheus way: seconds, bytes, percent, _total counters', () => {
    const f = live.families;
    expect(sampleOf(f, 'loadlight_system_cpu_percent')).toBeDefined();
    expect(sampleOf(f, 'loadlight_process_memory_rss_bytes')!.value).toBeGreaterThan(1024 * 1024);
    expect(f.get('loadlight_frames_latency_p95_seconds')?.type).toBe('gauge');
    expect(f.get('loadlight_ocr_calls_total')?.type).toBe('counter');
    expect(f.get('loadlight_module_cpu_seconds_total')?.type).toBe('counter');
    expect(f.get('loadlight_module_call_duration_seconds_total')?.type).toBe('counter');
    expect(f.get('loadlight_process_heap_growth_bytes_per_minute')?.type).toBe('gauge');
    for (const name of f.keys()) expect(name, name).not.toMatch(/_(ms|mb)(_|$)/);
  });

  it('labels module metrics with the module, and describes each module with its tags', () => {
    const cpu = live.families.get('loadlight_module_cpu_percent')!;
    const names = cpu.samples.map((s) => s.labels.module).sort();
    expect(names).toEqual(expect.arrayContaining(['core.ocr', ODD]));
    expect(sampleOf(live.families, 'loadlight_module_cpu_percent', { module: 'core.ocr' })!.value).toBe(
      live.expected.values.get('module.core.ocr.cpu_percent'),
    );
    expect(sampleOf(live.families, 'loadlight_module_calls_total', { module: 'io.log' })!.value).toBeGreaterThan(0);
    expect(sampleOf(live.families, 'loadlight_module_info', { module: 'core.ocr' })!.labels.tags).toBe('ocr');
    expect(sampleOf(live.families, 'loadlight_module_info', { module: ODD })!.labels.tags).toBe('heatmap,weird');
  });

  it('escapes odd module names in labels and odd descriptions in HELP, and they parse back unchanged', () => {
    expect(live.text).toContain('module="odd \\"quoted\\" \\\\ back\\nslash"');
    expect(sampleOf(live.families, 'loadlight_module_cpu_percent', { module: ODD })!.value).toBe(12.5);
    expect(live.text).toContain('# HELP loadlight_odd_text a \\\\ backslash\\nand a new line in a HELP text (loadlight odd.text)');
    expect(live.families.get('loadlight_odd_text')!.help).toBe(`${ODD_HELP} (loadlight odd.text)`);
  });

  it('gives the load level of every subject of the latest evaluation, 0 green / 1 yellow / 2 red', () => {
    const evaluation = live.expected.evaluation!;
    expect(Math.round(sampleOf(live.families, 'loadlight_evaluation_timestamp_seconds')!.value * 1000)).toBe(evaluation.t);
    const levels = live.families.get('loadlight_load_level')!.samples;
    expect(levels.length).toBe(evaluation.levels.length);
    expect(evaluation.levels.map((l) => l.subject)).toEqual(expect.arrayContaining(['process', 'core.ocr', 'io.log']));
    for (const level of evaluation.levels) {
      expect(sampleOf(live.families, 'loadlight_load_level', { subject: level.subject, kind: level.kind })!.value, level.subject).toBe(LEVEL[level.level]);
    }
  });

  it('gives every active alert with its module and severity', () => {
    const active = live.expected.alerts;
    const exposed = live.families.get('loadlight_alert_active')!.samples;
    expect(exposed.length).toBe(active.length);
    const moduleAlert = sampleOf(live.families, 'loadlight_alert_active', { alert: 'module-seen', module: 'core.ocr' });
    expect(moduleAlert?.labels).toMatchObject({ severity: 'critical', state: 'firing', bot: 'reader-1' });
    expect(moduleAlert?.value).toBe(1);
    for (const alert of active) {
      const labels: Record<string, string> = { alert: alert.id, severity: alert.severity, state: alert.state };
      if (alert.module) labels.module = alert.module;
      expect(sampleOf(live.families, 'loadlight_alert_active', labels), alert.key).toBeDefined();
    }
  });

  it('refuses a metric whose Prometheus name is taken, with a warning, and keeps its own', () => {
    expect(warnings.filter((w) => w.includes('"load.level"'))).toEqual([
      expect.stringMatching(/metric "load.level" is not exposed: its name loadlight_load_level is already used by one of the reporter's own series/),
    ]);
    expect(live.families.get('loadlight_load_level')!.samples.every((s) => 'subject' in s.labels)).toBe(true);
  });

  it('counts counters since the start: monotonic across scrapes, and equal to the sum of the per-tick values at the end', () => {
    expect(scrapes.length).toBeGreaterThanOrEqual(3);
    const counters = [...final.values()].filter((f) => f.type === 'counter');
    expect(counters.length).toBeGreaterThanOrEqual(8);
    const all = [...scrapes, live.families, final];
    for (const family of counters) {
      for (const sample of family.samples) {
        let previous = -Infinity;
        for (const scrape of all) {
          const value = sampleOf(scrape, family.name, sample.labels)?.value;
          if (value === undefined) continue; // declared after that scrape
          expect(value, `${family.name} ${JSON.stringify(sample.labels)}`).toBeGreaterThanOrEqual(previous);
          previous = value;
        }
      }
    }
    for (const info of profiler.store.catalogue()) {
      if (exposedType(info) !== 'counter') continue;
      const sum = sessionSeries(session, info.name).reduce<number>((a, v) => a + (v !== null && v > 0 ? v : 0), 0);
      const { family, labels } = seriesOf(info);
      expectClose(sampleOf(final, family, labels)!.value, expectedValue(info.unit, sum), info.unit, info.name);
    }
    expect(sampleOf(final, 'loadlight_samples_total')!.value).toBe(session.samples.t.length);
    expect(sampleOf(final, 'loadlight_module_calls_total', { module: 'core.ocr' })!.value).toBe(session.modules.find((m) => m.name === 'core.ocr')!.calls);
  });

  it('closes its server when the profiler stops', async () => {
    expect(reporter.url).toBeNull();
    await expect(fetch(url)).rejects.toThrow();
  });

  it.skipIf(promtool.skip)("passes Prometheus's own linter (promtool check metrics)", () => {
    if (!promtool.bin) throw new Error(promtool.reason!);
    const result = spawnSync(promtool.bin, ['check', 'metrics'], { input: live.text, encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('counters', () => {
  it('keep every tick even when scrapes are rarer than the ring holds rows', async () => {
    const ticks = definePlugin({
      name: 'ticks',
      metrics: { 'ticks.seen.count': { unit: 'count', kind: 'counter', description: 'one per tick' } },
      apply(profiler) {
        profiler.hooks.collect.tapPromise('ticks', async (w) => w.set('ticks.seen.count', 1));
      },
    });
    const reporter = prometheus({ port: 0, quiet: true });
    const profiler = new Profiler({ plugins: [ticks], reporters: [reporter], rules: [], sampleIntervalMs: 10, maxSamples: 8 }, { handleExit: false });
    await profiler.start();
    await sleep(600); // about 60 ticks, no scrape: the ring held 8 rows at most
    await profiler.stop();
    const families = parseExposition(await reporter.exposition());
    const rows = sampleOf(families, 'loadlight_samples_total')!.value;
    expect(rows).toBeGreaterThan(3 * 8);
    expect(profiler.store.size).toBeLessThanOrEqual(8);
    expect(sampleOf(families, 'loadlight_ticks_seen_total')!.value).toBe(rows);
  });
});

describe('the HTTP endpoint', () => {
  let profiler: Profiler;
  let reporter: PrometheusReporter;
  const warnings: string[] = [];

  beforeAll(async () => {
    reporter = prometheus({ port: 0, path: '/probe/metrics', quiet: true, prefix: 'bot_' });
    profiler = new Profiler(
      { plugins: [system()], reporters: [reporter], rules: [], sampleIntervalMs: 1000 },
      { handleExit: false, warn: (message) => warnings.push(message) },
    );
    await profiler.start();
  });
  afterAll(() => profiler.stop());

  it('serves the text format at its path, HEAD too; 404 elsewhere, 405 for other methods', async () => {
    expect(reporter.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/probe\/metrics$/);
    const response = await fetch(reporter.url!);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await response.text()).toMatch(/^bot_process_memory_rss_bytes \d+$/m);
    const head = await fetch(reporter.url!, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(100);
    const elsewhere = await fetch(reporter.url!.replace('/probe/metrics', '/metrics'));
    expect(elsewhere.status).toBe(404);
    expect(await elsewhere.text()).toContain('/probe/metrics');
    const post = await fetch(reporter.url!, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('takes no sample of its own: scrapes within one tick all see the same sample', async () => {
    const size = profiler.store.size;
    const seen = new Set<number>();
    for (let i = 0; i < 5; i++) {
      const families = parseExposition(await (await fetch(reporter.url!)).text());
      seen.add(sampleOf(families, 'bot_last_sample_timestamp_seconds')!.value);
    }
    // One tick may fall between the scrapes, never one per scrape.
    expect(profiler.store.size - size).toBeLessThanOrEqual(1);
    expect(seen.size).toBeLessThanOrEqual(2);
  });

  it('reports a port in use as a fault of its own, and the profiler runs on', async () => {
    const port = Number(new URL(reporter.url!).port);
    const second = new Profiler(
      { plugins: [system()], reporters: [prometheus({ port, quiet: true })], rules: [], sampleIntervalMs: 50 },
      { handleExit: false, warn: (message) => warnings.push(message) },
    );
    await second.start();
    await sleep(150);
    const session = await second.stop();
    expect(session.samples.t.length).toBeGreaterThan(0);
    expect(session.faults).toEqual([expect.objectContaining({ plugin: 'prometheus', hook: 'start' })]);
    expect(warnings.join('\n')).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use (set "port" to another one, or 0 for a free one)`);
  });
});

describe('options', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ prot: 9000 }, /plugin "prometheus" options: unknown option "prot"\. Expected one of: host, port, path, labels, prefix, quiet\. Did you mean "port"\?/],
    [{ port: 70000 }, /"port" must be <= 65535/],
    [{ port: 'x' }, /"port" must be integer/],
    [{ path: 'metrics' }, /"path" must match pattern/],
    [{ prefix: '9lives' }, /"prefix" must match pattern/],
    [{ labels: { bot: 7 } }, /"labels\.bot" must be string/],
    [{ labels: { job: 'a' } }, /"labels\.job": Prometheus sets "job" itself from its scrape config/],
    [{ labels: { instance: 'a' } }, /"labels\.instance": Prometheus sets "instance" itself/],
    [{ labels: { module: 'a' } }, /"labels\.module": "module" is a label of loadlight's own series/],
    [{ labels: { 'bot-name': 'a' } }, /"labels\.bot-name": a label name is letters, digits and "_"/],
    [{ labels: { __name__: 'a' } }, /"labels\.__name__": names starting with "__" are reserved/],
    [{ host: 'http://x' }, /"host" must match pattern/],
  ];
  it.each(cases)('%j is refused with an error naming the option', (options, message) => {
    expect(() => prometheus(options as never)).toThrowError(message);
  });

  it('accepts the documented options', () => {
    expect(() => prometheus({ host: '0.0.0.0', port: 0, path: '/m', labels: { bot: 'a', site: 'b' }, prefix: '', quiet: true })).not.toThrow();
  });

  it('is named by string in a config: "prometheus" resolves to this package', async () => {
    const one = new Profiler({ plugins: [], reporters: [['prometheus', { port: 0, quiet: true, labels: { bot: 'x' } }]], rules: [] }, { handleExit: false });
    await one.prepare();
    expect(one.config.reporters.map((r) => r.name)).toEqual(['prometheus']);
    const bare = new Profiler({ plugins: [], reporters: ['prometheus'], rules: [] }, { handleExit: false });
    await bare.prepare();
    expect(bare.config.reporters[0]!.name).toBe('prometheus');
    const typo = new Profiler({ plugins: [], reporters: ['promethues'], rules: [] }, { handleExit: false });
    await expect(typo.prepare()).rejects.toThrow(/cannot find reporter "promethues".* Did you mean "prometheus"\?/);
  });

  it('has no exposition before a profiler started', async () => {
    await expect(prometheus({ quiet: true }).exposition()).rejects.toThrow(/no profiler yet: start one first/);
  });
});

describe('the process', () => {
  it('is never kept alive by the server, even with a scraper holding a keep-alive connection', async () => {
    const dir = tempDir('prometheus-exit-');
    try {
      const script = path.join(dir, 'bot.mjs');
      writeFileSync(
        script,
        [
          "import { Profiler } from '@loadlight/core';",
          "import system from '@loadlight/plugin-system';",
          "import prometheus from '@loadlight/reporter-prometheus';",
          'const reporter = prometheus({ port: 0, quiet: true });',
          'const profiler = new Profiler({ plugins: [system()], reporters: [reporter], rules: [], sampleIntervalMs: 100 });',
          "profiler.hooks.export.tapPromise('probe', async (s) => console.log(`exported ${s.samples.t.length}`));",
          'await profiler.start();',
          'console.log(reporter.url);',
          // The program's work: 1.5 s, then nothing is left to do and it must end by itself.
          'await new Promise((resolve) => setTimeout(resolve, 1500));',
        ].join('\n'),
      );
      const child = spawn(process.execPath, [script], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const started = Date.now();
      const deadline = started + 15_000;
      while (!/^http:\/\/\S+/m.test(output) && Date.now() < deadline) await sleep(20);
      const url = /^(http:\/\/\S+)/m.exec(output)![1]!;
      // A scraper that keeps its connection open, as Prometheus does.
      const agent = new Agent({ keepAlive: true });
      const scrape = () =>
        new Promise<number>((resolve, reject) => {
          request(url, { agent }, (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
          })
            .on('error', reject)
            .end();
        });
      expect(await scrape()).toBe(200);
      // Scrape every 300 ms until the program ends, so that the connection is never idle long
      // enough for Node's keep-alive time-out (5 s) to close it: only unref'd sockets let it end.
      let ended = false;
      let scrapes = 1;
      const scraping = (async () => {
        while (!ended) {
          await sleep(300);
          if (!ended && (await scrape().catch(() => 0)) === 200) scrapes++;
        }
      })();
      const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
      const code = await exited;
      ended = true;
      clearTimeout(timer);
      await scraping;
      agent.destroy();
      expect(code, output).toBe(0);
      expect(output).toMatch(/exported \d+/);
      expect(scrapes).toBeGreaterThanOrEqual(3);
      expect(Date.now() - started).toBeLessThan(12_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
