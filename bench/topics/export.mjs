// @ts-check
// Topic `export`: writing the session of a full ring, time and file size (issue 4, item 7).
import { defineTopic } from '../lib/topic.mjs';

export default defineTopic({
  id: 'export',
  order: 70,
  title: 'writing the session of a full ring: time and file size',
  method: (_settings, quick) =>
    `ms: median of ${quick ? 3 : 10} exports after a first (cold) one, one process, gc before each; ± half the IQR; size in kB (1,000 bytes).`,
  groups: [{ id: 'full-ring', load: () => import('./export/run.mjs') }],
});
