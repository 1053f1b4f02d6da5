// @ts-check
// Topic `startup`: the config load against cosmiconfig's default `.ts` loader, and the time from
// startProfiling() to the first sample (issue 4, item 5). Every figure from a fresh process.
import { defineTopic } from '../lib/topic.mjs';

export default defineTopic({
  id: 'startup',
  order: 50,
  title: 'config load and time to the first sample',
  method: (_settings, quick) =>
    `ms, each from a fresh node process (${quick ? 2 : 6} per case, cases alternating${quick ? '; examples/basic only' : ''}); median over processes, ± half the IQR; ratio: median of per-round ratios.`,
  groups: [
    { id: 'config-load', load: () => import('./startup/run.mjs'), params: { part: 'config' } },
    { id: 'first-sample', load: () => import('./startup/run.mjs'), params: { part: 'first-sample' } },
  ],
});
