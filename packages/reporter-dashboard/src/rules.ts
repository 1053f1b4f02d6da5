import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Profiler } from '@loadlight/core';
import type { DashboardRule, RulesResponse } from './protocol.js';

interface Definition {
  name: string;
  conditions: Record<string, unknown> | null;
  event: DashboardRule['event'];
}

/**
 * The rules in force with their conditions and events. Core lists rules without their bodies,
 * so each file is read here and kept by content hash: when a file changes on disk after it was
 * loaded, the version in force (by its hash) is still the one shown.
 */
export class RulesView {
  /** file -> sha256 -> definitions */
  private readonly seen = new Map<string, Map<string, Definition[]>>();

  constructor(private readonly profiler: Profiler) {}

  async list(): Promise<RulesResponse> {
    const stage = this.profiler.rulesStage;
    if (!stage) return { files: [], rules: [], error: null };
    const files = stage.files;
    const byFile = new Map<string, Definition[]>();
    for (const { file, sha256 } of files) byFile.set(file, await this.definitions(file, sha256));
    const used = new Map<string, number>();
    const rules = stage.rules().map((info): DashboardRule => {
      // Rules are matched by file and name, in order (a name may repeat in a file).
      const key = `${info.file}\u0000${info.name}`;
      const skip = used.get(key) ?? 0;
      used.set(key, skip + 1);
      const definition = (byFile.get(info.file) ?? []).filter((d) => d.name === info.name)[skip];
      const rule: DashboardRule = {
        file: info.file,
        name: info.name,
        description: info.description,
        type: info.type,
        active: info.active,
        conditions: definition?.conditions ?? null,
        event: definition?.event ?? null,
      };
      if (info.inactiveReason !== undefined) rule.inactiveReason = info.inactiveReason;
      return rule;
    });
    return { files: files.map((f) => ({ ...f })), rules, error: stage.error };
  }

  private async definitions(file: string, sha256: string): Promise<Definition[]> {
    const known = this.seen.get(file)?.get(sha256);
    if (known) return known;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return [];
    }
    const onDisk = createHash('sha256').update(text).digest('hex');
    const definitions = parse(text);
    let versions = this.seen.get(file);
    if (!versions) this.seen.set(file, (versions = new Map()));
    // Keep the version in force and the latest on disk; older ones can go.
    for (const sha of versions.keys()) if (sha !== sha256) versions.delete(sha);
    versions.set(onDisk, definitions);
    return onDisk === sha256 ? definitions : [];
  }
}

function parse(text: string): Definition[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return [];
  }
  const rules = (data as { rules?: unknown }).rules;
  if (!Array.isArray(rules)) return [];
  return rules.flatMap((rule): Definition[] => {
    if (!rule || typeof rule !== 'object' || typeof (rule as { name?: unknown }).name !== 'string') return [];
    const { name, conditions, event } = rule as { name: string; conditions?: unknown; event?: unknown };
    return [
      {
        name,
        conditions: isObject(conditions) ? conditions : null,
        event: isObject(event) && typeof event.type === 'string' ? { type: event.type, params: isObject(event.params) ? event.params : {} } : null,
      },
    ];
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
