import { Profiler, definePlugin } from '@loadlight/core';

let jobs = 0;
const queue = definePlugin({
  name: 'queue',
  metrics: { 'queue.jobs': { unit: 'count', kind: 'counter', description: 'jobs done since the last tick' } },
  apply(profiler) {
    profiler.hooks.collect.tap('queue', (w) => {
      w.set('queue.jobs', jobs);
      jobs = 0;
    });
  },
});

const profiler = new Profiler({ plugins: [queue], reporters: [], rules: [], sampleIntervalMs: 100 });
await profiler.start();
const timer = setInterval(() => jobs++, 5);
await new Promise((resolve) => setTimeout(resolve, 1000));
clearInterval(timer);
const session = await profiler.stop();
console.log(session.statistics['queue.jobs']); // { count, min, max, mean, p50, p95, p99, last }
console.log(profiler.store.window('queue.jobs', 60).ratePerMinute); // jobs per minute
