import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { configSearchPlaces, defaultRuleFiles, LoadlightError } from '@loadlight/core';
import { writeFileAtomicSync } from '@loadlight/reporter-json';
import { parse, printableLine, shownPath, UsageError } from './args.js';

export const INIT_HELP = `Usage: loadlight init [--dir <folder>] [--force]

Writes a starter perf.config.ts (every built-in plugin and reporter listed, with what it does)
and copies the default rules into loadlight-rules/, where the config points. Refuses to
overwrite an existing file unless --force is given, and names each one; never writes through a
loadlight-rules that is a symbolic link.

Options:
  -d, --dir <folder>  the project folder to write into (default: the current folder)
      --force         overwrite perf.config.ts and the rule files if they exist
  -h, --help          show this help
`;

export const CONFIG_FILE = 'perf.config.ts';
export const RULES_DIR = 'loadlight-rules';

/**
 * The starter config. Plain JavaScript apart from its name (no annotation, no generic), so that
 * loadlight imports it natively rather than through a TypeScript transform; `defineConfig`
 * still types it in an editor and under tsc.
 */
export function starterConfig(ruleFiles: string[]): string {
  const rules = ruleFiles.map((file) => `    './${RULES_DIR}/${file}',`).join('\n');
  return `// What loadlight measures, how it reports it and which rules judge it.
// Check it with \`npx loadlight validate\`; profile with \`npx loadlight run -- node app.js\`.
import { defineConfig } from '@loadlight/core';

export default defineConfig({
  sampleIntervalMs: 1000, // how often the sources are read (ms)
  windowSeconds: 60, // the window the rules see: means, rates per minute, p95 (s)

  // Metric sources. A name is a built-in plugin ("system" is @loadlight/plugin-system);
  // ['name', { ...options }] passes options. Uncomment one after installing its package:
  // npm install @loadlight/plugin-NAME. For typed options import its factory instead:
  // import frames from '@loadlight/plugin-frames', then frames({ targetFps: 30 }).
  plugins: [
    'system', // host CPU, memory and load; this process's CPU, RSS, heap, event-loop delay and GC
    // 'modules', // per-part profiling: calls, errors, latency, CPU and memory of the functions you wrap with profileModule() or @profile
    // 'ocr', // OCR calls and errors per minute, latency, confidence, characters read: trackOcrCall(), timeOcr(), instrumentTesseract()
    // ['frames', { targetFps: 30 }], // frames analysed per minute, fps against the target, late and dropped frames: trackFrame()
    // 'io', // time spent waiting on IO (trackIoWait(), timeIo()), host disk and network throughput, iowait
  ],

  // Reporters: where the measurements go.
  reporters: [
    'console', // the live view: redraws in place on a terminal, one line per report in a log
    ['json', { dir: 'perf/samples' }], // the session profile, perf/samples/SESSION-ID.json, written when the program ends
    // 'dashboard', // a live web panel served by your program on 127.0.0.1 (npm install @loadlight/reporter-dashboard)
    // 'prometheus', // a /metrics endpoint for Prometheus on 127.0.0.1:9317 (npm install @loadlight/reporter-prometheus)
  ],

  // The rules (json-rules-engine files): load levels, recommendations and alerts. Edit their
  // numbers; an edit takes effect while the program runs. \`npx loadlight validate --facts\`
  // lists every fact a rule can use.
  rules: [
${rules}
  ],

  // Budgets for \`npx loadlight compare baseline.json current.json\`, which exits with code 2
  // when one is exceeded (a CI gate). Limits: max, min, maxIncrease, maxIncreasePercent,
  // maxDecrease, maxDecreasePercent; stat: 'mean' (default), 'p95', 'max'...
  // budgets: {
  //   'process.cpu.percent': { maxIncreasePercent: 20 }, // mean CPU at most 20 % above the baseline's
  //   'process.memory.rss_mb': { max: 200 }, // mean RSS at most 200 MB
  // },
});
`;
}

/** Writes atomically (reporter-json's temp file, fsync, rename): an interrupted init never leaves half a file. */
function writeAtomic(file: string, content: string | Buffer): void {
  try {
    writeFileAtomicSync(file, content);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new LoadlightError('CONFIG_LOAD_FAILED', `init: cannot write ${shownPath(file)}: ${reason}`, { file, cause: error });
  }
}

/** Whether `dir/place` holds a config: a file, or for package.json one with a "perf" key. */
function holdsConfig(dir: string, place: string): boolean {
  const file = path.join(dir, place);
  if (!existsSync(file)) return false;
  if (place !== 'package.json') return true;
  try {
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return typeof pkg === 'object' && pkg !== null && Object.hasOwn(pkg, 'perf');
  } catch {
    return false; // not our business: cosmiconfig reports a broken package.json itself
  }
}

/**
 * The rules folder must be a folder of the project's own: a symbolic link would have the rule
 * files written wherever it points (shared rules, another project), even with --force, and a
 * file there would fail after perf.config.ts was written. Either is refused before writing.
 */
function refuseRulesDir(rulesDir: string, shown: (file: string) => string): void {
  let stats;
  try {
    stats = lstatSync(rulesDir);
  } catch {
    return; // missing: created when the rules are written
  }
  if (stats.isDirectory()) return;
  const what = stats.isSymbolicLink() ? `a symbolic link (to ${printableLine(readlinkSync(rulesDir))})` : 'not a folder';
  throw new LoadlightError(
    'CONFIG_INVALID',
    `init: nothing written: ${shown(rulesDir)} is ${what}, and init writes the rules only into a folder of its own` +
      `${stats.isSymbolicLink() ? ', never through a link (--force included)' : ''}: remove it, or use --dir for another folder.`,
    { file: rulesDir },
  );
}

export async function initCommand(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values, positionals } = parse({
    args: argv,
    allowPositionals: true,
    options: { dir: { type: 'string', short: 'd' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    out.write(INIT_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (the folder is given with --dir)`);
  if (values.dir !== undefined && values.dir.trim() === '') throw new UsageError('--dir expects a folder, got ""');
  if (values.dir?.includes('\0')) throw new UsageError('--dir cannot hold a NUL character');
  const dir = path.resolve(values.dir ?? '.');
  // Paths in messages on one line each, whatever --dir holds.
  const shown = (file: string) => shownPath(file, '.');
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`--dir ${shown(dir)} is a file, not a folder`);

  refuseRulesDir(path.join(dir, RULES_DIR), shown);

  const sources = defaultRuleFiles();
  const ruleNames = sources.map((file) => path.basename(file));
  const targets: Array<{ file: string; content: string | Buffer }> = [
    { file: path.join(dir, CONFIG_FILE), content: starterConfig(ruleNames) },
    ...sources.map((source) => ({ file: path.join(dir, RULES_DIR, path.basename(source)), content: readFileSync(source) })),
  ];
  const existing = targets.filter((t) => existsSync(t.file)).map((t) => shown(t.file));
  // Another config file in the folder: loadConfig may read it rather than perf.config.ts.
  const places = configSearchPlaces();
  const others = places.filter((place) => place !== CONFIG_FILE && holdsConfig(dir, place));
  const before = others.filter((place) => places.indexOf(place) < places.indexOf(CONFIG_FILE));
  const otherShown = others.map((place) => (place === 'package.json' ? `${shown(path.join(dir, place))} ("perf" key)` : shown(path.join(dir, place))));

  if (!values.force && (existing.length > 0 || others.length > 0)) {
    const lines = [
      ...existing.map((file) => `  - ${file} exists`),
      ...otherShown.map((file) => `  - ${file} is a loadlight config already`),
    ];
    throw new LoadlightError(
      'CONFIG_INVALID',
      `init: nothing written, these would be overwritten or conflict:\n${lines.join('\n')}\nRun "loadlight init --force" to overwrite them` +
        (others.length > 0 ? ' (other config files are kept: remove them yourself)' : '') +
        '.',
    );
  }

  for (const target of targets) writeAtomic(target.file, target.content);
  const rel = shown(dir);
  const lines = [
    `wrote ${shown(path.join(dir, CONFIG_FILE))}${existing.includes(shown(path.join(dir, CONFIG_FILE))) ? ' (overwritten)' : ''}`,
    `copied the default rules to ${shown(path.join(dir, RULES_DIR))}/: ${ruleNames.join(', ')}`,
  ];
  if (before.length > 0) {
    lines.push(
      `warning: ${before.map((p) => (p === 'package.json' ? 'package.json ("perf" key)' : p)).join(', ')} ${before.length === 1 ? 'is' : 'are'} read before ${CONFIG_FILE}: remove ${before.length === 1 ? 'it' : 'them'} for the new config to take effect.`,
    );
  }
  const cd = rel === '.' ? '' : `cd ${rel} && `;
  const steps: Array<[string, string]> = [
    [`${cd}npx loadlight validate`, 'check the config and the rules'],
    [`${cd}npx loadlight run -- node app.js`, 'profile your program; the session goes to perf/samples/'],
    [`edit ${path.join(rel === '.' ? '' : rel, RULES_DIR)}/*.json`, 'change thresholds, recommendations and alerts'],
    ['npx loadlight compare base.json new.json', 'compare two sessions; budgets in the config gate CI'],
  ];
  const width = Math.max(...steps.map(([command]) => command.length));
  lines.push('', 'Next steps:', ...steps.map(([command, what], i) => `  ${i + 1}. ${command.padEnd(width)}  ${what}`));
  out.write(`${lines.join('\n')}\n`);
  return 0;
}
