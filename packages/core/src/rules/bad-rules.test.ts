// Property tests over bad rule files: the shipped files mutated (values, types, keys), random
// trees, deep nesting, huge strings, `__proto__` keys, cut or random bytes. Loading gives rules
// or a RULES_INVALID error naming the file (and the JSON path or line:column); never a crash.
// A watching stage, and a running profiler, keep their last good rules when an edit is bad.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { isLoadlightError, type LoadlightError } from '../errors.js';
import { createTestProfiler, moreSamples, stopTestProfilers } from '../testing.js';
import { FactIndex } from './facts.js';
import { parseRuleFile } from './load.js';
import { RulesStage } from './stage.js';
import { ALL_STANDARD_METRICS, T0, commit, defaultRuleFile, edit, makeStore, readJson, tempDir } from './test-support.js';

afterEach(stopTestProfilers);

const NUM_RUNS = 200;
const FILE = '/rules/mutated.json';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const SHIPPED = (['load-levels', 'recommendations', 'alerts'] as const).map((name) => readJson<Json>(defaultRuleFile(name)));
const index = new FactIndex(makeStore(ALL_STANDARD_METRICS, ['ocr']).catalogue());

function paths(value: Json, at: Array<string | number> = []): Array<Array<string | number>> {
  const out = [at];
  if (Array.isArray(value)) value.forEach((item, i) => out.push(...paths(item, [...at, i])));
  else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) out.push(...paths(item, [...at, key]));
  return out;
}

function nested(depth: number, inner: Json = 1): Json {
  let value = inner;
  for (let i = 0; i < depth; i++) value = i % 3 === 0 ? [value] : i % 3 === 1 ? { all: [value] } : { a: value };
  return value;
}

const value: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
  { weight: 1, arbitrary: fc.constantFrom<Json>('x'.repeat(1_000_000), 1e308, -1e308, 2 ** 53 + 1, -0, '', '{{__proto__.x}}', '{{constructor}}', '30 s', '-1s') },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 1500 }).map((d) => nested(d)) },
);
const key = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'fact', 'path', 'all', 'any', 'not', 'rules', ''), fc.string({ maxLength: 12 }));

/** One shipped file with one change: a value replaced, a key removed or added (own `__proto__` keys included). */
const mutatedFile = fc.record({ file: fc.nat(SHIPPED.length - 1), pick: fc.nat(), kind: fc.constantFrom('replace', 'delete', 'extra'), value, key }).map((m) => {
  const base = SHIPPED[m.file]!;
  const all = paths(base);
  const at = all[m.pick % all.length]!;
  const text = JSON.stringify(base);
  const copy = JSON.parse(text) as Json;
  let parent: any = null;
  let node: any = copy;
  for (const step of at) {
    parent = node;
    node = node[step];
  }
  const last = at.at(-1);
  const define = (target: object, k: string | number, v: unknown) => Object.defineProperty(target, k, { value: v, enumerable: true, writable: true, configurable: true });
  if (m.kind === 'replace') {
    if (last === undefined) return JSON.stringify(m.value);
    define(parent, last, m.value);
  } else if (m.kind === 'delete' && last !== undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
    define(node, m.key, m.value);
  } else if (Array.isArray(node)) {
    node.push(m.value);
  }
  return JSON.stringify(copy);
});

const LEAF = '{"fact":"process","path":"$.cpu.percent","operator":"greaterThan","value":1}';
function deepRule(depth: number, how: string): string {
  const conditions =
    how === 'value'
      ? `{"all":[{"fact":"process","path":"$.cpu.percent","operator":"equal","value":${'['.repeat(depth)}1${']'.repeat(depth)}}]}`
      : how === 'not'
        ? `{"all":[${'{"not":'.repeat(depth)}${LEAF}${'}'.repeat(depth)}]}`
        : `${`{"${how}":[`.repeat(depth)}${LEAF}${']}'.repeat(depth)}`;
  return `{"rules":[{"name":"deep","description":"d","conditions":${conditions},"event":{"type":"load-level","params":{"level":"red"}}}]}`;
}

const text = fc.oneof(
  { weight: 6, arbitrary: mutatedFile },
  // cut short at any byte
  { weight: 2, arbitrary: fc.tuple(fc.nat(SHIPPED.length - 1), fc.nat()).map(([i, at]) => { const t = JSON.stringify(SHIPPED[i], null, 2); return t.slice(0, at % t.length); }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('utf8')) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 200_000 }).map((d) => '['.repeat(d) + ']'.repeat(d)) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 200_000 }).map((d) => '{"rules":' + '['.repeat(d)) },
  // deep conditions and deep values, written as text (JSON.stringify itself overflows on them)
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 100, max: 50_000 }), fc.constantFrom('all', 'any', 'not', 'value')).map(([d, how]) => deepRule(d, how)) },
  { weight: 1, arbitrary: fc.constantFrom('{"rules":[],"__proto__":{"rules":[1]}}', '{"__proto__":[]}', '{"rules":{"__proto__":[]}}', '\ufeff{"rules":[]}', '{"rules":[]}\u0000') },
);

/** Parses; returns the error, which must be a RULES_INVALID LoadlightError naming the file. */
function parseOutcome(content: string): LoadlightError | null {
  try {
    parseRuleFile(FILE, content, index);
    return null;
  } catch (error) {
    if (!isLoadlightError(error)) {
      throw new Error(`not a LoadlightError: ${error instanceof Error ? `${error.name}: ${error.message.slice(0, 300)}\n${error.stack?.slice(0, 1500)}` : String(error)}`);
    }
    expect(error.code).toBe('RULES_INVALID');
    expect(error.file).toBe(FILE);
    for (const line of error.message.split('\n')) expect(line.startsWith(FILE)).toBe(true);
    expect(error.message).not.toMatch(/\n\s+at .*:\d+:\d+/);
    return error;
  }
}

describe('names from a rule file in messages', () => {
  it('are cut to 80 characters and their control characters escaped', () => {
    const fact = `cpu\n\u001b[31mfaked line${'x'.repeat(200)}`;
    // A shipped rule file, its first fact renamed.
    const text = JSON.stringify(SHIPPED[0]).replace(/"fact":"[^"]+"/, `"fact":${JSON.stringify(fact)}`);
    let message = '';
    try {
      parseRuleFile(FILE, text, index);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('cpu\\u000a\\u001b[31mfaked line');
    expect(message).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/); // the message's own line breaks aside
    expect(message).not.toContain('x'.repeat(100));
  });
});

describe('rule files: property tests', () => {
  it('any mutated, cut, random or deeply nested rule file loads or is refused naming the file', () => {
    let refused = 0;
    fc.assert(
      fc.property(text, (content) => {
        const error = parseOutcome(content);
        if (!error) return;
        refused++;
        // a syntax error says where: file:line:column; a schema error names the rule or the JSON path
        let parses = true;
        try {
          JSON.parse(content.charCodeAt(0) === 0xfeff ? content.slice(1) : content);
        } catch {
          parses = false;
        }
        if (!parses) expect(error.message).toMatch(new RegExp(`^${FILE}(:\\d+:\\d+)?: invalid JSON`));
        // a rule by name, an unknown key, or the JSON path of the value ("rules[0].event.params.id")
        else expect(error.message).toMatch(/rule "|unknown option "|"\(top level\)"|"rules[^"]*"|"description"|nested more than/);
        expect(error.message.length).toBeLessThan(20_000);
      }),
      { numRuns: NUM_RUNS },
    );
    expect(refused, 'files refused (the checks above ran)').toBeGreaterThan(0);
  });

  it('a huge name, fact, path, operator or key makes a short message', () => {
    const big = 'x'.repeat(1_000_000);
    const leaf = { fact: 'process', path: '$.cpu.percent', operator: 'greaterThan', value: 1 };
    const rule = (over: Record<string, unknown>, leafOver: Record<string, unknown> = {}) =>
      JSON.stringify({ rules: [{ name: 'a', description: 'd', conditions: { all: [{ ...leaf, ...leafOver }] }, event: { type: 'load-level', params: { level: 'red' } }, ...over }] });
    const cases = [
      rule({}, { fact: big }),
      rule({}, { path: `$.${big}` }),
      rule({}, { operator: big }),
      rule({ name: big }, { value: 'x' }),
      rule({ [big]: 1 }),
      rule({}, { value: [big] }),
      rule({ event: { type: 'recommendation', params: { id: 'r', priority: 'low', message: `{{${big}}}` } } }),
    ];
    for (const content of cases) {
      const error = parseOutcome(content);
      expect(error).not.toBeNull();
      expect(error!.message.length).toBeLessThan(3000);
    }
  });

  it('each shipped file still loads (the mutations start from valid files)', () => {
    for (const data of SHIPPED) expect(parseOutcome(JSON.stringify(data))).toBeNull();
  });

  it('a watching stage keeps its last good rules through any bad edit, and says which file is wrong', async () => {
    const dir = tempDir();
    const file = join(dir, 'rules.json');
    const good = JSON.stringify(SHIPPED[0]);
    writeFileSync(file, good);
    const store = makeStore(ALL_STANDARD_METRICS);
    commit(store, T0 + 1000, { 'process.cpu.percent': 80, 'process.heap.used_mb': 10 });
    const stage = new RulesStage({ files: [file], windowSeconds: 60, store, watch: true });
    await stage.load();
    const goodHash = stage.files[0]!.sha256;
    const goodRules = stage.rules().map((r) => r.name);
    const levels = JSON.stringify((await stage.evaluate(T0 + 1000)).levels);
    await fc.assert(
      fc.asyncProperty(text, async (content) => {
        fc.pre(parseOutcome(content) !== null);
        edit(file, content);
        const evaluation = await stage.evaluate(T0 + 1000);
        expect(stage.error).toContain(file);
        expect(stage.files[0]!.sha256).toBe(goodHash);
        expect(stage.rules().map((r) => r.name)).toEqual(goodRules);
        expect(JSON.stringify(evaluation.levels)).toBe(levels);
      }),
      { numRuns: 40 },
    );
    edit(file, good);
    await stage.evaluate(T0 + 1000);
    expect(stage.error).toBeNull();
  });

  it('a running profiler keeps its last good rules through bad edits, and warns naming the file', async () => {
    const dir = tempDir();
    const file = join(dir, 'rules.json');
    const rule = {
      rules: [
        {
          name: 'always',
          description: 'fires on every evaluation',
          conditions: { all: [{ fact: 'session', path: '$.samples', operator: 'greaterThanInclusive', value: 0 }] },
          event: { type: 'recommendation', params: { id: 'always', message: 'samples: {{session.samples}}', priority: 'low' } },
        },
      ],
    };
    writeFileSync(file, JSON.stringify(rule));
    const { profiler, warnings } = createTestProfiler([], { rules: [file], watchRules: true, sampleIntervalMs: 20 });
    await profiler.start();
    await moreSamples(profiler, 2);
    const bad = fc.sample(text.filter((t) => parseOutcome(t) !== null), { numRuns: 5, seed: 7 });
    for (const content of bad) {
      edit(file, content);
      await moreSamples(profiler, 2);
      expect(profiler.rulesStage?.error).toContain(file);
      expect(profiler.rulesStage?.rules().map((r) => r.name)).toEqual(['always']);
      expect(profiler.evaluation?.recommendations.map((r) => r.id)).toEqual(['always']);
    }
    expect(warnings.join('\n')).toContain(file);
    await profiler.stop();
  });
});
