// @ts-check
// Topic `rules`: 100 modules x the default rules, one evaluation, the naive way (json-rules-engine
// run per module, every metric's window) against the rules stage (issue 4, item 4).
import { defineTopic } from '../lib/topic.mjs';

/** Timed rounds (each case once per round, in rotating order). */
const ROUNDS = { quick: 8, full: 30 };

export default defineTopic({
  id: 'rules',
  order: 40,
  title: '100 modules x the default rules: one evaluation',
  method: (_settings, quick) =>
    `ms per evaluation (µs per run), one process, ${ROUNDS[quick ? 'quick' : 'full']} rounds after a warm-up, cases rotating, each round's figure the mean of a batch; median over rounds, ± half the IQR; ratio: median of per-round ratios.`,
  groups: [{ id: 'evaluation', load: () => import('./rules/run.mjs'), params: { rounds: ROUNDS } }],
});
