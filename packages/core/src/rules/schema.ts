import type { JsonSchema } from '../validate.js';
import type { AlertSeverity, LoadLevel, Priority } from '../types.js';

/** A json-rules-engine leaf condition: `<fact> <path> <operator> <value>`. */
export interface LeafCondition {
  fact: string;
  path?: string;
  operator: string;
  /** A constant, or `{ fact, path }` to compare with another fact. */
  value: unknown;
  name?: string;
  priority?: number;
}

export type Condition =
  | LeafCondition
  | { all: Condition[]; name?: string; priority?: number }
  | { any: Condition[]; name?: string; priority?: number }
  | { not: Condition; name?: string; priority?: number };

/** The root of a rule's conditions: json-rules-engine requires `all`, `any` or `not`. */
export type TopLevelCondition = Exclude<Condition, LeafCondition>;

export type RuleEvent =
  | { type: 'load-level'; params: { level: LoadLevel; subject?: 'process' | 'system' } }
  | { type: 'recommendation'; params: { id: string; priority: Priority; message: string; action?: string } }
  | {
      type: 'alert';
      params: {
        id: string;
        severity: AlertSeverity;
        message: string;
        for?: string;
        keepFiringFor?: string;
        clearWhen?: TopLevelCondition;
      };
    };

export interface RuleDefinition {
  name: string;
  description: string;
  priority?: number;
  conditions: TopLevelCondition;
  event: RuleEvent;
}

/** What a person writes in a rule file. */
export interface RuleFile {
  $schema?: string;
  description?: string;
  rules: RuleDefinition[];
}

/** all / any / not by the key present, else `otherwise` (a leaf, or the root's demand for `all`). */
function conditionBy(otherwise: JsonSchema): JsonSchema {
  return {
    type: 'object',
    if: { properties: { all: true }, required: ['all'] },
    then: { $ref: '#/$defs/allCondition' },
    else: {
      if: { properties: { any: true }, required: ['any'] },
      then: { $ref: '#/$defs/anyCondition' },
      else: {
        if: { properties: { not: true }, required: ['not'] },
        then: { $ref: '#/$defs/notCondition' },
        else: otherwise,
      },
    },
  };
}

/** `30s`, `2m`, `500ms`, `1h`, `1.5s`. */
export const DURATION_PATTERN = '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$';

const ID = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', description: 'letters, digits, `_`, `.` and `-`' };
const ONE_LINE = { type: 'string', minLength: 1, pattern: '^[^\\n\\r]+$' };
const DURATION = { type: 'string', pattern: DURATION_PATTERN, description: 'a duration such as "30s", "2m" or "500ms"' };
const CONDITION_NAME = { type: 'string' };
const CONDITION_PRIORITY = { type: 'integer', minimum: 1 };

function booleanCondition(key: 'all' | 'any' | 'not'): JsonSchema {
  return {
    type: 'object',
    properties: {
      [key]: key === 'not' ? { $ref: '#/$defs/condition' } : { type: 'array', items: { $ref: '#/$defs/condition' } },
      name: CONDITION_NAME,
      priority: CONDITION_PRIORITY,
    },
    required: [key],
    additionalProperties: false,
  };
}

/**
 * JSON Schema (draft 2020-12) of a rule file. The `if`/`then` chains (rather than `oneOf`) make
 * ajv report the one branch that applies, so the error names the exact field.
 */
export const ruleFileSchema: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'loadlight rule file',
  description: 'json-rules-engine rules that set load levels, make recommendations and raise alerts',
  type: 'object',
  properties: {
    $schema: { type: 'string' },
    description: { type: 'string' },
    rules: { type: 'array', items: { $ref: '#/$defs/rule' } },
  },
  required: ['rules'],
  additionalProperties: false,
  $defs: {
    rule: {
      type: 'object',
      properties: {
        name: { ...ONE_LINE, description: 'unique in the file; shown in evidence and errors' },
        description: { ...ONE_LINE, description: 'one line saying what the rule detects' },
        priority: { type: 'integer', minimum: 1, maximum: 100 },
        conditions: { $ref: '#/$defs/topLevelCondition' },
        event: { $ref: '#/$defs/event' },
      },
      required: ['name', 'description', 'conditions', 'event'],
      additionalProperties: false,
    },
    // json-rules-engine needs a boolean root: asking for `all` is the usual fix.
    topLevelCondition: conditionBy({ properties: { all: true }, required: ['all'] }),
    condition: conditionBy({ $ref: '#/$defs/leafCondition' }),
    allCondition: booleanCondition('all'),
    anyCondition: booleanCondition('any'),
    notCondition: booleanCondition('not'),
    leafCondition: {
      type: 'object',
      properties: {
        fact: { type: 'string', minLength: 1, description: 'a fact name: system, process, module, session...' },
        path: { type: 'string', description: 'a JSONPath into the fact, such as "$.cpu.percent"' },
        operator: { type: 'string', minLength: 1, description: 'a json-rules-engine operator, such as "greaterThan"' },
        value: { description: 'the threshold, or { "fact", "path" } to compare with another fact' },
        name: CONDITION_NAME,
        priority: CONDITION_PRIORITY,
      },
      required: ['fact', 'operator', 'value'],
      additionalProperties: false,
    },
    event: {
      type: 'object',
      properties: {
        type: { enum: ['load-level', 'recommendation', 'alert'] },
        params: { type: 'object' },
      },
      required: ['type', 'params'],
      additionalProperties: false,
      allOf: [
        {
          if: { properties: { type: { const: 'load-level' } }, required: ['type'] },
          then: { properties: { params: { $ref: '#/$defs/loadLevelParams' } } },
        },
        {
          if: { properties: { type: { const: 'recommendation' } }, required: ['type'] },
          then: { properties: { params: { $ref: '#/$defs/recommendationParams' } } },
        },
        {
          if: { properties: { type: { const: 'alert' } }, required: ['type'] },
          then: { properties: { params: { $ref: '#/$defs/alertParams' } } },
        },
      ],
    },
    loadLevelParams: {
      type: 'object',
      properties: {
        level: { enum: ['green', 'yellow', 'red'] },
        subject: { enum: ['process', 'system'], description: 'ignored by rules on the module fact: their subject is the module' },
      },
      required: ['level'],
      additionalProperties: false,
    },
    recommendationParams: {
      type: 'object',
      properties: {
        id: ID,
        priority: { enum: ['high', 'medium', 'low'] },
        message: { ...ONE_LINE, description: 'what to do; {{fact.path}} placeholders are filled from the facts' },
        action: ID,
      },
      required: ['id', 'priority', 'message'],
      additionalProperties: false,
    },
    alertParams: {
      type: 'object',
      properties: {
        id: ID,
        severity: { enum: ['info', 'warning', 'critical'] },
        message: { ...ONE_LINE, description: '{{fact.path}} placeholders are filled from the facts' },
        for: { ...DURATION, description: 'how long the conditions must hold before the alert fires (default 0)' },
        keepFiringFor: { ...DURATION, description: 'how long the alert keeps firing once the clear condition holds' },
        clearWhen: {
          $ref: '#/$defs/topLevelCondition',
          description: 'once firing, the alert clears only when these hold (default: when the conditions stop holding)',
        },
      },
      required: ['id', 'severity', 'message'],
      additionalProperties: false,
    },
  },
};
