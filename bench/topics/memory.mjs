// @ts-check
// Topic `memory`: heap and RSS growth after a full ring (issue 4, item 3).
import { defineTopic } from '../lib/topic.mjs';

export default defineTopic({
  id: 'memory',
  order: 30,
  title: 'memory held by a full ring',
  method: () => 'MB (2^20 bytes) from process.memoryUsage() after full gcs, before the profiler started and after its ring is full; one process.',
  groups: [{ id: 'full-ring', load: () => import('./memory/run.mjs') }],
});
