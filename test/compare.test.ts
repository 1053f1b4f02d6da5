// `loadlight compare` end to end: sessions written by real profiled runs (`loadlight run`), then
// compared by the CLI. Three runs at once, so that they share the machine's conditions: two with
// the same workload (whatever differs between them is noise and must not be flagged) and one
// doing five times the work per call (which must be).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadlight, sessionsIn, tempProject } from './helpers.js';

// A fixed amount of CPU work per call that allocates nothing (so that GC stays the profiler's own),
// 50 calls a second for 2.5 s.
const program = `
  import { profileModule } from '@loadlight/plugin-modules';
  const n = Number(process.argv[2]);
  const work = profileModule('work', () => { let x = 0; for (let i = 0; i < n; i++) x += Math.sqrt(i); return x; });
  const end = Date.now() + 2500;
  const t = setInterval(() => { work(); if (Date.now() > end) clearInterval(t); }, 20);
`;

const LIGHT = '300000';
const HEAVY = '1500000';

let project: string;
const files = { base: '', same: '', heavy: '' };

beforeAll(async () => {
  project = tempProject({
    'work.mjs': program,
    'perf.config.mjs': `export default { sampleIntervalMs: 100, plugins: ['system', 'modules'], reporters: [['json', { dir: process.env.OUT }]], rules: [] };`,
    'budgets.config.mjs': `export default {
      budgets: {
        'module.work.cpu_percent': { max: 12 },
        'process.cpu.percent': { maxIncreasePercent: 50 },
        'module.work.latency_p95_ms': { stat: 'p95', maxIncrease: 20 },
      },
    };`,
  });
  const runs = await Promise.all(
    (['base', 'same', 'heavy'] as const).map((name) =>
      loadlight(['run', '--', 'node', 'work.mjs', name === 'heavy' ? HEAVY : LIGHT], { cwd: project, env: { OUT: name } }),
    ),
  );
  for (const [i, name] of (['base', 'same', 'heavy'] as const).entries()) {
    expect(runs[i]!.code, runs[i]!.stderr).toBe(0);
    const [session] = sessionsIn(path.join(project, name));
    expect(session, `session of the ${name} run`).toBeDefined();
    files[name] = path.relative(project, session!.file);
  }
}, 60_000);

const compare = (...args: string[]) => loadlight(['compare', ...args], { cwd: project });

describe('loadlight compare', () => {
  it('flags the heavier workload as worse, per metric and per module field, beyond noise', async () => {
    const r = await compare(files.base, files.heavy, '--format', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0); // no budgets in perf.config.mjs
    const doc = JSON.parse(r.stdout);
    const row = (name: string) => doc.metrics.find((m: { name: string }) => m.name === name);
    for (const name of ['module.work.cpu_percent', 'module.work.cpu_ms', 'module.work.latency_mean_ms', 'process.cpu.percent']) {
      expect(row(name), name).toMatchObject({ verdict: 'worse', beyondNoise: true });
      expect(row(name).p, name).toBeLessThan(0.01);
      expect(row(name).changePercent, name).toBeGreaterThan(50);
    }
    expect(row('module.work.cpu_percent')).toMatchObject({ module: 'work', field: 'cpu_percent', stat: 'mean' });
    expect(row('module.work.cpu_ms')).toMatchObject({ kind: 'counter', stat: 'rate_per_minute' });
    expect(doc.summary.worse).toBeGreaterThanOrEqual(4);
    expect(doc.budgets).toBeNull();
  });

  it('does not flag noise: two runs of the same workload differ in no metric beyond noise', async () => {
    const r = await compare(files.base, files.same, '--format', 'json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const flagged = doc.metrics.filter((m: { beyondNoise: boolean }) => m.beyondNoise);
    expect(flagged.map((m: { name: string; changePercent: number; p: number }) => `${m.name} ${m.changePercent}% p=${m.p}`)).toEqual([]);
    expect(doc.summary.same).toBeGreaterThan(15);
    // The module's own figures, which the workload sets, were measured on both sides.
    expect(doc.metrics.find((m: { name: string }) => m.name === 'module.work.cpu_percent').verdict).toBe('same');
  });

  it('prints the text table, and Markdown for a pull request', async () => {
    const text = await compare(files.base, files.heavy);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^METRIC\s+STAT\s+BASELINE\s+CURRENT\s+CHANGE\s+P\s+VERDICT$/m);
    expect(text.stdout).toMatch(/^work\s+cpu_percent\s+mean\s+[\d.]+ %\s+[\d.]+ %\s+\+[\d.]+ \(\+\d+ %\)\s+<?[\d.]+\s+worse$/m);
    expect(text.stdout).toContain('budgets: none in the config: exit code 0');
    const md = await compare(files.base, files.heavy, '--format', 'md', '--changed');
    expect(md.stdout).toMatch(/^### loadlight compare$/m);
    expect(md.stdout).toMatch(/^\| `work` \| cpu_percent \| mean \| .* \| \*\*worse\*\* \|$/m);
    expect(md.stdout).not.toMatch(/within noise \|/); // --changed
  });

  it('the budget gate: exit 0 within, 2 beyond, with the table (budgets from --config)', async () => {
    const within = await compare(files.base, files.same, '--config', 'budgets.config.mjs');
    expect(within.stderr).toBe('');
    expect(within.code).toBe(0);
    expect(within.stdout).toMatch(/^budgets \(budgets\.config\.mjs\):$/m);
    expect(within.stdout).toMatch(/^module\.work\.cpu_percent\s+mean <= 12 %\s+.*\sok$/m);
    expect(within.stdout).toContain('budgets: all 3 within: exit code 0');

    const beyond = await compare(files.base, files.heavy, '--config', 'budgets.config.mjs');
    expect(beyond.code).toBe(2);
    expect(beyond.stdout).toMatch(/^module\.work\.cpu_percent\s+mean <= 12 %\s+.*EXCEEDED: [\d.]+ % > 12 %$/m);
    expect(beyond.stdout).toMatch(/^process\.cpu\.percent\s+mean increase <= 50 %\s+.*EXCEEDED: \d+ % > 50 %$/m);
    expect(beyond.stdout).toMatch(/budgets: [23] of 3 exceeded or not measured: exit code 2/);

    const json = JSON.parse((await compare(files.base, files.heavy, '--config', 'budgets.config.mjs', '--format', 'json')).stdout);
    expect(json.exitCode).toBe(2);
    expect(json.budgets.results[0]).toMatchObject({ metric: 'module.work.cpu_percent', status: 'exceeded', failed: true });
  });

  it('budgets in a JSON config: a misspelt limit or metric is exit 1, naming it', async () => {
    writeFileSync(path.join(project, 'typo-limit.json'), JSON.stringify({ budgets: { 'process.cpu.percent': { maxIncreasePercnt: 10 } } }));
    const limit = await compare(files.base, files.same, '--config', 'typo-limit.json');
    expect(limit.code).toBe(1);
    expect(limit.stderr).toBe(
      'loadlight: typo-limit.json: unknown option "maxIncreasePercnt" in "budgets["process.cpu.percent"]". ' +
        'Expected one of: max, min, maxIncrease, maxIncreasePercent, maxDecrease, maxDecreasePercent, stat. Did you mean "maxIncreasePercent"?\n',
    );
    writeFileSync(path.join(project, 'typo-metric.json'), JSON.stringify({ budgets: { 'module.wrok.cpu_percent': { max: 10 } } }));
    const metric = await compare(files.base, files.same, '--config', 'typo-metric.json');
    expect(metric.code).toBe(1);
    expect(metric.stderr).toBe(
      'loadlight: typo-metric.json: budget "module.wrok.cpu_percent": no such metric in either session. Did you mean "module.work.cpu_percent"?\n',
    );
    // `loadlight validate` checks budgets too.
    const validate = await loadlight(['validate', '--config', 'typo-limit.json'], { cwd: project });
    expect(validate.code).toBe(1);
    expect(validate.stderr).toContain('Did you mean "maxIncreasePercent"?');
  });

  it('refuses missing, truncated and invalid files with exit 1, naming the file and the place', async () => {
    const text = readFileSync(path.join(project, files.base), 'utf8');
    writeFileSync(path.join(project, 'truncated.json'), text.slice(0, Math.floor(text.length / 2)));
    writeFileSync(path.join(project, 'not-json.json'), 'schemaVersion: 1\n');
    const broken = JSON.parse(text);
    delete broken.overhead;
    broken.samples.t[0] = 'yesterday';
    writeFileSync(path.join(project, 'not-session.json'), JSON.stringify(broken));
    const cases: Array<[string[], RegExp]> = [
      [[files.base, 'missing.json'], /^loadlight: missing\.json: cannot read the session file: no such file\n$/],
      [[files.base, 'truncated.json'], /^loadlight: truncated\.json: not valid JSON: the file ends at line 1, column \d+ .*\(cut short/],
      [['not-json.json', files.base], /^loadlight: not-json\.json: not valid JSON at line 1, column 1: expected a value/],
      [[files.base, 'not-session.json'], /^loadlight: not-session\.json is not a valid loadlight session:\n {2}- "overhead" is required\.\n {2}- "samples\.t\[0\]" must be number, got string "yesterday"\./],
      [[files.base], /^loadlight compare: expects two session files, the baseline and the current one; got only ".*"\nRun "loadlight compare --help"/],
      [[files.base, files.same, '--format', 'html'], /^loadlight compare: --format must be one of text, md, json, got "html"/],
      [[files.base, files.same, '--alpha', '5'], /^loadlight compare: --alpha expects a p-value between 0 and 1/],
    ];
    for (const [args, expected] of cases) {
      const r = await compare(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(expected);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stdout).toBe('');
    }
  });
});
