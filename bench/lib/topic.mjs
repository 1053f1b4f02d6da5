// @ts-check
// The shape of a topic. A topic is a file in bench/topics/ whose default export names its groups;
// each group runs in a child process of its own (a fresh V8: one group's JIT state, heap and
// timers never bleed into the next) and returns measured cases plus the comparisons to show.
// New topics (sampler overhead, memory, rules, start-up, scaling, export) are more such files.

/**
 * @typedef {import('./measure.mjs').MicroCase} MicroCase
 * @typedef {import('./measure.mjs').MeasureSettings} MeasureSettings
 * @typedef {import('./measure.mjs').CaseResult} CaseResult
 * @typedef {import('./results.mjs').Measured} Measured
 * @typedef {import('./results.mjs').ComparisonDef} ComparisonDef
 * @typedef {import('./results.mjs').Comparison} Comparison
 */

/**
 * Handed to a group's `run` in its child process.
 * @typedef {object} GroupContext
 * @property {boolean} quick
 * @property {MeasureSettings} settings the micro-benchmark settings for this kind of run
 * @property {(cases: MicroCase[], overrides?: Partial<MeasureSettings>) => CaseResult[]} measure
 */

/**
 * What a group's `run` returns (it must be structured-clonable: it crosses the IPC channel).
 * @typedef {object} GroupResult
 * @property {Measured[]} measured
 * @property {ComparisonDef[]} comparisons
 * @property {string[]} [notes]
 */

/**
 * @typedef {object} GroupModule
 * @property {(ctx: GroupContext, params: Record<string, unknown>) => Promise<GroupResult> | GroupResult} run
 */

/**
 * @typedef {object} Group
 * @property {string} id unique within the topic
 * @property {() => Promise<GroupModule>} load imported in the child only, so that a group's
 *   dependencies (and their JIT state) stay out of the parent and the other groups
 * @property {Record<string, unknown>} [params] handed to `run`: one module file can serve several groups
 * @property {string[]} [execArgv] extra node flags for this group's child (`--expose-gc` is always on)
 * @property {number} [timeoutMs] default 120 s (quick) / 300 s (full)
 * @property {boolean} [concurrent] its figures do not depend on time (MB after a gc, sizes): it
 *   runs at the same time as the topic's next groups that say so too, as many at once as the
 *   machine has cores (bench/lib/runner.mjs `groupBatches`)
 * @property {SameAs} [sameAs] the same measurement as a group of another topic (the same module
 *   and params): when that group ran earlier in this run, its result is taken rather than measured
 *   a second time (bench/lib/runner.mjs `reusedResult`); run on its own, this group runs itself
 */

/**
 * @typedef {object} SameAs
 * @property {string} topic
 * @property {string} group
 * @property {(result: GroupResult) => GroupResult} [adapt] what this group makes of that result
 *   (the same as its own `run` makes of the shared module's; it must not change its argument)
 */

/**
 * @typedef {object} Topic
 * @property {string} id used on the command line and for bench/results/<id>.svg
 * @property {number} order position in a full run
 * @property {string} title
 * @property {(settings: MeasureSettings, quick: boolean) => string} [method] one line under the title
 * @property {Group[]} groups
 * @property {(results: Map<string, GroupResult>) => { comparisons: Comparison[], notes?: string[] }} [derive]
 *   comparisons across groups (for example the same case measured with 1 and 10,000 modules)
 */

/**
 * Type helper for topic files.
 * @param {Topic} topic
 * @returns {Topic}
 */
export function defineTopic(topic) {
  return topic;
}

/**
 * Imports one of our packages, or explains why it cannot be measured yet (a package not built).
 * Our cases then show as not measured; the peers' cases still run.
 * @template T
 * @param {string} specifier
 * @returns {Promise<{ module: T, missing: null } | { module: null, missing: string }>}
 */
export async function importOptional(specifier) {
  try {
    return { module: /** @type {T} */ (await import(specifier)), missing: null };
  } catch (error) {
    const code = /** @type {{ code?: string }} */ (error).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      // The package itself missing its dist is the usual case; anything else (a dependency of
      // it missing) is worth its own message.
      const unbuilt = message.includes(`${specifier}/`) || message.includes(`'${specifier}'`);
      return { module: null, missing: unbuilt ? `${specifier} is not built (npm run build)` : `${specifier} could not be loaded: ${message}` };
    }
    throw error;
  }
}
