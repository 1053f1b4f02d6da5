import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LoadlightError } from '../errors.js';
import { compileSchema } from '../validate.js';
import { FactIndex } from './facts.js';
import { findJsonSyntaxError } from './json.js';
import { parseDurationMs, parseRuleFile } from './load.js';
import { ruleFileSchema } from './schema.js';
import { RulesStage } from './stage.js';
import { ALL_STANDARD_METRICS, MODULE_FIELD_UNITS, defaultRuleFile, makeStore, readJson, tempDir } from './test-support.js';

const PROCESS_PATHS =
  '$.cpu.percent, $.memory.rss_mb, $.heap.used_mb, $.heap.growth_mb_per_minute, $.event_loop.delay_p50_ms, ' +
  '$.event_loop.delay_p99_ms, $.event_loop.delay_max_ms, $.event_loop.utilization, $.gc.pause_ms_per_minute, $.gc.count_per_minute';
const KNOWN_FACTS = 'frames, io, module, ocr, process, session, system';
const OPERATORS =
  'equal, notEqual, in, notIn, contains, doesNotContain, lessThan, lessThanInclusive, greaterThan, greaterThanInclusive' +
  ' (optionally decorated, such as "not:equal"; decorators: someFact, someValue, everyFact, everyValue, swap, not)';

/** A one-rule file around `rule`'s overrides. */
function ruleFile(overrides: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): string {
  const rule = {
    name: 'cpu-high',
    description: 'process CPU is high',
    conditions: { all: [{ fact: 'process', path: '$.cpu.percent', operator: 'greaterThan', value: 50 }] },
    event: { type: 'load-level', params: { level: 'red' } },
    ...overrides,
  };
  return JSON.stringify({ rules: [rule], ...extra }, null, 2);
}

const leaf = (fact: string, path: string | undefined, operator: string, value: unknown) =>
  ({ all: [{ fact, ...(path === undefined ? {} : { path }), operator, value }] });

/** Loads `content` through the stage, as the profiler does; returns the error it throws. */
async function loadError(content: string | null): Promise<LoadlightError> {
  const file = join(tempDir(), 'rules.json');
  if (content !== null) writeFileSync(file, content);
  const stage = new RulesStage({ files: [file], windowSeconds: 60, store: makeStore(), watch: false });
  const error = await stage.load().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LoadlightError);
  const loadlightError = error as LoadlightError;
  // the message is what the CLI prints: it must name the file
  expect(loadlightError.file).toBe(file);
  expect(loadlightError.message.startsWith(file)).toBe(true);
  return Object.assign(loadlightError, { message: loadlightError.message.replaceAll(file, '<file>') });
}

describe('rule file validation: each invalid file gives its exact error', () => {
  const cases: Array<{ name: string; content: string | null; code: string; message: string }> = [
    {
      name: 'missing file',
      content: null,
      code: 'RULES_NOT_FOUND',
      message: '<file>: rule file not found',
    },
    {
      name: 'invalid JSON, with line and column',
      content: '{\n  "rules": [\n    { "name": "x", }\n  ]\n}\n',
      code: 'RULES_INVALID',
      message: '<file>:3:20: invalid JSON: expected a property name in double quotes, found "}" (JSON allows no comma after the last property)',
    },
    {
      name: 'invalid JSON: single quotes',
      content: "{ 'rules': [] }",
      code: 'RULES_INVALID',
      message: '<file>:1:3: invalid JSON: expected a property name in double quotes, found "\'"',
    },
    {
      name: 'invalid JSON: truncated',
      content: '{ "rules": [',
      code: 'RULES_INVALID',
      message: '<file>:1:13: invalid JSON: expected a value, found the end of the file',
    },
    {
      name: 'schema: no rules',
      content: '{ "description": "nothing" }',
      code: 'RULES_INVALID',
      message: '<file>: "rules" is required.',
    },
    {
      name: 'schema: level not in the enum',
      content: ruleFile({ event: { type: 'load-level', params: { level: 'orange' } } }),
      code: 'RULES_INVALID',
      message: '<file>: rule "cpu-high": "rules[0].event.params.level" must be one of "green", "yellow", "red", got string "orange".',
    },
    {
      name: 'schema: unknown key in a rule, with a suggestion',
      content: ruleFile({ descripton: 'typo' }),
      code: 'RULES_INVALID',
      message:
        '<file>: rule "cpu-high": unknown option "descripton" in "rules[0]". Expected one of: name, description, priority, conditions, event. Did you mean "description"?',
    },
    {
      name: 'schema: a leaf condition without a value',
      content: ruleFile({ conditions: { all: [{ fact: 'process', path: '$.cpu.percent', operator: 'greaterThan' }] } }),
      code: 'RULES_INVALID',
      message: '<file>: rule "cpu-high": "rules[0].conditions.all[0].value" is required.',
    },
    {
      name: 'schema: conditions without all/any/not at the root',
      content: ruleFile({ conditions: { fact: 'process', path: '$.cpu.percent', operator: 'greaterThan', value: 1 } }),
      code: 'RULES_INVALID',
      message: '<file>: rule "cpu-high": "rules[0].conditions.all" is required.',
    },
    {
      name: 'schema: a bad alert duration',
      content: ruleFile({ event: { type: 'alert', params: { id: 'a', severity: 'warning', message: 'm', for: '30 seconds' } } }),
      code: 'RULES_INVALID',
      message: '<file>: rule "cpu-high": "rules[0].event.params.for" must match pattern "^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$", got string "30 seconds".',
    },
    {
      name: 'unknown fact, with a suggestion',
      content: ruleFile({ conditions: leaf('proces', '$.cpu.percent', 'greaterThan', 50) }),
      code: 'RULES_INVALID',
      message: `<file>: rule "cpu-high": condition proces $.cpu.percent greaterThan 50: unknown fact "proces". Known facts: ${KNOWN_FACTS}. Did you mean "process"?`,
    },
    {
      name: 'unknown path, listing the known paths',
      content: ruleFile({ conditions: leaf('process', '$.cpu.percnt', 'greaterThan', 50) }),
      code: 'RULES_INVALID',
      message: `<file>: rule "cpu-high": condition process $.cpu.percnt greaterThan 50: unknown path "$.cpu.percnt" for fact "process". Known paths: ${PROCESS_PATHS}. Did you mean "$.cpu.percent"?`,
    },
    {
      name: 'no path on an object fact',
      content: ruleFile({ conditions: leaf('session', undefined, 'greaterThan', 5) }),
      code: 'RULES_INVALID',
      message:
        '<file>: rule "cpu-high": condition session greaterThan 5: fact "session" is an object: add a "path" such as "$.uptime_seconds". Known paths: $.uptime_seconds, $.samples.',
    },
    {
      name: 'unknown module field',
      content: ruleFile({ conditions: leaf('module', '$.cpu', 'greaterThan', 50) }),
      code: 'RULES_INVALID',
      message:
        '<file>: rule "cpu-high": condition module $.cpu greaterThan 50: unknown path "$.cpu" for fact "module". Known paths: $.name, $.tags, $.cpu_percent, $.cpu_ms, $.memory_mb, $.calls, $.calls_per_minute, $.errors, $.errors_per_minute, $.total_ms, $.latency_mean_ms, $.latency_min_ms, $.latency_max_ms, $.latency_p50_ms, $.latency_p95_ms, $.latency_p99_ms.',
    },
    {
      name: 'a comparison on the module tags',
      content: ruleFile({ conditions: leaf('module', '$.tags', 'equal', 'verbose') }),
      code: 'RULES_INVALID',
      message:
        '<file>: rule "cpu-high": condition module $.tags equal "verbose": "$.tags" is a list of tags: use "contains" or "doesNotContain" with one tag as the value, got "equal".',
    },
    {
      name: 'a list of tags as the value of contains',
      content: ruleFile({ conditions: leaf('module', '$.tags', 'contains', ['verbose', 'heatmap']) }),
      code: 'RULES_INVALID',
      message:
        '<file>: rule "cpu-high": condition module $.tags contains ["verbose","heatmap"]: "contains" on "$.tags" checks for one tag: the value must be a string, got ["verbose","heatmap"].',
    },
    {
      name: 'contains on a path that holds one number',
      content: ruleFile({ conditions: leaf('module', '$.cpu_percent', 'contains', 5) }),
      code: 'RULES_INVALID',
      message:
        '<file>: rule "cpu-high": condition module $.cpu_percent contains 5: "contains" looks inside a list, and only the module fact\'s "$.tags" is one: this path holds a single value (use "equal" or a comparison).',
    },
    {
      name: 'an unknown path of a standard plugin that is not loaded (plugin-ocr)',
      content: ruleFile({ conditions: leaf('ocr', '$.calls.per_minutes', 'greaterThan', 60) }),
      code: 'RULES_INVALID',
      message:
        '<file>: rule "cpu-high": condition ocr $.calls.per_minutes greaterThan 60: unknown path "$.calls.per_minutes" for fact "ocr". Known paths: $.calls.count, $.calls.per_minute, $.errors.per_minute, $.latency.mean_ms, $.latency.p50_ms, $.latency.p95_ms, $.latency.p99_ms, $.latency.max_ms, $.confidence.mean, $.chars.per_minute, $.unchanged.percent. Did you mean "$.calls.per_minute"?',
    },
    {
      name: 'bad operator',
      content: ruleFile({ conditions: leaf('process', '$.cpu.percent', 'greaterThen', 50) }),
      code: 'RULES_INVALID',
      message: `<file>: rule "cpu-high": condition process $.cpu.percent greaterThen 50: unknown operator "greaterThen". Expected one of: ${OPERATORS}. Did you mean "greaterThan"?`,
    },
    {
      name: 'a quoted number for a numeric operator',
      content: ruleFile({ conditions: leaf('process', '$.cpu.percent', 'greaterThan', '50') }),
      code: 'RULES_INVALID',
      message: '<file>: rule "cpu-high": condition process $.cpu.percent greaterThan "50": "greaterThan" compares numbers: the value must be a number, got "50".',
    },
    {
      name: 'an unknown fact in a message placeholder',
      content: ruleFile({ event: { type: 'recommendation', params: { id: 'r', priority: 'high', message: 'CPU {{proces.cpu.percent}}%' } } }),
      code: 'RULES_INVALID',
      message: `<file>: rule "cpu-high": message placeholder {{proces.cpu.percent}}: unknown fact "proces". Known facts: ${KNOWN_FACTS}. Did you mean "process"?`,
    },
    {
      name: 'a placeholder that tries to reach a prototype',
      content: ruleFile({ event: { type: 'recommendation', params: { id: 'r', priority: 'high', message: 'x {{__proto__.polluted}}' } } }),
      code: 'RULES_INVALID',
      message: `<file>: rule "cpu-high": message placeholder {{__proto__.polluted}}: unknown fact "__proto__". Known facts: ${KNOWN_FACTS}.`,
    },
    {
      name: 'an unknown path in clearWhen',
      content: ruleFile({
        event: {
          type: 'alert',
          params: { id: 'a', severity: 'warning', message: 'm', clearWhen: leaf('system', '$.cpu.prcent', 'lessThan', 75) },
        },
      }),
      code: 'RULES_INVALID',
      message:
        '<file>: rule "cpu-high": condition system $.cpu.prcent lessThan 75: unknown path "$.cpu.prcent" for fact "system". Known paths: $.cpu.percent, $.memory.used_mb, $.memory.used_percent, $.load.avg1, $.load.avg5, $.load.avg15. Did you mean "$.cpu.percent"?',
    },
  ];

  it.each(cases)('$name', async ({ content, code, message }) => {
    const error = await loadError(content);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
  });

  it('reports every problem of a file, one line each', async () => {
    const content = JSON.stringify({
      rules: [
        { name: 'a', description: 'd', conditions: leaf('procss', '$.cpu.percent', 'greaterThan', 1), event: { type: 'load-level', params: { level: 'red' } } },
        { name: 'a', description: 'd', conditions: leaf('process', '$.cpu.percent', 'gt', 1), event: { type: 'load-level', params: { level: 'red' } } },
      ],
    });
    const error = await loadError(content);
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^<file>: rule "a": condition procss \$\.cpu\.percent greaterThan 1: unknown fact "procss"/);
    expect(lines[1]).toBe('<file>: rule "a": duplicate rule name: rules[0] and rules[1] share it; names must be unique in a file.');
    expect(lines[2]).toMatch(/^<file>: rule "a": condition process \$\.cpu\.percent gt 1: unknown operator "gt"/);
  });

  it('accepts decorated operators and facts of standard plugins that are not loaded', () => {
    const text = ruleFile({
      conditions: {
        all: [
          { fact: 'process', path: '$.cpu.percent', operator: 'not:lessThan', value: 50 },
          { fact: 'ocr', path: '$.calls.per_minute', operator: 'greaterThan', value: 5 },
        ],
      },
    });
    const loaded = parseRuleFile('x.json', text, new FactIndex(makeStore().catalogue()));
    expect(loaded.rules.map((r) => r.name)).toEqual(['cpu-high']);
  });

  it('accepts "contains" / "doesNotContain" one tag on the module tags, also decorated', () => {
    const text = ruleFile({
      conditions: {
        all: [
          { fact: 'module', path: '$.tags', operator: 'contains', value: 'verbose' },
          { fact: 'module', path: '$.tags', operator: 'doesNotContain', value: 'essential' },
          { fact: 'module', path: '$.tags', operator: 'not:contains', value: 'ocr' },
          { fact: 'module', path: '$.tags', operator: 'someFact:equal', value: 'heatmap' },
        ],
      },
    });
    const loaded = parseRuleFile('x.json', text, new FactIndex(makeStore().catalogue()));
    expect(loaded.rules[0]).toMatchObject({ name: 'cpu-high', perModule: true });
  });

  it('checks the paths of the standard system and process facts even when their plugin is not loaded', () => {
    const text = ruleFile({ conditions: leaf('system', '$.cpu.percnt', 'greaterThan', 50) });
    expect(() => parseRuleFile('x.json', text, new FactIndex(makeStore({}).catalogue()))).toThrow(
      'x.json: rule "cpu-high": condition system $.cpu.percnt greaterThan 50: unknown path "$.cpu.percnt" for fact "system". Known paths: $.cpu.percent, $.memory.used_mb, $.memory.used_percent, $.load.avg1, $.load.avg5, $.load.avg15. Did you mean "$.cpu.percent"?',
    );
  });

  it('the default rule files are valid against the schema and the standard metrics, loaded or not', () => {
    const validate = compileSchema(ruleFileSchema);
    for (const name of ['load-levels', 'recommendations', 'alerts'] as const) {
      const data = readJson(defaultRuleFile(name));
      expect(validate(data), JSON.stringify(validate.errors)).toBe(true);
      for (const store of [makeStore(), makeStore(ALL_STANDARD_METRICS, [{ name: 'm', fields: Object.keys(MODULE_FIELD_UNITS) }])]) {
        const loaded = parseRuleFile(defaultRuleFile(name), JSON.stringify(data), new FactIndex(store.catalogue()));
        for (const rule of loaded.rules) expect(rule.description).not.toMatch(/\n/);
      }
    }
  });
});

describe('findJsonSyntaxError', () => {
  it.each([
    ['{"a": 1}', null],
    ['[1, 2,]', { line: 1, column: 7, message: 'expected a value, found "]" (JSON allows no comma after the last item)' }],
    ['{"a": 1} x', { line: 1, column: 10, message: 'unexpected "x" after the end of the JSON value' }],
    ['{"a": tru}', { line: 1, column: 10, message: 'expected "true", found "}"' }],
    ['{"a" 1}', { line: 1, column: 6, message: 'expected ":" after a property name, found "1"' }],
    ['{\n"a": "x\ny"}', { line: 2, column: 8, message: 'a string cannot hold a raw line break or control character: write it as \\n, \\t...' }],
    ['', { line: 1, column: 1, message: 'expected a value, found the end of the file' }],
  ])('%j', (text, expected) => {
    const found = findJsonSyntaxError(text);
    if (expected === null) {
      expect(found).toBeNull();
      expect(() => JSON.parse(text)).not.toThrow();
    } else {
      expect(found).toMatchObject(expected);
      expect(() => JSON.parse(text)).toThrow();
    }
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1.5s', 1500],
    ['1h', 3_600_000],
    [undefined, 0],
  ])('%s -> %d', (text, ms) => expect(parseDurationMs(text)).toBe(ms));
});
