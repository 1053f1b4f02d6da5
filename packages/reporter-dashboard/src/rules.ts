import type { Profiler } from '@loadlight/core';
import type { DashboardRule, RulesResponse } from './protocol.js';

/** The rules in force with their conditions and events, as the profiler's rules stage holds them. */
export function rulesResponse(profiler: Profiler): RulesResponse {
  const stage = profiler.rulesStage;
  if (!stage) return { files: [], rules: [], error: null };
  const rules = stage.rules().map((info): DashboardRule => {
    const rule: DashboardRule = {
      file: info.file,
      name: info.name,
      description: info.description,
      type: info.type,
      active: info.active,
      conditions: info.conditions,
      event: info.event,
    };
    if (info.inactiveReason !== undefined) rule.inactiveReason = info.inactiveReason;
    return rule;
  });
  return { files: stage.files.map((f) => ({ ...f })), rules, error: stage.error };
}
