// @ts-check
// Start-up groups: each figure comes from a FRESH node process (probe.mjs), since what a config
// loader costs is mostly loading its compiler, once per process. Processes of the cases being
// compared alternate round by round, so a slow second on the machine hits all of them alike.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize } from '../../lib/stats.mjs';
import { importOptional } from '../../lib/topic.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const PROBE = path.join(HERE, 'probe.mjs');
/** First sample within this long of `startProfiling()` (issue 4, item 5). */
export const FIRST_SAMPLE_BOUND_MS = 150;

/** @typedef {import('../../lib/results.mjs').Measured} Measured */
/** @typedef {'basic' | 'basic-typed' | 'minimal' | 'minimal-typed'} Fixture */

const MINIMAL = "import { defineConfig } from '@loadlight/core';\n\nexport default defineConfig({ sampleIntervalMs: 1000 });\n";
const MINIMAL_TYPED =
  "import { defineConfig, type LoadlightConfig } from '@loadlight/core';\n\nconst config: LoadlightConfig = { sampleIntervalMs: 1000 };\n\nexport default defineConfig(config);\n";

/**
 * examples/basic/perf.config.ts with one type annotation: the same config, but TypeScript, so
 * that loadlight reads it with jiti rather than natively.
 * @param {string} source
 */
export function withTypeAnnotation(source) {
  const typed = source.replace('const handles = definePlugin(', 'const handles: Plugin = definePlugin(');
  if (typed === source) throw new Error('examples/basic/perf.config.ts no longer declares `const handles = definePlugin(`: update startup/run.mjs');
  return `import type { Plugin } from '@loadlight/core';\n${typed}`;
}

/**
 * Four projects outside the repository, each with a package.json (where cosmiconfig's search
 * stops), a `node_modules` link to the repository's (so `@loadlight/*` resolve as in a user's
 * project) and examples/basic's rules folder: examples/basic's perf.config.ts as shipped (plain
 * JavaScript in a .ts file) and with one type annotation, and a minimal one (defineConfig only)
 * both ways.
 */
export function makeFixtures() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-bench-startup-'));
  const basic = readFileSync(path.join(ROOT, 'examples/basic/perf.config.ts'), 'utf8');
  /** @type {Record<Fixture, string>} */
  const sources = { basic, 'basic-typed': withTypeAnnotation(basic), minimal: MINIMAL, 'minimal-typed': MINIMAL_TYPED };
  /** @type {Record<Fixture, string>} */
  const files = { basic: '', 'basic-typed': '', minimal: '', 'minimal-typed': '' };
  for (const name of /** @type {Fixture[]} */ (Object.keys(sources))) {
    const project = path.join(dir, name);
    cpSync(path.join(ROOT, 'examples/basic/rules'), path.join(project, 'rules'), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(project, 'node_modules'), 'dir');
    writeFileSync(path.join(project, 'package.json'), `${JSON.stringify({ name: `startup-${name}`, private: true, type: 'module' })}\n`);
    files[name] = path.join(project, 'perf.config.ts');
    writeFileSync(files[name], sources[name]);
  }
  return { dir, files, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * @param {string[]} args
 * @param {string} cwd
 * @param {Record<string, string>} [env]
 * @returns {Promise<Record<string, number | string>>}
 */
function probe(args, cwd, env = {}) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [PROBE, ...args], { cwd, timeout: 60_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      // The error's own line (`Error: ...`), not the end of its stack.
      const said = stderr.split('\n').find((line) => /^\w*Error\b|^\w+ \[ERR_/.test(line)) ?? stderr.trim().split('\n').at(-1);
      if (error) return reject(new Error(`probe ${args.join(' ')} in ${path.basename(cwd)}: ${said || error.message}`));
      resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}'));
    });
  });
}

/**
 * @param {string} id
 * @param {string} label
 * @param {string} who
 * @param {number[]} samples ms, one per process
 * @returns {Measured}
 */
function row(id, label, who, samples) {
  const s = summarize(samples);
  return { id, label, who, unit: 'ms', median: s.median, spread: s.spread, samples };
}

/**
 * One case: a probe command run in a fixture's folder, and the field of its answer to report.
 * @typedef {{ id: string, label: string, who: string, fixture: Fixture, args: (file: string) => string[], env?: Record<string, string> }} ProbeCase
 */

const COLD = { JITI_FS_CACHE: 'false' };

/** @param {'basic' | 'minimal'} config @returns {ProbeCase[]} */
function loadCases(config) {
  const typed = /** @type {Fixture} */ (`${config}-typed`);
  return [
    { id: `loadlight.${config}`, label: `loadlight loadConfig(), ${config} as is (plain JS: native import)`, who: 'loadlight', fixture: config, args: (file) => ['load', 'loadlight', file] },
    { id: `loadlight.${config}.jiti`, label: `loadlight loadConfig(), ${config} typed (jiti, cached transform)`, who: 'loadlight', fixture: typed, args: (file) => ['load', 'loadlight', file] },
    { id: `loadlight.${config}.jiti-cold`, label: `the same, JITI_FS_CACHE=false (babel transform)`, who: 'loadlight', fixture: typed, args: (file) => ['load', 'loadlight', file], env: COLD },
    { id: `cosmiconfig.${config}`, label: `cosmiconfig load(), default .ts loader, ${config}`, who: 'cosmiconfig', fixture: config, args: (file) => ['load', 'cosmiconfig', file] },
  ];
}

/** @type {ProbeCase[]} */
const FIRST_SAMPLE_CASES = [
  { id: 'first', label: 'startProfiling() to first sample, basic as is (plain JS)', who: 'loadlight', fixture: 'basic', args: () => ['first-sample', 'search'] },
  { id: 'first.typed', label: 'the same, basic typed (jiti, cached transform)', who: 'loadlight', fixture: 'basic-typed', args: () => ['first-sample', 'search'] },
  { id: 'first.typed-cold', label: 'the same, JITI_FS_CACHE=false (babel transform)', who: 'loadlight', fixture: 'basic-typed', args: () => ['first-sample', 'search'], env: COLD },
  { id: 'first.no-config', label: 'startProfiling({ configFile: false }) to first sample', who: 'loadlight', fixture: 'basic', args: () => ['first-sample', 'none'] },
];

/** @type {import('../../lib/topic.mjs').GroupModule['run']} */
export async function run(ctx, params) {
  const processes = ctx.quick ? 2 : 6;
  // --quick compares examples/basic only: cosmiconfig's TypeScript loader costs most of a second a process.
  const configs = /** @type {Array<'basic' | 'minimal'>} */ (ctx.quick ? ['basic'] : ['basic', 'minimal']);
  const core = await importOptional('@loadlight/core');
  const fixtures = makeFixtures();
  /** @type {string[]} */
  const notes = [];
  try {
    const cases = params.part === 'first-sample' ? FIRST_SAMPLE_CASES : configs.flatMap(loadCases);
    const measurable = cases.filter((c) => c.who !== 'loadlight' || core.missing === null);
    /** @type {Map<string, Array<Record<string, number | string>>>} */
    const out = new Map(cases.map((c) => [c.id, []]));
    const runCase = (/** @type {ProbeCase} */ c) => {
      const file = fixtures.files[c.fixture];
      return probe(c.args(file), path.dirname(file), c.env);
    };
    // One unrecorded process per fixture that jiti reads: it fills jiti's transform cache, as
    // any earlier start of the program would have (the cold cases disable the cache).
    for (const c of measurable) if (c.id.endsWith('.jiti') || c.id === 'first.typed') await runCase(c);
    for (let round = 0; round < processes; round++) {
      for (let k = 0; k < measurable.length; k++) {
        const c = measurable[(round + k) % measurable.length];
        out.get(c.id)?.push(await runCase(c));
      }
    }
    const values = (/** @type {string} */ id, /** @type {string} */ key) => (out.get(id) ?? []).map((r) => Number(r[key]));
    /** @type {Measured[]} */
    const measured = [];
    for (const c of cases) {
      if (c.who === 'loadlight' && core.missing !== null) {
        measured.push({ id: c.id, label: c.label, who: c.who, unit: 'ms', median: NaN, spread: NaN, unavailable: core.missing });
        continue;
      }
      measured.push(row(c.id, c.label, c.who, values(c.id, params.part === 'first-sample' ? 'firstSampleMs' : 'loadMs')));
      const first = out.get(c.id)?.[0];
      if (first) notes.push(`${c.id}: ${first.what}`);
    }
    notes.push(`${processes} fresh node processes per case, alternating; figure: median over processes, ± half the IQR`);
    if (params.part === 'first-sample') {
      if (core.missing === null) {
        measured.push(row('resolved', 'startProfiling() resolved, basic as is', 'loadlight', values('first', 'resolvedMs')));
        for (const [id, label] of [['first', 'basic as is'], ['first.typed', 'basic typed, cached'], ['first.no-config', 'configFile: false']]) {
          measured.push(row(`${id}.cpu`, `CPU time of the process in that window, ${label}`, 'loadlight', values(id, 'cpuMs')));
        }
        const imports = FIRST_SAMPLE_CASES.flatMap((c) => values(c.id, 'importMs'));
        measured.push(row('import', 'import @loadlight/core (before the call)', 'loadlight', imports));
      }
      return {
        measured,
        notes,
        comparisons: [
          {
            id: 'first-sample',
            title: 'startProfiling() (reporters: []) to the first sample, config found by search in the cwd',
            note: 'fresh process each, @loadlight/core already imported: the config search and load are inside the figure; CPU time (user + system) shown too, as wall time inflates on a busy machine',
            baseline: 'first',
            cases: ['first', 'resolved', 'first.typed', 'first.typed-cold', 'first.no-config', 'first.cpu', 'first.typed.cpu', 'first.no-config.cpu', 'import'],
            bounds: { first: { value: FIRST_SAMPLE_BOUND_MS }, 'first.typed': { value: FIRST_SAMPLE_BOUND_MS }, 'first.no-config': { value: FIRST_SAMPLE_BOUND_MS } },
          },
        ],
      };
    }
    if (core.missing === null) {
      for (const config of configs) measured.push(row(`loadlight.${config}.import`, 'import @loadlight/core (before it)', 'loadlight', values(`loadlight.${config}`, 'importMs')));
    }
    for (const config of configs) measured.push(row(`cosmiconfig.${config}.import`, 'import cosmiconfig (before it)', 'cosmiconfig', values(`cosmiconfig.${config}`, 'importMs')));
    return {
      measured,
      notes,
      comparisons: configs.map((config) => ({
        id: `config-${config}`,
        title: `config load of a perf.config.ts (${config === 'basic' ? 'examples/basic: core, plugin-system, both reporters' : 'minimal: defineConfig only'}), first load in a fresh process`,
        note: 'the load call alone (explicit file); the import of the library before it is shown beside it',
        baseline: `cosmiconfig.${config}`,
        cases: [`loadlight.${config}`, `loadlight.${config}.jiti`, `loadlight.${config}.jiti-cold`, `cosmiconfig.${config}`, `loadlight.${config}.import`, `cosmiconfig.${config}.import`],
      })),
    };
  } finally {
    fixtures.remove();
  }
}
