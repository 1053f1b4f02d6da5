// The compiled rules against json-rules-engine itself: the same results, in the same order, with
// the same evidence, on randomised facts; for every rule file in the repository's rules/ folder
// (read from disk, so a new rule is covered without touching this file) and for random trees.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Engine } from 'json-rules-engine';
import { describe, expect, it } from 'vitest';
import type { Evaluation } from '../types.js';
import { ENGINE_OPTIONS, RuleProgram, collectConditions, compileConditions, uncompilableReason, type FactValues, type ProgramRule } from './compile.js';
import { FactIndex } from './facts.js';
import { parseRuleFile, type LoadedRule } from './load.js';
import { RulesStage } from './stage.js';
import { ALL_STANDARD_METRICS, DEFAULT_RULES_DIR, MODULE_FIELD_UNITS, T0, commit, makeStore, type ModuleSpec } from './test-support.js';

interface Observed {
  results: string[];
  failureResults: string[];
  evidence: Record<string, unknown>;
}

/** One json-rules-engine with the rules, as the stage builds it. */
function engineOf(rules: readonly ProgramRule[]): Engine {
  const engine = new Engine([], ENGINE_OPTIONS);
  // structuredClone: json-rules-engine rewrites leaf priorities in the objects it is given
  for (const rule of rules) engine.addRule({ name: rule.name, priority: rule.priority ?? 1, conditions: structuredClone(rule.conditions) as never, event: { type: 'x' } });
  return engine;
}

async function viaEngine(engine: Engine, facts: FactValues): Promise<Observed | { error: true }> {
  let outcome;
  try {
    outcome = await engine.run(facts);
  } catch {
    return { error: true };
  }
  const evidence: Record<string, unknown> = {};
  for (const result of [...outcome.results, ...outcome.failureResults]) evidence[String(result.name)] = collectConditions(result.conditions);
  return { results: outcome.results.map((r) => String(r.name)), failureResults: outcome.failureResults.map((r) => String(r.name)), evidence };
}

async function viaProgram(program: RuleProgram, rules: readonly ProgramRule[], facts: FactValues): Promise<Observed | { error: true }> {
  let run;
  try {
    run = await program.run(facts);
  } catch {
    return { error: true };
  }
  const evidence: Record<string, unknown> = {};
  for (const index of [...run.results, ...run.failureResults]) evidence[rules[index]!.name] = program.evidence(run, index);
  return { results: run.results.map((i) => rules[i]!.name), failureResults: run.failureResults.map((i) => rules[i]!.name), evidence };
}

async function expectSame(engine: Engine, program: RuleProgram, rules: readonly ProgramRule[], facts: FactValues): Promise<void> {
  const expected = await viaEngine(engine, facts);
  const actual = await viaProgram(program, rules, facts);
  expect(actual).toStrictEqual(expected);
}

// ---------------------------------------------------------------------------------------------
// Every rule in rules/
// ---------------------------------------------------------------------------------------------

const ALL_FIELDS = Object.keys(MODULE_FIELD_UNITS);
const ruleFiles = readdirSync(DEFAULT_RULES_DIR)
  .filter((name) => name.endsWith('.json') && name !== 'package.json')
  .map((name) => join(DEFAULT_RULES_DIR, name));

/** The rules of rules/, loaded as the stage loads them, split into the global and the per-module engine (a rule and its clearWhen apart). */
function repoPrograms() {
  const index = new FactIndex(makeStore(ALL_STANDARD_METRICS, [{ name: 'm', fields: ALL_FIELDS }]).catalogue());
  const loaded: LoadedRule[] = ruleFiles.flatMap((file) => parseRuleFile(file, readFileSync(file, 'utf8'), index).rules);
  const global: ProgramRule[] = [];
  const module: ProgramRule[] = [];
  for (const rule of loaded) {
    const list = rule.perModule ? module : global;
    const name = `${rule.file}#${rule.name}`;
    list.push({ name, priority: rule.definition.priority, conditions: rule.definition.conditions });
    const event = rule.definition.event;
    if (event.type === 'alert' && event.params.clearWhen) list.push({ name: `${name}:clear`, priority: rule.definition.priority, conditions: event.params.clearWhen });
  }
  return { loaded, global, module };
}

/** Every leaf of the rules' conditions and clear conditions. */
function leavesOf(rules: readonly LoadedRule[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const visit = (node: unknown) => {
    if (node === null || typeof node !== 'object') return;
    const c = node as Record<string, unknown>;
    for (const key of ['all', 'any']) if (Array.isArray(c[key])) (c[key] as unknown[]).forEach(visit);
    if (c.not) visit(c.not);
    if (typeof c.fact === 'string') out.push(c);
  };
  for (const rule of rules) {
    visit(rule.definition.conditions);
    const event = rule.definition.event;
    if (event.type === 'alert' && event.params.clearWhen) visit(event.params.clearWhen);
  }
  return out;
}

/** Every (fact, path) a rule compares, with the numbers it compares them with. */
function thresholds(rules: readonly LoadedRule[]): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const c of leavesOf(rules)) {
    const key = `${String(c.fact)} ${String(c.path)}`;
    if (!out.has(key)) out.set(key, new Set());
    if (typeof c.value === 'number') out.get(key)!.add(c.value);
  }
  return out;
}

/** A number around one of the thresholds (just below, at, just above), anywhere, or null; `undefined`: the key is absent. */
function valueNear(numbers: Set<number>): fc.Arbitrary<number | null | undefined> {
  const near = [...numbers].flatMap((n) => [n - 0.1, n - 1e-9, n, n + 1e-9, n + 0.1]);
  return fc.oneof(
    { weight: 6, arbitrary: near.length ? fc.constantFrom(...near) : fc.constant(0) },
    { weight: 3, arbitrary: fc.double({ min: -10, max: 10_000, noNaN: true }) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

function setAt(target: Record<string, unknown>, path: string, value: unknown): void {
  const segments = path.slice(2).split('.');
  let node = target;
  for (const segment of segments.slice(0, -1)) node = (node[segment] ??= {}) as Record<string, unknown>;
  node[segments[segments.length - 1]!] = value;
}

describe('every rule in rules/, compiled, against json-rules-engine', () => {
  const { loaded, global, module } = repoPrograms();
  const near = thresholds(loaded);
  const tagsInRules = [...new Set(leavesOf(loaded).flatMap((c) => (c.fact === 'module' && c.path === '$.tags' && typeof c.value === 'string' ? [c.value] : [])))];

  it('finds the rule files, their tags, and compiles every rule (no fallback)', () => {
    expect(ruleFiles.map((f) => f.slice(DEFAULT_RULES_DIR.length)).sort()).toEqual(expect.arrayContaining(['alerts.json', 'load-levels.json', 'recommendations.json']));
    expect(tagsInRules).toEqual(expect.arrayContaining(['ocr', 'verbose', 'heatmap', 'optional']));
    expect(loaded.length).toBeGreaterThanOrEqual(20);
    for (const list of [global, module]) {
      expect(new RuleProgram(list, { plainData: true }).fallback).toEqual([]);
      for (const rule of list) expect(uncompilableReason(rule.conditions)).toBeNull();
    }
  });

  /** Global facts: each fact the rules read, sometimes absent as a whole; each path near its thresholds. */
  const globalFacts = (): fc.Arbitrary<FactValues> => {
    const byFact = new Map<string, Array<[string, Set<number>]>>();
    for (const [key, numbers] of near) {
      const [fact, path] = key.split(' ') as [string, string];
      if (fact === 'module') continue;
      if (!byFact.has(fact)) byFact.set(fact, []);
      byFact.get(fact)!.push([path, numbers]);
    }
    const facts: Record<string, fc.Arbitrary<Record<string, unknown> | undefined>> = {};
    for (const [fact, paths] of byFact) {
      const values = fc.tuple(...paths.map(([, numbers]) => valueNear(numbers)));
      facts[fact] = fc.option(
        values.map((list) => {
          const object: Record<string, unknown> = {};
          list.forEach((value, i) => value !== undefined && setAt(object, paths[i]![0], value));
          return object;
        }),
        { freq: 12, nil: undefined },
      );
    }
    return fc.record(facts).map((record) => Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)));
  };

  const moduleFact = (): fc.Arbitrary<Record<string, unknown>> => {
    const paths = [...near].filter(([key]) => key.startsWith('module ') && key !== 'module $.tags');
    return fc
      .tuple(
        fc.subarray([...tagsInRules, 'heavy', 'x'], { minLength: 0 }),
        fc.tuple(...paths.map(([, numbers]) => valueNear(numbers))),
        fc.string({ minLength: 1, maxLength: 6 }),
      )
      .map(([tags, values, name]) => {
        const fact: Record<string, unknown> = { name, tags };
        values.forEach((value, i) => value !== undefined && setAt(fact, paths[i]![0].slice('module '.length), value));
        return fact;
      });
  };

  it('gives the same results, order and evidence on random facts (global rules, and module rules per module)', async () => {
    const globalEngine = engineOf(global);
    const moduleEngine = engineOf(module);
    // as the stage compiles them: its facts are plain data
    const globalProgram = new RuleProgram(global, { plainData: true });
    const moduleProgram = new RuleProgram(module, { plainData: true });
    await fc.assert(
      fc.asyncProperty(globalFacts(), fc.array(moduleFact(), { minLength: 1, maxLength: 4 }), async (facts, modules) => {
        await expectSame(globalEngine, globalProgram, global, facts);
        for (const fact of modules) await expectSame(moduleEngine, moduleProgram, module, { ...facts, module: fact });
      }),
      { numRuns: 300 },
    );
    // The order of these rule sets depends only on which facts are present: replayed once per set seen.
    expect(globalProgram.ordersComputed + moduleProgram.ordersComputed).toBeLessThanOrEqual(2 ** 6);
  });
});

// ---------------------------------------------------------------------------------------------
// Random condition trees
// ---------------------------------------------------------------------------------------------

const BASE_OPERATORS = ['equal', 'notEqual', 'in', 'notIn', 'contains', 'doesNotContain', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'];
const DECORATED = ['not:equal', 'not:in', 'not:contains', 'not:greaterThan', 'swap:contains', 'swap:in', 'someFact:equal', 'someFact:greaterThan', 'everyFact:lessThan', 'someValue:equal', 'everyValue:greaterThan', 'not:someFact:equal'];
// `valueOf`, `toString`, `length`, `map`: names objects and arrays inherit, never the facts' own here
const FACTS = ['a', 'b', 'c', 'missing', 'valueOf'];
const PATHS = ['$.x', '$.y', '$.n.z', '$.n', '$.tags', '$', '$.tags.0', '$.__proto__', '$..x', 'x', '', '$.toString', '$.y.length', '$.tags.map', '$.n.valueOf'];

const scalar = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY),
  fc.constantFrom('a', 'b', 'ocr', '2', ''),
  fc.constant(null),
  fc.boolean(),
);

const leafValue = fc.oneof(
  { weight: 5, arbitrary: scalar },
  { weight: 2, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  { weight: 2, arbitrary: fc.record({ fact: fc.constantFrom(...FACTS), path: fc.constantFrom(...PATHS) }, { requiredKeys: ['fact'] }) },
);

const leaf = fc.record(
  {
    fact: fc.constantFrom(...FACTS),
    path: fc.constantFrom(...PATHS),
    operator: fc.constantFrom(...BASE_OPERATORS, ...DECORATED),
    value: leafValue,
    priority: fc.integer({ min: 1, max: 3 }),
  },
  { requiredKeys: ['fact', 'operator', 'value'] },
);

const { node: conditionNode } = fc.letrec<{ node: unknown; boolean: unknown }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('boolean')),
  boolean: fc.oneof(
    fc.record({ all: fc.array(tie('node'), { maxLength: 4 }), priority: fc.integer({ min: 1, max: 3 }) }, { requiredKeys: ['all'] }),
    fc.record({ any: fc.array(tie('node'), { maxLength: 4 }), priority: fc.integer({ min: 1, max: 3 }) }, { requiredKeys: ['any'] }),
    fc.record({ not: tie('node') }),
  ),
}));

const rootCondition = fc.oneof(
  fc.record({ all: fc.array(conditionNode, { maxLength: 4 }) }),
  fc.record({ any: fc.array(conditionNode, { maxLength: 4 }) }),
  fc.record({ not: conditionNode }),
);

const factsOf = (noNullPrototype: boolean) => {
  const factObject = fc.record(
    {
      x: scalar,
      y: fc.oneof(scalar, fc.array(scalar, { maxLength: 3 })),
      n: fc.oneof(fc.record({ z: scalar }, { noNullPrototype }), scalar),
      tags: fc.array(fc.constantFrom('a', 'b', 'ocr'), { maxLength: 3 }),
    },
    { requiredKeys: [], noNullPrototype },
  );
  return fc
    .record(
      { a: fc.oneof({ weight: 4, arbitrary: factObject }, { weight: 1, arbitrary: scalar }), b: factObject, c: fc.oneof(factObject, fc.constant(null)) },
      { requiredKeys: [], noNullPrototype },
    )
    .map((facts) => facts as FactValues);
};

/** Facts of JSON-like data mostly; sometimes with objects without a prototype (which a numeric comparison throws on). */
const randomFacts = fc.oneof({ weight: 4, arbitrary: factsOf(true) }, { weight: 1, arbitrary: factsOf(false) });

const rules = fc.array(fc.record({ conditions: rootCondition, priority: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }) }), { minLength: 1, maxLength: 5 }).map((list) =>
  list.map((rule, i): ProgramRule => ({ name: `rule${i}`, priority: rule.priority, conditions: rule.conditions })),
);

/** JSON-like data: no object without a prototype anywhere (fast-check makes some). */
function isPlainData(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (!Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value).every(isPlainData);
}

describe('random condition trees over every operator, compiled, against json-rules-engine', () => {
  it('give the same results, order and evidence, and fail where json-rules-engine fails', async () => {
    let failures = 0;
    let dynamic = 0;
    let plain = 0;
    await fc.assert(
      fc.asyncProperty(rules, fc.array(randomFacts, { minLength: 1, maxLength: 3 }), async (list, factsList) => {
        const program = new RuleProgram(list);
        const fast = new RuleProgram(list, { plainData: true });
        expect(program.fallback).toEqual([]);
        if (list.some((rule) => compileConditions(rule.conditions).dynamic)) dynamic++;
        for (const facts of factsList) {
          // A fresh engine each time: after a rejected run, json-rules-engine goes on with the
          // remaining priority sets and then marks the engine finished, cutting a run started meanwhile short.
          const expected = await viaEngine(engineOf(list), facts);
          if ('error' in expected) failures++;
          expect(await viaProgram(program, list, facts)).toStrictEqual(expected);
          if (isPlainData(facts)) {
            plain++;
            expect(await viaProgram(fast, list, facts)).toStrictEqual(expected);
          }
        }
      }),
      { numRuns: 400 },
    );
    // the generator reaches each kind of case
    expect(failures).toBeGreaterThan(0);
    expect(dynamic).toBeGreaterThan(0);
    expect(plain).toBeGreaterThan(200);
  });

  it('run synchronously once the order of a shape is known, and replay it only once', async () => {
    const list: ProgramRule[] = [
      { name: 'two', conditions: { all: [{ fact: 'a', path: '$.x', operator: 'equal', value: 1 }, { fact: 'a', path: '$.y', operator: 'equal', value: 1 }] } },
      { name: 'one', conditions: { all: [{ fact: 'a', path: '$.x', operator: 'equal', value: 1 }] } },
    ];
    const program = new RuleProgram(list);
    const first = program.run({ a: { x: 1, y: 1 } });
    expect(first).toBeInstanceOf(Promise);
    // json-rules-engine settles the one-condition rule first
    expect((await first).results).toEqual([1, 0]);
    const second = program.run({ a: { x: 1, y: 2 } });
    expect(second).not.toBeInstanceOf(Promise);
    expect(second).toMatchObject({ results: [1], failureResults: [0] });
    expect(program.ordersComputed).toBe(1);
    // another shape: the fact is missing, so no path is read
    await program.run({});
    expect(program.ordersComputed).toBe(2);
  });
});

describe('fallback to json-rules-engine', () => {
  // Outside the rule-file schema: a node with both "any" and "all" (json-rules-engine evaluates
  // "any" and reports the untouched "all" as evidence), and a condition reference.
  const odd: ProgramRule = {
    name: 'odd',
    conditions: { any: [{ fact: 'a', path: '$.x', operator: 'equal', value: 1 }], all: [{ fact: 'a', path: '$.y', operator: 'equal', value: 2 }] },
  };
  const plain = (name: string, path: string): ProgramRule => ({ name, conditions: { all: [{ fact: 'a', path, operator: 'greaterThan', value: 0 }, { fact: 'a', path: '$.x', operator: 'lessThan', value: 5 }] } });

  it('is listed, and gives json-rules-engine\'s results, order and evidence among compiled rules', async () => {
    const list = [plain('p1', '$.x'), odd, plain('p2', '$.y'), { name: 'single', conditions: { any: [{ fact: 'a', path: '$.y', operator: 'equal', value: 2 }] } }];
    const program = new RuleProgram(list);
    expect(program.fallback).toEqual([{ index: 1, name: 'odd', reason: 'a condition with both "any" and "all"' }]);
    const engine = engineOf(list);
    await fc.assert(
      fc.asyncProperty(randomFacts, async (facts) => expectSame(engine, program, list, facts)),
      { numRuns: 100 },
    );
    expect(program.ordersComputed).toBe(0); // replayed every time: json-rules-engine's own chain is in it
  });

  it('rejects as json-rules-engine does on what it cannot run', async () => {
    const list: ProgramRule[] = [{ name: 'ref', conditions: { all: [{ condition: 'shared' }] } }];
    const program = new RuleProgram(list);
    expect(program.fallback).toMatchObject([{ name: 'ref', reason: 'a condition reference' }]);
    await expect(engineOf(list).run({})).rejects.toThrow(/No condition shared exists/);
    await expect(Promise.resolve().then(() => program.run({}))).rejects.toThrow(/No condition shared exists/);
  });
});

// ---------------------------------------------------------------------------------------------
// The stage, compiled, against the stage running json-rules-engine (its reference mode)
// ---------------------------------------------------------------------------------------------

describe('the rules stage, compiled, against json-rules-engine', () => {
  const files = ruleFiles;
  const { loaded } = repoPrograms();
  const near = thresholds(loaded);
  const moduleSpec = fc.record({
    tags: fc.subarray(['ocr', 'verbose', 'heatmap', 'optional', 'heavy'], { minLength: 0 }),
    fields: fc.subarray(ALL_FIELDS, { minLength: 1 }),
  });
  /** Values of every declared metric near the rules' thresholds, per step; a metric left out is missing in that sample. */
  const metricValue = (metric: string): fc.Arbitrary<number | null | undefined> => {
    const [fact, ...rest] = metric.split('.');
    const path = fact === 'module' ? `$.${rest.slice(1).join('.')}` : `$.${rest.join('.')}`;
    return valueNear(near.get(`${fact} ${path}`) ?? new Set([1]));
  };

  it('gives the same evaluations, step after step (levels, recommendations, alerts and their transitions)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(moduleSpec, { minLength: 0, maxLength: 5 }),
        fc.constantFrom(1, 60),
        fc.integer({ min: 2, max: 6 }),
        fc.infiniteStream(fc.integer({ min: 0, max: 2 ** 31 - 1 })),
        async (specs, windowSeconds, steps, seeds) => {
          const modules: ModuleSpec[] = specs.map((spec, i) => ({ name: `m${i}`, tags: spec.tags, fields: spec.fields }));
          const store = makeStore(ALL_STANDARD_METRICS, modules);
          const names = store.catalogue().map((info) => info.name);
          const values = fc.tuple(...names.map(metricValue));
          const compiled = new RulesStage({ files, windowSeconds, store, watch: false });
          const reference = new RulesStage({ files, windowSeconds, store, watch: false, engine: 'json-rules-engine' });
          await compiled.load();
          await reference.load();
          let t = T0;
          for (let step = 0; step < steps; step++) {
            t += fc.sample(fc.constantFrom(1000, 10_000, 30_000), { seed: seeds.next().value, numRuns: 1 })[0]!;
            const row = fc.sample(values, { seed: seeds.next().value, numRuns: 1 })[0]!;
            commit(store, t, Object.fromEntries(names.flatMap((name, i) => (row[i] === undefined ? [] : [[name, row[i]!]]))));
            const expected: Evaluation = await reference.evaluate(t);
            expect(await compiled.evaluate(t)).toStrictEqual(expected);
          }
          expect(compiled.debug).toMatchObject({ engine: 'compiled', fallback: [] });
          expect(reference.debug.engine).toBe('json-rules-engine');
        },
      ),
      { numRuns: 120 },
    );
  });

  it('computes only the windows the rules read', async () => {
    const modules: ModuleSpec[] = Array.from({ length: 20 }, (_, i) => ({ name: `m${i}`, tags: i % 3 ? [] : ['ocr'], fields: ALL_FIELDS }));
    const store = makeStore(ALL_STANDARD_METRICS, modules);
    commit(store, T0 + 1000, { 'process.cpu.percent': 30 });
    const compiled = new RulesStage({ files, windowSeconds: 60, store, watch: false });
    const reference = new RulesStage({ files, windowSeconds: 60, store, watch: false, engine: 'json-rules-engine' });
    await compiled.load();
    await reference.load();
    expect(await compiled.evaluate(T0 + 1000)).toStrictEqual(await reference.evaluate(T0 + 1000));
    const metrics = store.metricCount;
    expect(reference.debug.last).toEqual({ windows: metrics, metrics, runs: 21 });
    const last = compiled.debug.last!;
    expect(last).toMatchObject({ metrics, runs: 21 });
    // the default rules read 4 module fields (+ name and tags) and a few dozen global paths
    expect(last.windows).toBeLessThan(metrics / 2);
    expect(compiled.debug.ordersComputed).toBe(2);
    await compiled.evaluate(T0 + 2000);
    expect(compiled.debug.ordersComputed).toBe(2);
  });
});
