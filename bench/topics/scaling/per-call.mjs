// @ts-check
// Per-call cost of profileModule with `params.modules` modules existing: the hot-path topic's
// module group (bench/topics/hot-path/module.mjs), run as it is. Its per-count tables stay in the
// hot-path topic; this topic shows their growth from 1 module (see scaling.mjs).
import { run as runModuleGroup } from '../hot-path/module.mjs';

/** @type {import('../../lib/topic.mjs').GroupModule['run']} */
export async function run(ctx, params) {
  const result = await runModuleGroup(ctx, { modules: params.modules });
  return { measured: result.measured, notes: result.notes, comparisons: [] };
}
