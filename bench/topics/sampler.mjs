// @ts-check
// Topic `sampler`: what watching a running program costs (issue 4, item 2). A paced, CPU-bound
// bot loop (20 functions of image work) runs with no profiler, with loadlight at 1 Hz (every
// built-in source, 20 profiled modules, the default rules, console + JSON reporters), the same
// with plugin-modules' CPU sampler forced on, and with prom-client's default metrics scraped at
// 1 Hz, and a second no-profiler process as a control; each run a fresh process.
import { defineTopic } from '../lib/topic.mjs';
import { CASES, FPS, plan } from './sampler/run.mjs';

export default defineTopic({
  id: 'sampler',
  order: 20,
  title: 'sampler overhead: extra CPU and throughput loss of a running program',
  method: (_settings, quick) => {
    const { rounds, durationMs } = plan(quick);
    return (
      `${rounds} rounds; each round runs the ${CASES.length + 1} cases side by side (a second no-profiler process among them, the control), each in a fresh node process, for ${durationMs / 1000} s ` +
      `(a bot loop: ${FPS} frames/s of 20 CPU-bound functions, the same frames in every case). Extra CPU = process.cpuUsage() ` +
      `user+system over the window (after start() resolved, to the last frame's period) minus the same round's no-profiler run, ` +
      `/ the window, in % of one core; /proc/self/stat beside it. Throughput = frames/s a loop saturating one core would ` +
      `reach: (1 s - the extra main-thread CPU outside the frames) / CPU per frame (thread CPU from /proc/thread-self/schedstat). ` +
      'Medians over rounds, ± half the IQR.'
    );
  },
  groups: [{ id: 'overhead', load: () => import('./sampler/run.mjs'), timeoutMs: 300_000 }],
});
