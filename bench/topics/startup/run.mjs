// @ts-check
// Start-up groups: each figure comes from a FRESH node process (probe.mjs), since what a config
// loader costs is mostly loading its compiler, once per process. Processes of the cases being
// compared alternate round by round, so a slow second on the machine hits all of them alike.
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

/**
 * Two project folders outside the repository: examples/basic's perf.config.ts (with its rules
 * folder) and a minimal one importing only defineConfig. Each gets a `node_modules` link to the
 * repository's, so both loaders resolve `@loadlight/*` as in a user's project, and cosmiconfig's
 * compiled temporary file lands there rather than in examples/.
 */
export function makeFixtures() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-bench-startup-'));
  /** @type {Record<'basic' | 'minimal', string>} */
  const files = { basic: '', minimal: '' };
  for (const name of /** @type {const} */ (['basic', 'minimal'])) {
    const project = path.join(dir, name);
    cpSync(path.join(ROOT, 'examples/basic/rules'), path.join(project, 'rules'), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(project, 'node_modules'), 'dir');
    files[name] = path.join(project, 'perf.config.ts');
  }
  copyFileSync(path.join(ROOT, 'examples/basic/perf.config.ts'), files.basic);
  writeFileSync(files.minimal, "import { defineConfig } from '@loadlight/core';\n\nexport default defineConfig({ sampleIntervalMs: 1000 });\n");
  return { dir, files, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * @param {string} mode
 * @param {string} configFile
 * @returns {Promise<Record<string, number | string>>}
 */
function probe(mode, configFile) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [PROBE, mode, configFile], { cwd: path.dirname(configFile), timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${mode} ${path.basename(path.dirname(configFile))}: ${stderr.trim().split('\n').slice(-3).join(' | ') || error.message}`));
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
 * @typedef {{ id: string, mode: string, config: 'basic' | 'minimal', label: string, who: string }} ProbeCase
 * @type {import('../../lib/topic.mjs').GroupModule['run']}
 */
export async function run(ctx, params) {
  const processes = ctx.quick ? 3 : 7;
  const core = await importOptional('@loadlight/core');
  const fixtures = makeFixtures();
  /** @type {string[]} */
  const notes = [];
  try {
    /** @type {ProbeCase[]} */
    const cases =
      params.part === 'first-sample'
        ? [
            { id: 'first', mode: 'first-sample', config: 'basic', label: 'startProfiling() to first sample', who: 'loadlight' },
            { id: 'first.no-config', mode: 'first-sample-no-config', config: 'basic', label: 'the same, configFile: false (no config load)', who: 'loadlight' },
          ]
        : ['basic', 'minimal'].flatMap((config) => [
            { id: `loadlight.${config}`, mode: 'loadlight', config: /** @type {'basic' | 'minimal'} */ (config), label: `loadlight loadConfig() (jiti), ${config}`, who: 'loadlight' },
            { id: `cosmiconfig.${config}`, mode: 'cosmiconfig', config: /** @type {'basic' | 'minimal'} */ (config), label: `cosmiconfig load(), default .ts loader, ${config}`, who: 'cosmiconfig' },
          ]);
    /** @type {Map<string, Array<Record<string, number | string>>>} */
    const out = new Map(cases.map((c) => [c.id, []]));
    if (core.missing === null) {
      for (let round = 0; round < processes; round++) {
        for (let k = 0; k < cases.length; k++) {
          const c = cases[(round + k) % cases.length];
          out.get(c.id)?.push(await probe(c.mode, fixtures.files[c.config]));
        }
      }
    }
    const values = (/** @type {string} */ id, /** @type {string} */ key) => (out.get(id) ?? []).map((r) => Number(r[key]));
    /** @type {Measured[]} */
    const measured = [];
    for (const c of cases) {
      const unavailable = c.who === 'loadlight' && core.missing !== null ? core.missing : undefined;
      if (unavailable) {
        measured.push({ id: c.id, label: c.label, who: c.who, unit: 'ms', median: NaN, spread: NaN, unavailable });
        continue;
      }
      if (c.mode.startsWith('first-sample')) {
        measured.push(row(c.id, c.label, c.who, values(c.id, 'firstSampleMs')));
        if (c.id === 'first') measured.push(row('resolved', 'startProfiling() resolved', 'loadlight', values(c.id, 'resolvedMs')));
      } else {
        measured.push(row(c.id, c.label, c.who, values(c.id, 'loadMs')));
        measured.push(row(`${c.id}.import`, `import ${c.mode === 'loadlight' ? '@loadlight/core' : 'cosmiconfig'} (before it)`, c.who, values(c.id, 'importMs')));
      }
      const first = out.get(c.id)?.[0];
      if (first) notes.push(`${c.id}: ${c.mode.startsWith('first') ? 'the store had' : 'read'} ${first.config}`);
    }
    notes.push(`${processes} fresh node processes per case, alternating; figure: median over processes, ± half the IQR`);
    if (params.part === 'first-sample') {
      return {
        measured,
        notes,
        comparisons: [
          {
            id: 'first-sample',
            title: 'startProfiling() with examples/basic/perf.config.ts (reporters: []) to the first sample',
            note: 'fresh process each, @loadlight/core already imported; the config load (jiti) is inside the figure',
            baseline: 'first',
            cases: ['first', 'resolved', 'first.no-config'],
            bounds: { first: { value: FIRST_SAMPLE_BOUND_MS } },
          },
        ],
      };
    }
    return {
      measured,
      notes,
      comparisons: ['basic', 'minimal'].map((config) => ({
        id: `config-${config}`,
        title: `config load of a perf.config.ts (${config === 'basic' ? 'examples/basic' : 'minimal: defineConfig only'}), first load in a fresh process`,
        note: 'the load call alone; the import of the library before it is shown beside it',
        baseline: `cosmiconfig.${config}`,
        cases: [`loadlight.${config}`, `cosmiconfig.${config}`, `loadlight.${config}.import`, `cosmiconfig.${config}.import`],
      })),
    };
  } finally {
    fixtures.remove();
  }
}
