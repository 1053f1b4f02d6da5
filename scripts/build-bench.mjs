#!/usr/bin/env node
// @ts-check
// The build `npm run bench` runs: the JavaScript of every workspace package that tsup builds,
// without type declarations and without the dashboard's page (vite), which no benchmark loads.
// The JS is what `npm run build` makes (the same tsup configs, with `dts: false` and `clean:
// false`); `npm run build` (and so `npm test`, `npm run demo`) still builds everything.
//
//   - core's precompiled ajv validators are regenerated first, as core's own build does
//     (packages/core/scripts/generate-validators.mjs writes only what changed); the other
//     packages do not depend on them and build meanwhile;
//   - a package is skipped when its dist JS is newer than everything it is built from (src/,
//     package.json, its tsup config, tsup.package.ts): a fresh clone builds all of them;
//   - before a package is built, the JS files at the top of its dist are removed (what tsup's
//     `clean` would do); type declarations and sub-folders (dist/ui, dist/generated) are kept;
//   - packages build in `--jobs` worker processes (default: the cores, at most 4), each loading
//     tsup once and taking packages from a queue.
//
//   node scripts/build-bench.mjs [--jobs N] [--force]
import { execFile, fork } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { childrenCpuSeconds } from '../bench/lib/runner.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);
const TSUP_CONFIGS = ['tsup.config.ts', 'tsup.config.mts', 'tsup.config.cts', 'tsup.config.js', 'tsup.config.mjs', 'tsup.config.cjs'];
const JS_OUTPUT = /\.(c|m)?js(\.map)?$/;

/**
 * Workspace folders (the root package.json's `workspaces`, `dir/*` globs expanded) that have a
 * tsup config.
 * @param {string} root
 */
export function tsupPackages(root) {
  const { workspaces = [] } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  /** @type {string[]} */
  const dirs = [];
  for (const entry of /** @type {string[]} */ (workspaces)) {
    if (entry.endsWith('/*')) {
      const parent = path.join(root, entry.slice(0, -2));
      if (!existsSync(parent)) continue;
      for (const name of readdirSync(parent).sort()) dirs.push(path.join(parent, name));
    } else dirs.push(path.join(root, entry));
  }
  return dirs.filter((dir) => TSUP_CONFIGS.some((file) => existsSync(path.join(dir, file))));
}

/** Newest mtime (ms) of a file, or of every file under a folder; 0 when missing. @param {string} file @returns {number} */
function newest(file) {
  if (!existsSync(file)) return 0;
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = stat.mtimeMs;
  for (const entry of readdirSync(file)) max = Math.max(max, newest(path.join(file, entry)));
  return max;
}

/** The JS files at the top of a package's dist (where tsup writes them). @param {string} dir */
function jsOutputs(dir) {
  const dist = path.join(dir, 'dist');
  if (!existsSync(dist)) return [];
  return readdirSync(dist, { withFileTypes: true })
    .filter((entry) => entry.isFile() && JS_OUTPUT.test(entry.name))
    .map((entry) => path.join(dist, entry.name));
}

/**
 * True when the package's dist has no JS, or JS older than anything it is built from.
 * @param {string} dir the package
 * @param {string} root the repository (its tsup.package.ts)
 */
export function isStale(dir, root) {
  const outputs = jsOutputs(dir);
  if (outputs.length === 0) return true;
  const built = Math.min(...outputs.map((file) => statSync(file).mtimeMs));
  const inputs = [path.join(dir, 'src'), path.join(dir, 'package.json'), ...TSUP_CONFIGS.map((file) => path.join(dir, file)), path.join(root, 'tsup.package.ts')];
  return inputs.some((file) => newest(file) > built);
}

/** CPU seconds of this process and its finished children (children on Linux only). */
function cpuSeconds() {
  const own = process.cpuUsage();
  return (own.user + own.system) / 1e6 + (childrenCpuSeconds() ?? 0);
}

/**
 * A worker process: builds the package folders it is sent, one after another, JS only and
 * without tsup's clean, and answers each with `{ ok, message? }`.
 */
async function workerMain() {
  const { build } = await import('tsup');
  process.on('message', async (/** @type {{ dir: string }} */ { dir }) => {
    try {
      for (const file of jsOutputs(dir)) rmSync(file);
      // tsup reads the package's config and package.json from the current folder; esbuild resolves
      // entries and the output folder from absWorkingDir (its service started in another folder).
      process.chdir(dir);
      // Overrides every item of the package's config (cli's has two). No package config sets
      // esbuildOptions, which this would replace.
      await build({ dts: false, clean: false, silent: true, esbuildOptions: (options) => void (options.absWorkingDir = dir) });
      process.send?.({ ok: true });
    } catch (error) {
      process.send?.({ ok: false, message: error instanceof Error ? error.message : String(error) });
    }
  });
}

/**
 * A worker process, and a function that has it build one package.
 * @param {string} root
 */
function startWorker(root) {
  const child = fork(SELF, ['--worker'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  /** @type {{ resolve: () => void, reject: (error: Error) => void, dir: string } | null} */
  let pending = null;
  const fail = (/** @type {Error} */ error) => {
    pending?.reject(error);
    pending = null;
  };
  child.on('message', (/** @type {{ ok: boolean, message?: string }} */ reply) => {
    const done = pending;
    pending = null;
    if (!done) return;
    if (reply.ok) done.resolve();
    else done.reject(new Error(`building ${path.relative(root, done.dir)} failed: ${reply.message}`));
  });
  child.on('error', fail);
  child.on('exit', (code, signal) => fail(new Error(`the build worker ended (${signal ?? `exit code ${code}`}) while building ${pending ? path.relative(root, pending.dir) : 'nothing'}`)));
  return {
    /** @param {string} dir @returns {Promise<void>} */
    build: (dir) =>
      new Promise((resolve, reject) => {
        pending = { resolve, reject, dir };
        child.send({ dir });
      }),
    stop: () => child.disconnect(),
  };
}

/** @param {string} core @returns {Promise<void>} */
function generateValidators(core) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(core, 'scripts/generate-validators.mjs')], { cwd: core }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`core's validator generation failed: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}

/**
 * Builds what the bench needs (see the top of this file).
 * @param {{ root?: string, jobs?: number, force?: boolean }} [options]
 * @returns {Promise<{ built: string[], current: string[], seconds: number, cpuSeconds: number }>} package folders built and skipped
 */
export async function buildBench(options = {}) {
  const root = options.root ?? ROOT;
  const jobs = options.jobs ?? Math.min(4, os.availableParallelism());
  const force = options.force === true;
  const core = path.join(root, 'packages/core');
  const startedAt = performance.now();
  const cpuBefore = cpuSeconds();

  const all = tsupPackages(root);
  // Core's sources include its generated validators: whether it is stale is known after them.
  const generated = all.includes(core) ? generateValidators(core) : Promise.resolve();
  const others = all.filter((dir) => dir !== core && (force || isStale(dir, root)));
  const queue = [...others];
  const built = [...others];
  let coreSettled = false;
  const coreQueued = generated.then(() => {
    coreSettled = true;
    if (all.includes(core) && (force || isStale(core, root))) {
      queue.unshift(core); // first in line once ready: the bench needs it most
      built.unshift(core);
    }
  });
  // Each lane is one worker process (tsup loaded once) taking packages from the queue.
  const lane = async () => {
    /** @type {ReturnType<typeof startWorker> | null} */
    let worker = null;
    try {
      for (;;) {
        const dir = queue.shift();
        if (dir) await (worker ??= startWorker(root)).build(dir);
        else if (!coreSettled) await coreQueued;
        else return;
      }
    } finally {
      worker?.stop();
    }
  };
  await Promise.all([coreQueued, ...Array.from({ length: jobs }, lane)]);
  return {
    built,
    current: all.filter((dir) => !built.includes(dir)),
    seconds: (performance.now() - startedAt) / 1000,
    cpuSeconds: cpuSeconds() - cpuBefore,
  };
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--worker') return workerMain();
  const jobsAt = args.indexOf('--jobs');
  const jobs = jobsAt >= 0 ? Number(args[jobsAt + 1]) : undefined;
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) throw new Error('--jobs takes a whole number of at least 1');
  const { built, current, seconds, cpuSeconds: cpu } = await buildBench({ jobs, force: args.includes('--force') });
  const names = (/** @type {string[]} */ dirs) => dirs.map((dir) => path.basename(dir)).join(', ');
  process.stderr.write(
    `build-bench: JS only (no .d.ts, no dashboard page) of ${built.length} package${built.length === 1 ? '' : 's'} in ${seconds.toFixed(1)} s (${cpu.toFixed(1)} s of CPU)` +
      `${current.length > 0 ? `; up to date: ${names(current)}` : ''}\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error) => {
    process.stderr.write(`build-bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
