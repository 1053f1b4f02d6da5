import type { MetricInfo } from './types.js';

/**
 * Each profiled module's tags: the union of the tags declared on its metrics (`module.tags`),
 * sorted, keyed by module name in catalogue order. Only the metrics `include` accepts count (all
 * by default): a module none of whose metrics is accepted has no entry.
 */
export function moduleTags(catalogue: readonly MetricInfo[], include?: (info: MetricInfo) => boolean): Map<string, string[]> {
  const sets = new Map<string, Set<string>>();
  for (const info of catalogue) {
    if (!info.module || (include && !include(info))) continue;
    let tags = sets.get(info.module.name);
    if (!tags) sets.set(info.module.name, (tags = new Set()));
    for (const tag of info.module.tags ?? []) tags.add(tag);
  }
  const out = new Map<string, string[]>();
  for (const [name, tags] of sets) out.set(name, [...tags].sort());
  return out;
}
