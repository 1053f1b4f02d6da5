import { moduleTags, type Profiler, type Snapshot } from '@loadlight/core';
import type { DashboardSnapshot, HistoryResponse, ModuleRow } from './protocol.js';

/** Actions listed in each snapshot. */
export const RECENT_ACTIONS = 20;
export const DEFAULT_HISTORY_SECONDS = 300;

/** Core's Snapshot plus module rows and the latest actions (what the page renders). */
export function dashboardSnapshot(profiler: Profiler, snapshot: Snapshot = profiler.snapshot()): DashboardSnapshot {
  const catalogue = profiler.store.catalogue();
  const tags = moduleTags(catalogue);
  const rows = new Map<string, ModuleRow>();
  const row = (name: string) => {
    let found = rows.get(name);
    if (!found) {
      found = { name, level: null, tags: tags.get(name) ?? [], fields: {} };
      rows.set(name, found);
    }
    return found;
  };
  for (const info of catalogue) {
    if (info.module) row(info.module.name).fields[info.module.field] = snapshot.metrics[info.name]?.value ?? null;
  }
  for (const level of snapshot.evaluation?.levels ?? []) {
    if (level.kind === 'module') row(level.subject).level = level.level;
  }
  const modules = [...rows.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ...snapshot, modules, recentActions: profiler.actions.history().slice(-RECENT_ACTIONS) };
}

/** The samples of the last `seconds` (of `metrics`, default every sampled metric outside modules). */
export function history(profiler: Profiler, seconds: number, metrics: string[] | null): HistoryResponse {
  const store = profiler.store;
  const times = store.timeSeries();
  const end = times.length ? times[times.length - 1]! : 0;
  let first = times.length;
  while (first > 0 && times[first - 1]! > end - seconds * 1000) first--;
  const names = metrics ?? store.catalogue().filter((info) => !info.module && !info.derivedFrom).map((info) => info.name);
  const values: HistoryResponse['values'] = {};
  for (const name of names) values[name] = store.series(name).slice(first);
  return { t: times.slice(first), values };
}
