// Compile-time checks, run by `npm run typecheck` (part of `npm test`): a wrong option in a
// perf.config.ts is a type error. Each @ts-expect-error fails the typecheck if the line compiles.
import { defineConfig, definePlugin } from '@loadlight/core';
import system from '@loadlight/plugin-system';
import consoleReporter from '@loadlight/reporter-console';
import json from '@loadlight/reporter-json';

export const good = defineConfig({
  sampleIntervalMs: 1000,
  plugins: ['system', ['system', { gc: false }], system()],
  reporters: [consoleReporter({ refreshMs: 500 }), json({ dir: 'out' })],
  rules: ['./rules.json'],
});

// @ts-expect-error unknown option (a typo)
defineConfig({ sampleIntervalMS: 1000 });

// @ts-expect-error wrong type
defineConfig({ sampleIntervalMs: '1000' });

// @ts-expect-error a plugin must be a name, [name, options] or a plugin object
defineConfig({ plugins: [42] });

// @ts-expect-error unknown reporter option
json({ dri: 'out' });

// @ts-expect-error wrong reporter option type
consoleReporter({ refreshMs: 'fast' });

definePlugin({
  name: 'queue',
  // @ts-expect-error unknown unit
  metrics: { 'queue.depth': { unit: 'items', kind: 'gauge', description: 'jobs waiting' } },
  apply() {},
});

export const budgets = defineConfig({
  budgets: {
    'module.core.ocr.cpu_percent': { max: 40 },
    'frames.latency.p95_ms': { maxIncreasePercent: 10, stat: 'p95' },
    'frames.fps': { min: 25, maxDecreasePercent: 5 },
  },
});

// @ts-expect-error unknown budget limit (a typo)
defineConfig({ budgets: { 'process.cpu.percent': { maxIncreasePercnt: 10 } } });

// @ts-expect-error a budget sets at least one limit
defineConfig({ budgets: { 'process.cpu.percent': { stat: 'p95' } } });

// @ts-expect-error unknown statistic
defineConfig({ budgets: { 'process.cpu.percent': { max: 40, stat: 'p90' } } });

// @ts-expect-error a limit is a number
defineConfig({ budgets: { 'process.cpu.percent': { max: '40' } } });
