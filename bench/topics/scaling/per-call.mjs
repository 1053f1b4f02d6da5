// @ts-check
// Per-call cost of profileModule with `params.modules` modules existing: the hot-path topic's
// module group (bench/topics/hot-path/module.mjs), run as it is. Its per-count tables stay in the
// hot-path topic; this topic shows their growth from 1 module (see scaling.mjs). In a run of both
// topics, the hot-path group's result is taken instead (scaling.mjs: `sameAs`).
import { perCallResult } from '../scaling.mjs';
import { run as runModuleGroup } from '../hot-path/module.mjs';

/** @type {import('../../lib/topic.mjs').GroupModule['run']} */
export async function run(ctx, params) {
  return perCallResult(await runModuleGroup(ctx, { modules: params.modules }));
}
