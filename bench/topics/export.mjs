// @ts-check
// Topic `export`: writing the session of a full ring, time and file size (issue 4, item 7), for a
// modelled program (the bound's case) and for a worst case, each in its own process.
import { defineTopic } from '../lib/topic.mjs';

export default defineTopic({
  id: 'export',
  order: 70,
  title: 'writing the session of a full ring: time and file size',
  method: (_settings, quick) =>
    `ms: median of ${quick ? '2 (worst case 1)' : '5 (worst case 2)'} exports after a first (cold) one, one process per workload, a full gc before each case; ± half the IQR; size in kB (1,000 bytes).`,
  groups: [
    { id: 'full-ring', load: () => import('./export/run.mjs'), params: { workload: 'realistic' } },
    { id: 'worst-case', load: () => import('./export/run.mjs'), params: { workload: 'worst' } },
  ],
});
