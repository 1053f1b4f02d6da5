// @ts-check
// The parent process: finds the topics, runs every group in a child process, assembles the
// comparisons, prints the tables and writes bench/results/latest.json and one SVG per topic.
import { fork } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SETTINGS } from './measure.mjs';
import { buildComparison } from './results.mjs';
import { renderTopicSvg } from './svg.mjs';

/**
 * @typedef {import('./topic.mjs').Topic} Topic
 * @typedef {import('./topic.mjs').Group} Group
 * @typedef {import('./topic.mjs').GroupResult} GroupResult
 * @typedef {import('./table.mjs').TopicResult} TopicResult
 * @typedef {{ file: string, topic: Topic }} TopicEntry
 */

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TOPICS_DIR = path.join(BENCH_DIR, 'topics');
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');
const CHILD = path.join(BENCH_DIR, 'lib/child.mjs');

/**
 * Every `bench/topics/*.mjs`, in their `order`.
 * @param {string} [dir]
 * @returns {Promise<TopicEntry[]>}
 */
export async function discoverTopics(dir = TOPICS_DIR) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => path.join(dir, f));
  /** @type {TopicEntry[]} */
  const entries = [];
  for (const file of files) {
    const topic = /** @type {Topic} */ ((await import(pathToFileURL(file).href)).default);
    if (!topic || typeof topic.id !== 'string' || !Array.isArray(topic.groups)) {
      throw new Error(`${path.relative(process.cwd(), file)}: the default export is not a topic (see bench/lib/topic.mjs)`);
    }
    entries.push({ file, topic });
  }
  return entries.sort((a, b) => a.topic.order - b.topic.order || a.topic.id.localeCompare(b.topic.id));
}

/**
 * Runs one group in a fresh node process and waits for its result.
 * @param {TopicEntry} entry
 * @param {Group} group
 * @param {boolean} quick
 * @returns {Promise<GroupResult>}
 */
export function runGroup(entry, group, quick) {
  const timeoutMs = group.timeoutMs ?? (quick ? 120_000 : 300_000);
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [entry.file, group.id, ...(quick ? ['--quick'] : [])], {
      execArgv: ['--expose-gc', ...(group.execArgv ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    /** @type {{ ok: boolean, result?: GroupResult, message?: string, stack?: string } | null} */
    let reply = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('message', (message) => (reply = /** @type {any} */ (message)));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (reply?.ok && reply.result) resolve(reply.result);
      else if (reply && !reply.ok) reject(new Error(reply.message ?? 'failed'));
      else reject(new Error(`the child process ended (${signal ?? `exit code ${code}`}) without a result`));
    });
  });
}

/**
 * The order groups run in: one at a time, except consecutive `concurrent` groups, which run
 * together, at most `cores` at once.
 * @param {Group[]} groups
 * @param {number} cores
 * @returns {Group[][]}
 */
export function groupBatches(groups, cores) {
  /** @type {Group[][]} */
  const batches = [];
  for (const group of groups) {
    const last = batches.at(-1);
    if (group.concurrent && last?.[0].concurrent && last.length < Math.max(1, cores)) last.push(group);
    else batches.push([group]);
  }
  return batches;
}

/**
 * A group with `sameAs` whose group ran earlier in this run: that result (through `adapt`), with a
 * note saying where it comes from. Null otherwise: the group has no `sameAs`, or its group did not
 * run in this run or failed (then this one runs itself).
 * @param {Group} group
 * @param {Map<string, GroupResult>} ran results of this run so far, by `<topic>/<group>`
 * @returns {GroupResult | null}
 */
export function reusedResult(group, ran) {
  if (!group.sameAs) return null;
  const { topic, group: id, adapt } = group.sameAs;
  const source = ran.get(`${topic}/${id}`);
  if (!source) return null;
  const result = adapt ? adapt(source) : source;
  return { ...result, notes: [...(result.notes ?? []), `measured once in this run, by ${topic} > ${id} (the same group): its figures, not a second process`] };
}

/**
 * Turns the groups' results into a topic result (comparisons, notes, errors).
 * @param {Topic} topic
 * @param {Array<{ group: string, result?: GroupResult, error?: string }>} outcomes
 * @param {{ quick: boolean, ranAt: string, durationMs: number }} meta
 * @returns {TopicResult & { settings: object, raw: Record<string, GroupResult> }}
 */
export function assembleTopic(topic, outcomes, meta) {
  const settings = meta.quick ? SETTINGS.quick : SETTINGS.full;
  /** @type {TopicResult['comparisons']} */
  const comparisons = [];
  /** @type {string[]} */
  const notes = [];
  /** @type {TopicResult['errors']} */
  const errors = [];
  /** @type {Map<string, GroupResult>} */
  const results = new Map();
  for (const outcome of outcomes) {
    if (!outcome.result) {
      errors.push({ group: outcome.group, message: outcome.error ?? 'no result' });
      continue;
    }
    results.set(outcome.group, outcome.result);
    const measured = new Map(outcome.result.measured.map((m) => [m.id, m]));
    for (const def of outcome.result.comparisons) {
      try {
        comparisons.push(buildComparison(def, measured));
      } catch (error) {
        errors.push({ group: outcome.group, message: error instanceof Error ? error.message : String(error) });
      }
    }
    // Prefixed with the group: several groups may say the same thing about different processes.
    for (const note of outcome.result.notes ?? []) {
      const line = `${outcome.group}: ${note}`;
      if (!notes.includes(line)) notes.push(line);
    }
  }
  if (topic.derive) {
    try {
      const derived = topic.derive(results);
      comparisons.push(...derived.comparisons);
      notes.push(...(derived.notes ?? []));
    } catch (error) {
      errors.push({ group: 'derive', message: error instanceof Error ? error.message : String(error) });
    }
  }
  return {
    id: topic.id,
    title: topic.title,
    method: topic.method?.(settings, meta.quick),
    ranAt: meta.ranAt,
    quick: meta.quick,
    durationMs: meta.durationMs,
    settings,
    comparisons,
    notes,
    errors,
    raw: Object.fromEntries(results),
  };
}

export function hostInfo() {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${os.release()}`,
    arch: process.arch,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/**
 * CPU seconds (user + system) of this process's finished children, their own children included
 * (Linux: cutime + cstime of /proc/self/stat); null elsewhere. The difference around a group is
 * the CPU it used: on a shared machine, wall time alone says little about what a group costs.
 * @returns {number | null}
 */
export function childrenCpuSeconds() {
  try {
    const text = readFileSync('/proc/self/stat', 'latin1');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 of proc(5), counted from the state (field 3) at index 0; USER_HZ = 100.
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return null;
  }
}

/**
 * Writes a file through a temporary name and a rename, so a reader never sees half of it.
 * @param {string} file
 * @param {string} content
 */
export function writeAtomic(file, content) {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, content);
  renameSync(temp, file);
}

/**
 * Merges this run's topics into latest.json (topics not run this time keep their last results,
 * each stamped with when it ran) and writes one SVG per topic run.
 * @param {Array<TopicResult & object>} topics
 * @param {object} host
 * @param {string} [dir]
 */
export function writeResults(topics, host, dir = RESULTS_DIR) {
  const file = path.join(dir, 'latest.json');
  /** @type {{ topics?: Array<{ id: string }> }} */
  let previous = {};
  try {
    previous = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // First run, or an unreadable file: start afresh.
  }
  const fresh = new Map(topics.map((t) => [t.id, { ...t, host }]));
  // Keep the previous order; a topic run now replaces its old entry in place.
  const merged = (previous.topics ?? []).map((t) => fresh.get(t.id) ?? t);
  for (const [id, t] of fresh) if (!merged.some((m) => m.id === id)) merged.push(t);
  const document = { schema: 1, updatedAt: new Date().toISOString(), topics: merged };
  // Six significant digits are more than any figure here can claim, and keep the file readable.
  const round = (/** @type {string} */ _key, /** @type {unknown} */ value) =>
    typeof value === 'number' && Number.isFinite(value) && !Number.isInteger(value) ? Number(value.toPrecision(6)) : value;
  writeAtomic(file, `${JSON.stringify(document, round, 2)}\n`);
  const written = [file];
  for (const topic of topics) {
    const svg = path.join(dir, `${topic.id}.svg`);
    writeAtomic(svg, renderTopicSvg(topic));
    written.push(svg);
  }
  return written;
}
