// An OCR bot for a game HUD, profiled by loadlight. Run it profiled (perf.config.ts beside it):
//   npx loadlight run --config examples/ocr-bot/perf.config.ts -- node examples/ocr-bot/index.js --duration 20s
// or alone (`node examples/ocr-bot/index.js`): the profiling calls are then no-ops.
import { getProfiler } from '@loadlight/core';
import { ACTIONS, registerActions } from './src/actions.js';
import { Bot } from './src/bot.js';
import { OptionsError, parseOptions, USAGE } from './src/options.js';

const STATUS_EVERY_MS = 5000;

let options;
try {
  options = parseOptions();
} catch (error) {
  if (!(error instanceof OptionsError)) throw error;
  process.stderr.write(`ocr-bot: ${error.message}\n\n${USAGE}`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const bot = new Bot(options);
const stopping = new AbortController();
let signals = 0;
const onSignal = (signal) => {
  // a second Ctrl-C does not wait for the clean end
  if (++signals > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
  console.log(`[bot] ${signal}: finishing the current frame`);
  stopping.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// Under `loadlight run` the profiler started before this file ran; alone, there is none.
const profiler = getProfiler();
const timers = [];
try {
  await bot.open();
  if (profiler) registerActions(profiler, bot);
  console.log(
    `[bot] reading the HUD at ${options.fps} fps (ocr every ${bot.settings.ocrEvery} frame(s), verbose capture ${options.verbose ? 'on' : 'off'}); ` +
      `log and frames in ${bot.outDir}${profiler ? '' : '; no profiler is running'}`,
  );
  if (options.durationMs !== null) timers.push(setTimeout(() => stopping.abort(), options.durationMs));
  if (options.applyAfterMs !== null) {
    timers.push(
      setTimeout(async () => {
        const id = 'ocr.reduce-frequency';
        if (profiler) {
          const record = await profiler.actions.run(id, { source: 'demo' });
          console.log(`[bot] applied ${id}: ${record.ok ? JSON.stringify(record.result) : `failed: ${record.error}`}`);
        } else {
          console.log(`[bot] applied ${id} (no profiler to record it): ${JSON.stringify(ACTIONS[id].apply(bot))}`);
        }
      }, options.applyAfterMs),
    );
  }
  const statusTimer = setInterval(() => console.log(bot.status()), STATUS_EVERY_MS);
  timers.push(statusTimer);
  stopping.signal.addEventListener('abort', () => clearInterval(statusTimer));
  await bot.run(stopping.signal);
  console.log(bot.status().replace('[bot]', '[bot] done:'));
} catch (error) {
  process.exitCode = 1;
  console.error(`[bot] stopped by an error: ${error?.stack ?? error}`);
} finally {
  for (const timer of timers) clearTimeout(timer);
  await bot.close();
}
// Nothing is left running: the process ends by itself (exit code 0, also after Ctrl-C), and the
// profiler, if any, writes its session on the way out.
