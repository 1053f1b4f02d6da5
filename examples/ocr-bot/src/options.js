// Command-line options, with environment variables as defaults (OCR_BOT_DURATION=20s ...).
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

export const USAGE = `Usage: node examples/ocr-bot/index.js [options]

  --duration <time>       stop after this long (20s, 2m, 500ms); default: until Ctrl-C  [OCR_BOT_DURATION]
  --fps <n>               frames per second (default 8)                                [OCR_BOT_FPS]
  --ocr-every <n>         read the HUD on every n-th frame (default 1)                  [OCR_BOT_OCR_EVERY]
  --heatmap-every <n>     regenerate the heatmap every n-th frame (default 1)           [OCR_BOT_HEATMAP_EVERY]
  --no-verbose            do not capture every frame to disk (verbose capture is on by default)
  --no-heatmap            skip the heatmap (an optional module)
  --apply-after <time>    run the action "ocr.reduce-frequency" after this long          [OCR_BOT_APPLY_AFTER]
  --out <dir>             where the log and captured frames go (default: a new temp dir)
  --seed <n>              game seed (default 1)
  -h, --help              show this help
`;

export class OptionsError extends Error {}

/** "20s", "2m", "500ms" or a bare number of seconds, in ms. */
export function parseDurationMs(text, name) {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(String(text).trim());
  if (!match) throw new OptionsError(`${name}: expected a time such as 20s, 2m or 500ms, got "${text}"`);
  const value = Number(match[1]);
  return match[2] === 'ms' ? value : match[2] === 'm' ? value * 60_000 : value * 1000;
}

function positiveInteger(text, name) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new OptionsError(`${name}: expected a whole number of 1 or more, got "${text}"`);
  return value;
}

export function parseOptions(argv = process.argv.slice(2), env = process.env) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        duration: { type: 'string' },
        fps: { type: 'string' },
        'ocr-every': { type: 'string' },
        'heatmap-every': { type: 'string' },
        'no-verbose': { type: 'boolean' },
        'no-heatmap': { type: 'boolean' },
        'apply-after': { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new OptionsError(error.message);
  }
  const duration = values.duration ?? env.OCR_BOT_DURATION;
  const applyAfter = values['apply-after'] ?? env.OCR_BOT_APPLY_AFTER;
  return {
    help: values.help === true,
    durationMs: duration === undefined || duration === '' ? null : parseDurationMs(duration, '--duration'),
    fps: positiveInteger(values.fps ?? env.OCR_BOT_FPS ?? 8, '--fps'),
    ocrEvery: positiveInteger(values['ocr-every'] ?? env.OCR_BOT_OCR_EVERY ?? 1, '--ocr-every'),
    heatmapEvery: positiveInteger(values['heatmap-every'] ?? env.OCR_BOT_HEATMAP_EVERY ?? 1, '--heatmap-every'),
    // left on from debugging, as such switches are
    verbose: values['no-verbose'] !== true,
    heatmap: values['no-heatmap'] !== true,
    applyAfterMs: applyAfter === undefined || applyAfter === '' ? null : parseDurationMs(applyAfter, '--apply-after'),
    outDir: values.out ? path.resolve(values.out) : null,
    defaultOutPrefix: path.join(os.tmpdir(), 'ocr-bot-'),
    seed: positiveInteger(values.seed ?? 1, '--seed'),
  };
}

/** The frame rate the bot will run at, for perf.config.ts (which runs in the bot's process); never throws. */
export function fpsOf(argv = process.argv.slice(2), env = process.env) {
  try {
    return parseOptions(argv, env).fps;
  } catch {
    return 8;
  }
}
