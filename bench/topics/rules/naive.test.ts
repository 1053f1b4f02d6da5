// The rules topic's naive baseline must be the former stage's work: the same facts from the Store,
// the same engines, the same rules passing.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FactIndex, buildFacts } from '../../../packages/core/src/rules/facts.js';
import { parseRuleFile } from '../../../packages/core/src/rules/load.js';
import { RulesStage } from '../../../packages/core/src/rules/stage.js';
import { ALL_STANDARD_METRICS, MODULE_FIELD_UNITS, T0, commit, defaultRuleFile, makeStore } from '../../../packages/core/src/rules/test-support.js';
import { buildFactsNaive, engineOf, loadRules, runNaive } from './naive.mjs';

const files = [defaultRuleFile('load-levels'), defaultRuleFile('recommendations'), defaultRuleFile('alerts')];
const fields = Object.keys(MODULE_FIELD_UNITS);

function program() {
  const store = makeStore(ALL_STANDARD_METRICS, [
    { name: 'ocr.reader', tags: ['ocr'], fields },
    { name: 'capture', tags: ['verbose', 'optional'], fields },
    { name: 'idle', fields: ['cpu_percent', 'memory_mb'] },
  ]);
  const names = store.catalogue().map((info) => info.name);
  for (let s = 0; s < 5; s++) {
    commit(store, T0 + s * 1000, Object.fromEntries(names.map((name, i) => [name, ((i * 37 + s * 11) % 120) + 0.5])));
  }
  return store;
}

describe('the naive baseline of the rules topic', () => {
  it('builds the facts the stage built (every window)', () => {
    const store = program();
    const naive = buildFactsNaive(store, 60, T0 + 4000);
    const core = buildFacts(store, 60, T0 + 4000);
    expect(naive.global).toStrictEqual(core.global);
    expect([...naive.modules]).toStrictEqual([...core.modules]);
  });

  it('splits the rules as the stage does: per module when a condition reads the module fact', () => {
    const store = program();
    const index = new FactIndex(store.catalogue());
    const loaded = files.flatMap((file) => parseRuleFile(file, readFileSync(file, 'utf8'), index).rules);
    const naive: Array<{ name: string; perModule: boolean }> = loadRules(files);
    for (const rule of loaded) expect(naive.find((r) => r.name === rule.name)?.perModule, rule.name).toBe(rule.perModule);
  });

  it('passes the rules whose events the stage reports', async () => {
    const store = program();
    const rules = loadRules(files);
    const engines = { global: engineOf(rules.filter((r) => !r.perModule)), module: engineOf(rules.filter((r) => r.perModule)) };
    const passed: Array<{ name: string; module?: string }> = await runNaive(engines, buildFactsNaive(store, 60, T0 + 4000));
    const stage = new RulesStage({ files, windowSeconds: 60, store, watch: false });
    await stage.load();
    const evaluation = await stage.evaluate(T0 + 4000);
    // every recommendation the stage gives comes from a rule the naive runs passed, for that module
    expect(evaluation.recommendations.length).toBeGreaterThan(0);
    for (const r of evaluation.recommendations) expect(passed).toContainEqual(r.module === undefined ? { name: r.evidence.rule } : { name: r.evidence.rule, module: r.module });
    for (const level of evaluation.levels) {
      expect(passed).toContainEqual(level.kind === 'module' ? { name: level.evidence!.rule, module: level.subject } : { name: level.evidence!.rule });
    }
  });
});
