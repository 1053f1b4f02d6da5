// @ts-check
// Topic `export`: writing the session of a full ring, time and file size (issue 4, item 7), for a
// modelled program (the bound's case) and for a worst case, each in its own process.
import { defineTopic } from '../lib/topic.mjs';

/** Exports timed after the first (cold) one, per workload: their median is the figure. */
export const REPEATS = { realistic: 9, worst: 2, quickRealistic: 2, quickWorst: 1 };

export default defineTopic({
  id: 'export',
  order: 70,
  title: 'writing the session of a full ring: time and file size',
  method: (_settings, quick) =>
    `ms: median of ${quick ? `${REPEATS.quickRealistic} (worst case ${REPEATS.quickWorst})` : `${REPEATS.realistic} (worst case ${REPEATS.worst})`} exports after a first (cold) one, one process per workload, a full gc before each case; ± half the IQR; size in kB (1,000 bytes).`,
  groups: [
    { id: 'full-ring', load: () => import('./export/run.mjs'), params: { workload: 'realistic' } },
    { id: 'worst-case', load: () => import('./export/run.mjs'), params: { workload: 'worst' } },
  ],
});
