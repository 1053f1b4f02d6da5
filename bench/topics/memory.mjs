// @ts-check
// Topic `memory`: heap and RSS growth after a full ring (issue 4, item 3), for a modelled program
// (the bound's case) and for a worst case (every module busy every tick), each in its own process.
import { defineTopic } from '../lib/topic.mjs';

export default defineTopic({
  id: 'memory',
  order: 30,
  title: 'memory held by a full ring',
  method: () => 'MB (2^20 bytes) from process.memoryUsage() after full gcs, before the profiler started and after its ring is full; medians of 7 processes per workload (3 with --quick), both workloads at once.',
  // MB after full gcs, each process its own: the two workloads run at the same time.
  groups: [
    { id: 'full-ring', load: () => import('./memory/run.mjs'), params: { workload: 'realistic' }, concurrent: true },
    { id: 'worst-case', load: () => import('./memory/run.mjs'), params: { workload: 'worst' }, concurrent: true },
  ],
});
