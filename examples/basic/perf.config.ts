import { defaultRuleFiles, defineConfig, definePlugin } from '@loadlight/core';
import system from '@loadlight/plugin-system';
import consoleReporter from '@loadlight/reporter-console';
import json from '@loadlight/reporter-json';

/** A custom metric source in a few lines: open handles (timers, sockets, files) of this process. */
const handles = definePlugin({
  name: 'handles',
  metrics: {
    'handles.active': { unit: 'count', kind: 'gauge', description: 'timers, sockets and files held open' },
  },
  apply(profiler) {
    profiler.hooks.collect.tap('handles', (w) => {
      w.set('handles.active', process.getActiveResourcesInfo().length);
    });
  },
});

export default defineConfig({
  sampleIntervalMs: 1000,
  windowSeconds: 10,
  plugins: [system(), handles],
  reporters: [consoleReporter(), json({ dir: 'perf/samples' })],
  // the shipped rules, plus one of our own on the custom metric
  rules: [...defaultRuleFiles(), './rules/handles.json'],
});
