// npm run demo: profiles the OCR bot (examples/ocr-bot) for about 20 seconds with live console
// output, applying the action "ocr.reduce-frequency" at half-time. Then it checks the session
// file against the published schema, says where it is, and shows from the session what issue 3
// requires: the rules flagged the OCR module and recommended reducing OCR frequency before the
// action, and the action lowered the OCR module's CPU. Exits non-zero when any of that fails.
// Options: --duration <time> (default 20s).
//
// npm run demo -- --dashboard: the OCR bot with the live dashboard (examples/ocr-bot/
// perf.dashboard.config.ts) until Ctrl-C, or for --duration when given; prints the panel's URL.
// Nothing is applied by itself: the panel's "Apply" buttons do it. --port <n> (default 7317, 0: any free one).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sessionSeries, validateSession } from '@loadlight/core';
import { isSessionFileName, parseDuration, UsageError } from 'loadlight';

const ACTION = 'ocr.reduce-frequency';
/** The bot's OCR modules: its main-thread module and tesseract's worker thread. */
const OCR_MODULES = ['core.ocr', 'core.ocr.engine'];
/** "Visibly lower": the mean CPU after the action is at most this share of the mean before. */
const MAX_AFTER_TO_BEFORE = 0.75;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const example = path.join(root, 'examples/ocr-bot');
const samplesDir = path.join(example, 'perf/samples');
const rel = (file) => path.relative(process.cwd(), file);
const cli = path.join(root, 'packages/cli/bin/loadlight.js');

const USAGE = 'Usage: npm run demo [-- --duration 20s]\n       npm run demo -- --dashboard [--port 7317] [--duration <time>]';
let durationMs;
let dashboard;
try {
  const { values } = parseArgs({ options: { duration: { type: 'string' }, dashboard: { type: 'boolean', default: false }, port: { type: 'string' } } });
  dashboard = values.dashboard ? { port: values.port ?? '7317' } : null;
  if (values.port !== undefined && !dashboard) throw new UsageError('--port goes with --dashboard');
  if (dashboard && !/^\d{1,5}$/.test(dashboard.port)) throw new UsageError(`--port: expected a port number, got "${dashboard.port}"`);
  durationMs = values.duration === undefined ? (dashboard ? null : 20_000) : parseDuration(values.duration);
} catch (error) {
  console.error(`demo: ${error instanceof UsageError || error?.code?.startsWith?.('ERR_PARSE_ARGS') ? error.message : error}\n${USAGE}`);
  process.exit(2);
}
if (dashboard) await runDashboard(dashboard.port, durationMs);
const applyAfterMs = Math.round(durationMs / 2);
// The bot needs a few seconds to start and for the rules' window to fill before the action.
if (durationMs < 10_000) console.error('demo: under 10 s, the rules may not see the OCR load before the action at half-time');

// The bot stops itself after its duration; the CLI's own limit is only a guard against a hang.
const startedAt = Date.now();
const child = spawn(
  process.execPath,
  [
    cli, 'run', '--config', path.join(example, 'perf.config.ts'), '--duration', `${durationMs + 60_000}ms`, '--',
    process.execPath, path.join(example, 'index.js'), '--duration', `${durationMs}ms`, '--apply-after', `${applyAfterMs}ms`,
  ],
  { stdio: 'inherit', cwd: root },
);
// Ctrl-C reaches the bot too: it finishes its frame, and the session is still written and checked.
process.on('SIGINT', () => undefined);
const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
if (code !== 0) {
  console.error(`demo: the profiled bot ended with exit code ${code}`);
  process.exit(code);
}

const file = newestSession(startedAt);
if (file === null) {
  console.error(`demo: no session file was written to ${rel(samplesDir)}`);
  process.exit(1);
}
let session;
try {
  session = JSON.parse(readFileSync(file, 'utf8'));
  validateSession(session, rel(file));
} catch (error) {
  console.error(`demo: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}

const failures = [];
const pct = (v) => (v === null ? '-' : `${v.toFixed(1)}%`);
const mean = (values) => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);
/** Non-null values of a metric whose sample time passes `keep`. */
function valuesOf(name, keep) {
  const series = sessionSeries(session, name);
  return session.samples.t.flatMap((t, i) => (series[i] !== null && series[i] !== undefined && keep(t) ? [series[i]] : []));
}

console.log(`\ndemo: session ${session.sessionId}: ${session.samples.t.length} samples over ${(session.durationMs / 1000).toFixed(1)} s`);
const accuracy = mean(valuesOf('bot.ocr.accuracy_percent', () => true));
console.log(`demo: OCR accuracy: ${pct(accuracy)} of HUD fields read as drawn (bot.ocr.accuracy_percent, mean over the ticks with reads)`);

const record = session.actions.find((a) => a.id === ACTION);
if (!record) {
  failures.push(`the action "${ACTION}" is not in the session`);
} else {
  const actionAt = Date.parse(record.at);
  console.log(`demo: action: ${JSON.stringify({ ...record, durationMs: Number(record.durationMs.toFixed(2)) })}`);
  if (!record.ok) failures.push(`the action "${ACTION}" failed: ${record.error}`);

  // Flagged before the action: the levels the rules gave the OCR modules when it ran.
  const levelsBefore = record.result?.levelsBefore ?? {};
  const flagged = Object.entries(levelsBefore).filter(([, level]) => level === 'yellow' || level === 'red');
  console.log(
    `demo: rules' levels for the OCR modules when the action ran: ${Object.entries(levelsBefore).map(([m, l]) => `${m}=${l}`).join(', ') || '(none)'}` +
      ` -> ${flagged.length > 0 ? 'flagged' : 'NOT flagged'}`,
  );
  if (flagged.length === 0) failures.push('the rules did not flag an OCR module (yellow or red) before the action');

  const recommendation = session.recommendations.find((r) => r.action === ACTION);
  const recommendedBefore = recommendation !== undefined && Date.parse(recommendation.firstSeen) <= actionAt;
  console.log(
    recommendation
      ? `demo: recommendation "${recommendation.id}" (${recommendation.priority}) first seen ${((Date.parse(recommendation.firstSeen) - Date.parse(session.startedAt)) / 1000).toFixed(1)} s in, ` +
          `${recommendedBefore ? 'before' : 'AFTER'} the action at ${((actionAt - Date.parse(session.startedAt)) / 1000).toFixed(1)} s: "${recommendation.message}"`
      : `demo: no recommendation names the action "${ACTION}"`,
  );
  if (!recommendedBefore) failures.push(`the rules did not recommend "${ACTION}" before the action`);

  // CPU before vs after. "Before" starts after the tick of the first OCR call (the bot starts
  // tesseract first, and that tick is partial); a tick's CPU % covers the interval before it, so
  // the first tick after the action still holds some of the old rate: it is left out too.
  const settleMs = session.config.sampleIntervalMs * 1.5;
  const calls = sessionSeries(session, 'ocr.calls.count');
  const readingFrom = session.samples.t.find((t, i) => (calls[i] ?? 0) > 0) ?? Infinity;
  let worst = null;
  for (const name of OCR_MODULES) {
    const metric = `module.${name}.cpu_percent`;
    if (!session.catalogue[metric]) continue;
    const before = mean(valuesOf(metric, (t) => t > readingFrom && t <= actionAt));
    const after = mean(valuesOf(metric, (t) => t >= actionAt + settleMs));
    console.log(`demo: ${name} CPU (% of one core): ${pct(before)} before the action, ${pct(after)} after`);
    if (before !== null && after !== null && (worst === null || before > worst.before)) worst = { name, before, after };
  }
  if (!worst) {
    failures.push('no CPU samples of an OCR module on both sides of the action');
  } else if (worst.after > worst.before * MAX_AFTER_TO_BEFORE) {
    failures.push(`${worst.name} CPU did not visibly drop: ${pct(worst.before)} before, ${pct(worst.after)} after`);
  } else {
    console.log(`demo: -> ${worst.name} load after the action is ${((worst.after / worst.before) * 100).toFixed(0)}% of what it was`);
  }
}

const seen = session.recommendations.map((r) => `${r.id} (${r.priority}${r.module ? `, ${r.module}` : ''})`).join(', ');
console.log(`demo: recommendations during the session: ${seen || '(none)'}`);
const levels = session.levels.map((l) => `${l.subject}=${l.level}`).join(' ');
console.log(`demo: levels at the end: ${levels || '(none)'}`);
console.log(`demo: profiler's own cost: ${session.overhead.cpuMs.toFixed(1)} ms CPU (${session.overhead.cpuPercent.toFixed(3)}% of one core)`);
console.log(`demo: session written to ${rel(file)} (valid against the schema)`);
if (failures.length > 0) {
  for (const failure of failures) console.error(`demo: FAILED: ${failure}`);
  process.exit(1);
}
console.log('demo: OK: the OCR module was flagged, reducing OCR frequency was recommended, and applying it lowered its load');

/**
 * `--dashboard`: the bot with the panel, until Ctrl-C (or `durationMs`). The reporter prints
 * "loadlight dashboard: <url>" on stderr; this repeats it where it is easy to see.
 */
async function runDashboard(port, durationMs) {
  const startedAt = Date.now();
  const botArgs = durationMs === null ? [] : ['--duration', `${durationMs}ms`];
  const child = spawn(
    process.execPath,
    [cli, 'run', '--config', path.join(example, 'perf.dashboard.config.ts'), '--', process.execPath, path.join(example, 'index.js'), ...botArgs],
    { stdio: ['inherit', 'inherit', 'pipe'], cwd: root, env: { ...process.env, OCR_BOT_DASHBOARD_PORT: port } },
  );
  let seen = '';
  child.stderr.on('data', (chunk) => {
    process.stderr.write(chunk);
    if (seen === null) return;
    seen += chunk.toString();
    const match = /loadlight dashboard: (http:\/\/\S+)/.exec(seen);
    if (match) {
      seen = null;
      console.log(
        `\ndemo: the OCR bot's live panel: ${match[1]}\n` +
          `demo: open it in a browser: core.ocr.engine turns red within seconds; "Apply ocr.reduce-frequency" under Recommendations lowers its CPU.\n` +
          `demo: ${durationMs === null ? 'the bot runs until Ctrl-C' : `the bot stops after ${Math.round(durationMs / 1000)} s (or Ctrl-C)`}; its session is written when it stops.\n`,
      );
    } else if (seen.length > 100_000) {
      seen = seen.slice(-1000);
    }
  });
  // Ctrl-C reaches the bot too (same process group): it finishes its frame and writes its session.
  process.on('SIGINT', () => undefined);
  const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
  const file = newestSession(startedAt);
  if (file !== null) console.log(`demo: session written to ${rel(file)}`);
  if (code !== 0) console.error(`demo: the profiled bot ended with exit code ${code}`);
  process.exit(code);
}

/**
 * The newest session file in the samples folder written since `since` (ms), or null: its
 * `*.trace.json` and journals are not sessions (the CLI's `isSessionFileName`, as `loadlight report` picks).
 */
function newestSession(since) {
  let newest = null;
  for (const name of readdirSync(samplesDir)) {
    if (!isSessionFileName(name)) continue;
    const file = path.join(samplesDir, name);
    const { mtimeMs } = statSync(file);
    if (mtimeMs >= since && (newest === null || mtimeMs > newest.mtimeMs)) newest = { file, mtimeMs };
  }
  return newest?.file ?? null;
}
