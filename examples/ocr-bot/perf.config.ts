import { defaultRuleFiles, defineConfig, definePlugin } from '@loadlight/core';
import frames from '@loadlight/plugin-frames';
import io from '@loadlight/plugin-io';
import modules from '@loadlight/plugin-modules';
import ocr from '@loadlight/plugin-ocr';
import system from '@loadlight/plugin-system';
import consoleReporter from '@loadlight/reporter-console';
import json from '@loadlight/reporter-json';
import { fpsOf } from './src/options.js';
import { readings } from './src/readings.js';

/** A custom source: how much of the HUD the bot read right, as a metric rules and reports can use. */
function botMetrics() {
  let lastFieldsRead = 0;
  let lastFieldsRight = 0;
  return definePlugin({
    name: 'bot',
    metrics: {
      'bot.ocr.accuracy_percent': {
        unit: 'percent',
        kind: 'gauge',
        description: 'HUD fields read as drawn, over the reads of the tick (null when nothing was read)',
      },
    },
    apply(profiler) {
      profiler.hooks.collect.tap('bot', (w) => {
        const read = readings.fieldsRead - lastFieldsRead;
        const right = readings.fieldsRight - lastFieldsRight;
        lastFieldsRead = readings.fieldsRead;
        lastFieldsRight = readings.fieldsRight;
        w.set('bot.ocr.accuracy_percent', read > 0 ? (right / read) * 100 : null);
      });
    },
  });
}

export default defineConfig({
  sampleIntervalMs: 1000,
  // a short window, so that levels and recommendations follow the bot within seconds
  windowSeconds: 3,
  plugins: [system(), modules(), ocr(), frames({ targetFps: fpsOf() }), io(), botMetrics()],
  reporters: [consoleReporter(), json({ dir: 'perf/samples' })],
  rules: defaultRuleFiles(),
});
