/**
 * The rules compiler: json-rules-engine condition trees turned into a generated function per rule
 * (the fast path) and closures (recording evidence), giving json-rules-engine's answers exactly,
 * with the options the stage runs it with (a missing fact reads as undefined; paths resolved by
 * `resolvePath`).
 *
 * What is reproduced, and how:
 * - Results: the same operators (the defaults written out with json-rules-engine's expressions,
 *   decorated ones calling its own operator objects), the same fact and path reading (a missing
 *   fact, `null`, a path into a non-object), the same priority sets inside `all` / `any` (a set is
 *   evaluated whole, the next only when the result is still open; an empty `all` or `any`
 *   passes), `not`, and `{ fact, path }` values. On JSON-like facts (`plainData`), a set of
 *   conditions that cannot throw stops at its first decisive one: the result is the same.
 * - Evidence: the values json-rules-engine records on each leaf (`factResult`, `valueResult`,
 *   nothing on a leaf it skipped), rebuilt on demand by evaluating the rule again, recording.
 * - Order: json-rules-engine reports rules in the order their promise chains settle, which
 *   depends on each tree's shape and on what was evaluated, not on rule order alone. The program
 *   replays that promise structure with empty promises (`shadowRule`, a line-by-line mirror of
 *   json-rules-engine's `Rule.evaluate`) once per distinct shape, and caches the order.
 * - Anything the compiler does not model (a condition reference, an unknown operator, a node with
 *   two boolean keys, a path that is not a string) is run by json-rules-engine itself, rule by
 *   rule, and listed in `fallback`; the rule-file schema admits none of these.
 */
import { Almanac, Engine, Fact, Rule, type RuleProperties, type RuleResult } from 'json-rules-engine';
import type { Evidence } from '../types.js';
import { PENDING, fillPending, isSafeSegment, readsWindow, resolvePath, type PendingFill } from './facts.js';

/** Facts as json-rules-engine receives them in `run(facts)`: one property per fact. */
export type FactValues = Record<string, unknown>;

export type EvidenceCondition = Evidence['conditions'][number];

/** The engine options the stage uses, and the ones the compiled rules reproduce. */
export const ENGINE_OPTIONS = { allowUndefinedFacts: true, pathResolver: resolvePath };

/** A rule for a program, as it would be added to one engine. */
export interface ProgramRule {
  name: string;
  priority?: number | undefined;
  conditions: unknown;
}

/** One run of a program over one facts object: json-rules-engine's `results` and `failureResults`, as rule indices. */
export interface ProgramRun {
  facts: FactValues;
  results: number[];
  failureResults: number[];
  /** json-rules-engine's own results of the fallback rules, by index. */
  engineResults: Map<number, RuleResult> | null;
}

interface EngineOperator {
  evaluate(factValue: unknown, jsonValue: unknown): unknown;
}

interface OperatorLookup {
  get(name: string): EngineOperator | null | undefined;
}

let sharedOperators: OperatorLookup | undefined;

/** json-rules-engine's default operators and decorators, as every stage engine has them. */
function engineOperators(): OperatorLookup {
  sharedOperators ??= (new Engine([], ENGINE_OPTIONS) as unknown as { operators: OperatorLookup }).operators;
  return sharedOperators;
}

/** Trace values per node: 0 not evaluated; 1 evaluated; for a leaf, 1 + these flags. */
const FACT_THEN = 1; // the fact is defined and a path is read: json-rules-engine adds a `.then`
const VALUE_THEN = 2; // the same for a `{ fact, path }` value

interface Recorder {
  trace: Uint8Array;
  /** Per leaf: what json-rules-engine records as `factResult` and `valueResult` (evidence only). */
  lhs: unknown[] | null;
  rhs: unknown[] | null;
}

/** A closure evaluating a node as json-rules-engine does (every condition of a set), recording on `rec`. */
type Evaluate = (facts: FactValues, rec: Recorder | null) => unknown;

interface LeafNode {
  kind: 'leaf';
  id: number;
  priority: string;
  fact: unknown;
  path: unknown;
  operator: string;
  value: unknown;
  ref: { fact: unknown; path: unknown } | null;
}

interface BooleanNode {
  kind: 'all' | 'any' | 'not';
  id: number;
  priority: string;
  children: ConditionNode[];
  /** The children grouped by priority, highest first (json-rules-engine's `prioritizeConditions`). */
  sets: ConditionNode[][];
}

type ConditionNode = LeafNode | BooleanNode;

/** A compiled condition tree. */
export interface CompiledConditions {
  root: BooleanNode;
  nodeCount: number;
  /** Some `all` / `any` has children of several priorities: what is evaluated depends on the values. */
  dynamic: boolean;
  /** Fact names the tree reads (conditions and `{ fact }` values). */
  facts: string[];
  /** The rule's result, as json-rules-engine's `ruleResult.result`, recording on `rec` (evidence, traces). */
  evaluate: Evaluate;
  /** The same result, generated code (the fast path: nothing recorded). */
  fast: (facts: FactValues) => unknown;
  leaves: LeafNode[];
  /** The recorder evidence reuses (evidence is built synchronously, one rule at a time). */
  scratch: Recorder;
}

class Uncompilable extends Error {}

// the builtin itself: one call where the rules read a fact path (a wrapper would be two, in the interpreter a 1 Hz tick runs in)
const hasOwn: (object: object, key: PropertyKey) => boolean = Object.hasOwn;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object';
}

/** Resolves `path` in a non-null object exactly as `resolvePath` does. */
function compilePath(path: string): (value: object) => unknown {
  if (path === '$') return (value) => value;
  if (!path.startsWith('$.')) return () => undefined;
  const segments = path.slice(2).split('.');
  if (!segments.every(isSafeSegment)) return () => undefined;
  if (segments.length === 1) {
    const only = segments[0]!;
    return (value) => (hasOwn(value, only) ? (value as Record<string, unknown>)[only] : undefined);
  }
  return (value) => {
    let node: unknown = value;
    for (const segment of segments) {
      if (!isObject(node) || !hasOwn(node, segment)) return undefined;
      node = node[segment];
    }
    return node;
  };
}

/**
 * `almanac.factValue(fact, params, path)` for constant facts, synchronously. A fact object from a
 * `FactPlan` has its value at `path` filled first (`PENDING`).
 */
function factReader(fact: unknown, path: unknown): (facts: FactValues) => unknown {
  if (path !== undefined && path !== null && path !== '' && typeof path !== 'string' && Boolean(path)) {
    throw new Uncompilable(`the path ${JSON.stringify(path)} is not a string`);
  }
  if (typeof fact !== 'string') return () => undefined; // runtime facts are keyed by strings
  if (!path) {
    return (facts) => {
      if (!hasOwn(facts, fact)) return undefined;
      const value = facts[fact];
      fillPending(value, path);
      return value;
    };
  }
  const resolve = compilePath(path as string);
  return (facts) => {
    if (!hasOwn(facts, fact)) return undefined;
    const value = facts[fact];
    if (value === null || typeof value !== 'object') return value;
    // A value found is final: a planned fact holds filled values only (a subtree is filled
    // whole). Nothing found asks the plan to fill the path first.
    const found = resolve(value);
    if (found !== undefined) return found;
    const fill = (value as { [PENDING]?: PendingFill })[PENDING];
    if (fill === undefined) return undefined;
    fill.call(value, path);
    return resolve(value);
  };
}

/** `Number.parseFloat(v).toString() !== 'NaN'`: json-rules-engine's check of a numeric operator's fact value. */
function numeric(value: unknown): boolean {
  return typeof value === 'number' ? value === value : Number.parseFloat(value as string).toString() !== 'NaN';
}

type Compare = (a: unknown, b: unknown) => unknown;

/** The default operators, written out (the same expressions as json-rules-engine's); others call its operator. */
const INLINE: Record<string, Compare> = {
  equal: (a, b) => a === b,
  notEqual: (a, b) => a !== b,
  in: (a, b) => (b as unknown[]).indexOf(a) > -1,
  notIn: (a, b) => (b as unknown[]).indexOf(a) === -1,
  contains: (a, b) => Array.isArray(a) && a.indexOf(b) > -1,
  doesNotContain: (a, b) => Array.isArray(a) && a.indexOf(b) === -1,
  lessThan: (a, b) => numeric(a) && (a as number) < (b as number),
  lessThanInclusive: (a, b) => numeric(a) && (a as number) <= (b as number),
  greaterThan: (a, b) => numeric(a) && (a as number) > (b as number),
  greaterThanInclusive: (a, b) => numeric(a) && (a as number) >= (b as number),
};

/** Operators that cannot throw on JSON-like data (on an object without a prototype, the numeric ones can). */
const SAFE_OPERATORS = new Set(['equal', 'notEqual', 'contains', 'doesNotContain', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive']);

/** A leaf whose evaluation cannot throw: it may be skipped once its set's result is known. */
function isSafe(node: ConditionNode): boolean {
  if (node.kind !== 'leaf') return node.children.every(isSafe);
  if (SAFE_OPERATORS.has(node.operator)) return true;
  // `in` / `notIn` call value.indexOf: safe on a constant list or string
  return (node.operator === 'in' || node.operator === 'notIn') && node.ref === null && (Array.isArray(node.value) || typeof node.value === 'string');
}

function isDefined(facts: FactValues, fact: unknown): boolean {
  return typeof fact === 'string' && hasOwn(facts, fact);
}

const BOOLEAN_KEYS = ['any', 'all', 'not'] as const;

/** Turns a condition tree into nodes, numbering them in pre-order. */
function parse(condition: unknown, counter: { next: number }, root: boolean): ConditionNode {
  if (!isObject(condition) || Array.isArray(condition)) throw new Uncompilable('a condition that is not an object');
  if (hasOwn(condition, 'condition')) throw new Uncompilable('a condition reference');
  const keys = BOOLEAN_KEYS.filter((key) => hasOwn(condition, key));
  if (keys.length > 1) throw new Uncompilable(`a condition with both "${keys[0]}" and "${keys[1]}"`);
  const id = counter.next++;
  const kind = keys[0];
  if (kind !== undefined) {
    const sub = condition[kind];
    if (kind === 'not' ? !isObject(sub) || Array.isArray(sub) : !Array.isArray(sub)) throw new Uncompilable(`a malformed "${kind}"`);
    const children = kind === 'not' ? [parse(sub, counter, false)] : (sub as unknown[]).map((c) => parse(c, counter, false));
    // Boolean conditions always have a priority, 1 by default.
    const priority = String(Number.parseInt(String(condition.priority), 10) || 1);
    return { kind, id, priority, children, sets: byPriority(children, (child) => child.priority) };
  }
  if (root) throw new Uncompilable('a root that is not "all", "any" or "not"');
  for (const key of ['fact', 'operator', 'value']) if (!hasOwn(condition, key)) throw new Uncompilable(`a condition without "${key}"`);
  const operator = condition.operator;
  if (typeof operator !== 'string' || !engineOperators().get(operator)) throw new Uncompilable(`the unknown operator ${JSON.stringify(operator)}`);
  const value = condition.value;
  const ref = isObject(value) && hasOwn(value, 'fact') ? { fact: value.fact, path: value.path } : null;
  // A leaf without its own priority takes its fact's: facts passed to run() have priority 1.
  const priority = String((condition.priority as unknown) || 1);
  return { kind: 'leaf', id, priority, fact: condition.fact, path: condition.path, operator, value, ref };
}

/**
 * Items grouped by priority, highest first, in their order within a group: json-rules-engine's
 * `prioritizeConditions` (a node's children) and `prioritizeRules` (an engine's rules).
 */
function byPriority<T>(items: readonly T[], priorityOf: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = priorityOf(item);
    let set = groups.get(key);
    if (!set) groups.set(key, (set = []));
    set.push(item);
  }
  return [...groups.keys()].sort((a, b) => (Number(a) > Number(b) ? -1 : 1)).map((key) => groups.get(key)!);
}

function compileNode(node: ConditionNode, nested: boolean): Evaluate {
  if (node.kind === 'leaf') return compileLeaf(node);
  const { id } = node;
  if (node.kind === 'not') {
    const child = compileNode(node.children[0]!, true);
    return (facts, rec) => {
      if (rec !== null) rec.trace[id] = 1;
      return !child(facts, rec);
    };
  }
  let combined: Evaluate;
  if (node.children.length === 0) {
    combined = (_facts, rec) => {
      if (rec !== null) rec.trace[id] = 1;
      return true;
    };
  } else if (node.children.length === 1) {
    const child = compileNode(node.children[0]!, true);
    combined = (facts, rec) => {
      if (rec !== null) rec.trace[id] = 1;
      return child(facts, rec);
    };
  } else {
    const sets = node.sets.map((set) => set.map((child) => compileNode(child, true)));
    const all = node.kind === 'all';
    combined = (facts, rec) => {
      if (rec !== null) rec.trace[id] = 1;
      for (const set of sets) {
        // Every condition of a set is evaluated (json-rules-engine runs them together).
        let passed = 0;
        for (const child of set) if (child(facts, rec) === true) passed++;
        if (all ? passed < set.length : passed > 0) return !all;
      }
      return all;
    };
  }
  // A nested boolean passes only on `true`; the root's result is taken as it is.
  return nested ? (facts, rec) => combined(facts, rec) === true : combined;
}

const readKey = (fact: unknown, path: unknown) => `${String(fact)}\u0000${String(path ?? '')}`;

/** The fact paths a condition reads: its own and a `{ fact, path }` value's. */
function readsOf(node: ConditionNode): Array<[fact: unknown, path: unknown]> {
  if (node.kind !== 'leaf') return node.children.flatMap(readsOf);
  return node.ref === null ? [[node.fact, node.path]] : [[node.fact, node.path], [node.ref.fact, node.ref.path]];
}

/**
 * A set's conditions in the order the fast path tries them: fewest metric windows read first (a
 * module's tags or name cost none), then those whose values the other rules read most (likely
 * computed already); the rule's order otherwise.
 */
function cheapestFirst(set: ConditionNode[], readCounts: ReadonlyMap<string, number> | undefined): ConditionNode[] {
  const cost = (node: ConditionNode) =>
    readsOf(node).reduce((sum, [fact, path]) => sum + (typeof fact === 'string' && readsWindow(fact, typeof path === 'string' ? path : undefined) ? 1 : 0), 0);
  const shared = (node: ConditionNode) => Math.max(0, ...readsOf(node).map(([fact, path]) => readCounts?.get(readKey(fact, path)) ?? 0));
  return set
    .map((node, position) => ({ node, position, cost: cost(node), shared: shared(node) }))
    .sort((a, b) => a.cost - b.cost || b.shared - a.shared || a.position - b.position)
    .map(({ node }) => node);
}

/** The comparison of an operator: inlined for the engine's own, else json-rules-engine's operator. */
function comparator(operator: string): Compare {
  const inline = Object.hasOwn(INLINE, operator) ? INLINE[operator] : undefined;
  if (inline) return inline;
  const op = engineOperators().get(operator)!;
  return (a: unknown, b: unknown) => op.evaluate(a, b);
}

function compileLeaf(node: LeafNode): Evaluate {
  const compare = comparator(node.operator);
  const { id, value, ref, path } = node;
  const readFact = factReader(node.fact, path);
  const readValue = ref === null ? null : factReader(ref.fact, ref.path);
  return (facts, rec) => {
    const rhs = readValue === null ? value : readValue(facts);
    const lhs = readFact(facts);
    const result = compare(lhs, rhs);
    if (rec !== null) {
      rec.trace[id] = 1 + leafFlags(node, facts);
      if (rec.lhs !== null) {
        rec.lhs[id] = lhs;
        rec.rhs![id] = rhs;
      }
    }
    return result;
  };
}

function leafFlags(node: LeafNode, facts: FactValues): number {
  let flags = 0;
  if (node.path && isDefined(facts, node.fact)) flags |= FACT_THEN;
  if (node.ref !== null && node.ref.path && isDefined(facts, node.ref.fact)) flags |= VALUE_THEN;
  return flags;
}

export interface CompileOptions {
  /**
   * The facts (and `{ fact }` values) are JSON-like data: plain objects and arrays, strings,
   * numbers (NaN and Infinity too), booleans, null. Lets the fast path skip conditions whose set's
   * result is already known, which only an exotic value (an object without a prototype in a
   * numeric comparison) could make throw, and read a path segment that is no name on
   * Object.prototype or Array.prototype (as the rules compile) without an own-property test. The
   * stage's facts are such data.
   */
  plainData?: boolean;
  /** How many conditions of the program read each fact path (`RuleProgram` sets it): fast-path order. */
  readCounts?: ReadonlyMap<string, number>;
}

/** A rule's condition tree, parsed and checked, its nodes numbered. */
interface ParsedConditions {
  root: BooleanNode;
  nodeCount: number;
}

/** Parses and checks a rule's `conditions`, numbering its nodes. Throws an `Uncompilable` error naming what it cannot express. */
function parseConditions(conditions: unknown): ParsedConditions {
  const counter = { next: 0 };
  const root = parse(conditions, counter, true) as BooleanNode;
  // the leaves' readers check their paths
  const check = (node: ConditionNode): void => {
    if (node.kind !== 'leaf') return node.children.forEach(check);
    factReader(node.fact, node.path);
    if (node.ref !== null) factReader(node.ref.fact, node.ref.path);
  };
  check(root);
  return { root, nodeCount: counter.next };
}

/** The parsed conditions, or why json-rules-engine must run them itself (any other error is thrown). */
function tryParse(conditions: unknown): ParsedConditions | string {
  try {
    return parseConditions(conditions);
  } catch (error) {
    if (error instanceof Uncompilable) return error.message;
    throw error;
  }
}

/** Compiles a rule's `conditions`. Throws an `Uncompilable` error naming what it cannot express. */
export function compileConditions(conditions: unknown, options: CompileOptions = {}): CompiledConditions {
  return compileParsed(parseConditions(conditions), options);
}

function compileParsed({ root, nodeCount }: ParsedConditions, options: CompileOptions): CompiledConditions {
  const leaves: LeafNode[] = [];
  let dynamic = false;
  const facts = new Set<string>();
  const visit = (node: ConditionNode) => {
    if (node.kind === 'leaf') {
      leaves.push(node);
      if (typeof node.fact === 'string') facts.add(node.fact);
      if (node.ref !== null && typeof node.ref.fact === 'string') facts.add(node.ref.fact);
      return;
    }
    if (node.sets.length > 1) dynamic = true;
    node.children.forEach(visit);
  };
  visit(root);
  return {
    root,
    nodeCount,
    dynamic,
    facts: [...facts].sort(),
    evaluate: compileNode(root, false),
    fast: generate(root, options),
    leaves,
    scratch: { trace: new Uint8Array(nodeCount), lhs: [], rhs: [] },
  };
}

/** `numeric(a)`, a number tested in place (no call: most fact values are numbers). */
const isNumeric = (a: string) => `(typeof ${a} === 'number' ? ${a} === ${a} : numeric(${a}))`;

/** The default operators as expressions (`in` / `notIn` are called, so that a failure reads as json-rules-engine's). */
const INLINE_CODE: Record<string, (a: string, b: string) => string> = {
  equal: (a, b) => `${a} === ${b}`,
  notEqual: (a, b) => `${a} !== ${b}`,
  contains: (a, b) => `Array.isArray(${a}) && ${a}.indexOf(${b}) > -1`,
  doesNotContain: (a, b) => `Array.isArray(${a}) && ${a}.indexOf(${b}) === -1`,
  lessThan: (a, b) => `${isNumeric(a)} && ${a} < ${b}`,
  lessThanInclusive: (a, b) => `${isNumeric(a)} && ${a} <= ${b}`,
  greaterThan: (a, b) => `${isNumeric(a)} && ${a} > ${b}`,
  greaterThanInclusive: (a, b) => `${isNumeric(a)} && ${a} >= ${b}`,
};

/**
 * The fast path as one generated function per rule: the same evaluation as `compileNode` without
 * recording (sets in priority order, each stopped at its first decisive condition where that is
 * safe, else evaluated whole), with fact names and path segments as constants so that each read
 * is its own property access. Only JSON-quoted names and numbered variables go into the source;
 * values, operators and odd paths are passed in.
 */
function generate(root: BooleanNode, options: CompileOptions): (facts: FactValues) => unknown {
  const passed: unknown[] = []; // constants and functions the code reads as K[i]
  const constant = (value: unknown) => `K[${passed.push(value) - 1}]`;
  const lines: string[] = [];
  let serial = 0;
  const local = (prefix: string) => `${prefix}${serial++}`;
  /**
   * Whether reading `key` needs no `hasOwn`: on JSON-like data (`plainData`) a key that is no
   * name of Object's or Array's prototype can only be found as an own property (undefined else).
   */
  const ownOnly = (key: string) => options.plainData === true && !(key in Object.prototype) && !(key in Array.prototype);
  /** `node[key]` when `node` holds it as its own property, else undefined. */
  const own = (node: string, key: string) => (ownOnly(key) ? `${node}[${JSON.stringify(key)}]` : `(hasOwn(${node}, ${JSON.stringify(key)}) ? ${node}[${JSON.stringify(key)}] : undefined)`);

  /** Emits the reading of `fact` at `path` into a new variable; returns its name. */
  const read = (fact: unknown, path: unknown): string => {
    const v = local('v');
    lines.push(`let ${v};`);
    if (typeof fact !== 'string') return v;
    const f = JSON.stringify(fact);
    const o = local('o');
    // a fact missing and a fact undefined read the same (undefined): no test needed when ownOnly
    lines.push(`${ownOnly(fact) ? '' : `if (hasOwn(facts, ${f})) `}{ const ${o} = facts[${f}];`);
    if (!path) {
      lines.push(`if (${o} !== null && typeof ${o} === 'object') { const fill = ${o}[PENDING]; if (fill !== undefined) fill.call(${o}, ${constant(path)}); }`);
      lines.push(`${v} = ${o}; }`);
      return v;
    }
    const resolve = (target: string): string[] => {
      const p = path as string;
      if (p === '$') return [`${v} = ${o};`];
      const segments = p.startsWith('$.') ? p.slice(2).split('.') : null;
      if (segments === null || !segments.every(isSafeSegment)) return [`${v} = undefined;`];
      const out = [`${target} = ${own(o, segments[0]!)};`];
      for (const segment of segments.slice(1)) {
        out.push(`if (${target} !== null && typeof ${target} === 'object') ${target} = ${own(target, segment)}; else ${target} = undefined;`);
      }
      return out;
    };
    lines.push(`if (${o} === null || typeof ${o} !== 'object') ${v} = ${o}; else {`);
    lines.push(...resolve(v));
    // a value found is final; nothing found asks a planned fact to fill the path (see factReader)
    lines.push(`if (${v} === undefined) { const fill = ${o}[PENDING]; if (fill !== undefined) { fill.call(${o}, ${constant(path)});`);
    lines.push(...resolve(v));
    lines.push(`} } } }`);
    return v;
  };

  const leaf = (node: LeafNode, out: string) => {
    const rhs = node.ref === null ? constant(node.value) : read(node.ref.fact, node.ref.path);
    const lhs = read(node.fact, node.path);
    const inline = INLINE_CODE[node.operator];
    if (inline) lines.push(`${out} = ${inline(lhs, rhs)};`);
    else {
      const compare = comparator(node.operator);
      lines.push(`${out} = ${constant(compare)}(${lhs}, ${rhs});`);
    }
  };

  /** Emits the node's result into `out` (declared): raw for a leaf or the root, `=== true` for a nested boolean. */
  const node = (n: ConditionNode, out: string, nested: boolean) => {
    if (n.kind === 'leaf') return leaf(n, out);
    if (n.kind === 'not') {
      const c = local('c');
      lines.push(`let ${c};`);
      node(n.children[0]!, c, true);
      lines.push(`${out} = !${c};`);
      return;
    }
    if (n.children.length === 0) lines.push(`${out} = true;`);
    else if (n.children.length === 1) node(n.children[0]!, out, true);
    else {
      const all = n.kind === 'all';
      const label = local('L');
      lines.push(`${out} = ${all};`, `${label}: {`);
      for (const set of n.sets) {
        if (options.plainData && set.every(isSafe)) {
          for (const child of cheapestFirst(set, options.readCounts)) {
            const c = local('c');
            lines.push(`{ let ${c};`);
            node(child, c, true);
            lines.push(`if ((${c} === true) !== ${all}) { ${out} = ${!all}; break ${label}; } }`);
          }
        } else {
          // every condition of the set, then the set's result
          const results = set.map((child) => {
            const c = local('c');
            lines.push(`let ${c};`);
            node(child, c, true);
            return `${c} === true`;
          });
          lines.push(`if (${all ? `!(${results.join(' && ')})` : results.join(' || ')}) { ${out} = ${!all}; break ${label}; }`);
        }
      }
      lines.push('}');
    }
    if (nested) lines.push(`${out} = ${out} === true;`);
  };

  lines.push('let result;');
  node(root, 'result', false);
  lines.push('return result;');
  const source = `return function rule(facts) {\n${lines.join('\n')}\n};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from the tree above, names JSON-quoted
  return new Function('K', 'hasOwn', 'numeric', 'PENDING', source)(passed, hasOwn, numeric, PENDING) as (facts: FactValues) => unknown;
}

/** Why json-rules-engine must run this tree itself, or null when it compiles. */
export function uncompilableReason(conditions: unknown): string | null {
  const parsed = tryParse(conditions);
  return typeof parsed === 'string' ? parsed : null;
}

/** A JSON value copied (json-rules-engine clones the conditions before each evaluation). */
function copy<T>(value: T): T {
  return isObject(value) ? (structuredClone(value) as T) : value;
}

/** Objects that set the evidence objects' shape (see below the function); kept, never read. */
const EVIDENCE_SHAPES: EvidenceCondition[] = [];

/** The evidence of a compiled rule: its leaves in tree order, as `collectConditions` reads them from json-rules-engine. */
function compiledEvidence(compiled: CompiledConditions, facts: FactValues): EvidenceCondition[] {
  const rec = compiled.scratch;
  rec.trace.fill(0);
  compiled.evaluate(facts, rec);
  const out: EvidenceCondition[] = [];
  const leaves = compiled.leaves;
  // indexed loops here and in the stage's per-evaluation code: `for...of` walks the iterator protocol in the interpreter
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i]!;
    if (typeof leaf.fact !== 'string') continue;
    const evaluated = rec.trace[leaf.id] !== 0;
    const lhs = evaluated ? rec.lhs![leaf.id] : undefined;
    const rhs = evaluated && leaf.ref !== null ? rec.rhs![leaf.id] : undefined;
    const operator = String(leaf.operator);
    const threshold = rhs !== undefined ? (Array.isArray(rhs) ? rhs.slice() : rhs) : copy(leaf.value);
    // a list read from the facts is copied: a planned module fact shares its tags between evaluations
    const value = lhs === undefined ? null : Array.isArray(lhs) ? lhs.slice() : lhs;
    out.push(typeof leaf.path === 'string' ? { fact: leaf.fact, path: leaf.path, operator, threshold, value } : { fact: leaf.fact, operator, threshold, value });
  }
  return out;
}
// The evidence objects' `threshold` and `value` take any value from the start: otherwise the
// first ones fix them as "heap object" (fractions, null) and the first whole number seen later
// de-optimises `compiledEvidence` (V8 keeps one shape per property order, so these set it).
for (const value of [0, null]) {
  EVIDENCE_SHAPES.push({ fact: '', path: '', operator: '', threshold: value, value }, { fact: '', operator: '', threshold: value, value });
}

/** The leaves of json-rules-engine's evaluated condition tree: fact, operator, threshold, value seen. */
export function collectConditions(node: unknown, out: EvidenceCondition[] = []): EvidenceCondition[] {
  if (node === null || typeof node !== 'object') return out;
  const condition = node as Record<string, unknown>;
  for (const key of ['all', 'any'] as const) {
    if (Array.isArray(condition[key])) {
      for (const child of condition[key] as unknown[]) collectConditions(child, out);
      return out;
    }
  }
  if (condition.not !== undefined && typeof condition.not === 'object') return collectConditions(condition.not, out);
  if (typeof condition.fact !== 'string') return out;
  out.push({
    fact: condition.fact,
    ...(typeof condition.path === 'string' ? { path: condition.path } : {}),
    operator: String(condition.operator),
    threshold: condition.valueResult !== undefined ? condition.valueResult : condition.value,
    // undefined: json-rules-engine skipped the condition (short-circuit), or the fact is missing
    value: condition.factResult === undefined ? null : condition.factResult,
  });
  return out;
}

const identity = <T>(value: T): T => value;
const passes = (value: unknown) => value === true;
const negate = (value: unknown) => !value;
const emitted = () => Promise.all([]); // eventemitter2's emitAsync() with no listener

/**
 * The promise structure of json-rules-engine's `Rule.evaluate` for one evaluation of `root`
 * (which nodes were evaluated, and which leaves read a path, from `trace`), with nothing inside.
 * It must stay a line-by-line mirror of json-rules-engine's rule.js and condition.js: the order in
 * which these promises settle is the order json-rules-engine reports results in.
 */
function shadowRule(root: BooleanNode, trace: Uint8Array): Promise<unknown> {
  const evaluateCondition = (node: ConditionNode): Promise<unknown> => {
    if (node.kind !== 'leaf') {
      let comparison: Promise<unknown>;
      if (node.kind === 'all') comparison = prioritizeAndRun(node, 'all');
      else if (node.kind === 'any') comparison = prioritizeAndRun(node, 'any');
      else comparison = not(node);
      return comparison.then(passes);
    }
    // Condition.evaluate: Promise.all([almanac.getValue(value), almanac.factValue(fact, params, path)])
    const flags = trace[node.id]! - 1;
    const value = flags & VALUE_THEN ? Promise.resolve(undefined).then(identity) : Promise.resolve(undefined);
    const fact = flags & FACT_THEN ? Promise.resolve(undefined).then(identity) : Promise.resolve(undefined);
    return Promise.all([value, fact])
      .then(() => ({ result: true }))
      .then((evaluation) => evaluation.result);
  };
  const evaluateConditions = (set: ConditionNode[]) => Promise.all(set.map((node) => evaluateCondition(node))).then(passes);
  const prioritizeAndRun = (node: BooleanNode, operator: 'all' | 'any'): Promise<unknown> => {
    if (node.children.length === 0) return Promise.resolve(true);
    if (node.children.length === 1) return evaluateCondition(node.children[0]!);
    let cursor: Promise<unknown> = Promise.resolve(operator === 'all');
    for (const set of node.sets) {
      cursor = cursor.then((setResult) => (trace[set[0]!.id] !== 0 ? evaluateConditions(set) : setResult));
    }
    return cursor;
  };
  const not = (node: BooleanNode) => evaluateCondition(node.children[0]!).then(negate);
  const processResult = () =>
    Promise.resolve()
      .then(emitted)
      .then(() => root);
  let evaluation: Promise<unknown>;
  if (root.kind === 'any') evaluation = prioritizeAndRun(root, 'any');
  else if (root.kind === 'all') evaluation = prioritizeAndRun(root, 'all');
  else evaluation = not(root);
  return evaluation.then(processResult);
}

/** Every node evaluated, as happens when each `all` / `any` has one priority set. */
function fullTrace(compiled: CompiledConditions, facts: FactValues): Uint8Array {
  const trace = new Uint8Array(compiled.nodeCount).fill(1);
  for (const leaf of compiled.leaves) trace[leaf.id] = 1 + leafFlags(leaf, facts);
  return trace;
}

const ORDER_CACHE_LIMIT = 1024;

interface ProgramEntry {
  compiled: CompiledConditions | null;
  /** The fallback: json-rules-engine's own rule, attached to an engine with the stage's options. */
  engineRule: Rule | null;
}

/**
 * The rules of one engine (the stage has two: global rules, and module rules run once per module),
 * compiled. `run(facts)` gives what `engine.run(facts)` would: which rules passed and failed, in
 * json-rules-engine's order, and their evidence.
 */
export class RuleProgram {
  readonly size: number;
  /** Rules json-rules-engine runs itself, with the reason. */
  readonly fallback: ReadonlyArray<{ index: number; name: string; reason: string }>;
  /** Distinct evaluation shapes whose order was replayed (each once). */
  ordersComputed = 0;
  private readonly entries: ProgramEntry[];
  /** Rule indices by priority, highest first (json-rules-engine's `prioritizeRules`). */
  private readonly sets: number[][];
  private readonly presence: string[];
  private readonly dynamic: number[];
  private readonly orders = new Map<string, number[]>();
  private lastKey: string | null = null;
  private lastOrder: number[] | undefined;
  private readonly passed: boolean[];
  private readonly presenceKeys = new Map<number, string>();

  constructor(rules: readonly ProgramRule[], options: CompileOptions = {}) {
    this.size = rules.length;
    this.passed = new Array<boolean>(rules.length).fill(false);
    const fallback: Array<{ index: number; name: string; reason: string }> = [];
    let engine: Engine | null = null;
    const facts = new Set<string>();
    // each rule parsed once; a string is why it cannot compile
    const parsed = rules.map((rule) => tryParse(rule.conditions));
    // how often each fact path is read, over the rules that compile (the fast path's order)
    const readCounts = new Map<string, number>();
    for (const tree of parsed) {
      if (typeof tree === 'string') continue;
      for (const [fact, path] of readsOf(tree.root)) {
        const key = readKey(fact, path);
        readCounts.set(key, (readCounts.get(key) ?? 0) + 1);
      }
    }
    this.entries = rules.map((rule, index) => {
      const tree = parsed[index]!;
      if (typeof tree !== 'string') {
        const compiled = compileParsed(tree, { ...options, readCounts });
        for (const fact of compiled.facts) facts.add(fact);
        return { compiled, engineRule: null };
      }
      fallback.push({ index, name: rule.name, reason: tree });
      engine ??= new Engine([], ENGINE_OPTIONS);
      const properties: RuleProperties = { name: rule.name, conditions: rule.conditions as RuleProperties['conditions'], event: { type: 'fallback' } };
      if (rule.priority !== undefined) properties.priority = rule.priority;
      const engineRule = new Rule(properties);
      (engineRule as unknown as { setEngine(engine: Engine): void }).setEngine(engine);
      return { compiled: null, engineRule };
    });
    this.fallback = fallback;
    this.presence = [...facts].sort();
    this.dynamic = this.entries.flatMap((entry, index) => (entry.compiled?.dynamic ? [index] : []));
    this.sets = byPriority(
      rules.map((_rule, index) => index),
      (index) => String(Number.parseInt(String(rules[index]!.priority || 1), 10)),
    );
  }

  /**
   * What `engine.run(facts)` reports. Synchronous once the order of this evaluation's shape is
   * known; a Promise the first time a shape is seen, and whenever a fallback rule is present.
   * Throws (or rejects) where json-rules-engine rejects: an operator failing on its values.
   */
  run(facts: FactValues): ProgramRun | Promise<ProgramRun> {
    // reused from run to run: read at once below, copied for a replay
    const passed = this.passed;
    let key = this.presenceKey(facts);
    let traces: Array<Uint8Array | undefined> | null = null;
    for (let i = 0; i < this.size; i++) {
      const compiled = this.entries[i]!.compiled;
      passed[i] = false;
      if (compiled === null) continue;
      if (compiled.dynamic) {
        const rec: Recorder = { trace: new Uint8Array(compiled.nodeCount), lhs: null, rhs: null };
        passed[i] = !!compiled.evaluate(facts, rec);
        (traces ??= [])[i] = rec.trace;
        key += `|${String.fromCharCode(...rec.trace)}`;
      } else passed[i] = !!compiled.fast(facts);
    }
    if (this.fallback.length === 0) {
      // module after module, the shape is usually the same as the last one
      const order = key === this.lastKey ? this.lastOrder : this.orders.get(key);
      if (order) {
        this.lastKey = key;
        this.lastOrder = order;
        return assemble(facts, order, passed, null);
      }
    }
    return this.replay(facts, passed.slice(), traces, key);
  }

  /** Which of the facts the rules read are defined, as a string of 0 and 1 (cached per pattern). */
  private presenceKey(facts: FactValues): string {
    const presence = this.presence;
    if (presence.length > 30) {
      let key = '';
      for (const fact of presence) key += isDefined(facts, fact) ? '1' : '0';
      return key;
    }
    let mask = 0;
    for (let i = 0; i < presence.length; i++) if (isDefined(facts, presence[i])) mask |= 1 << i;
    let key = this.presenceKeys.get(mask);
    if (key === undefined) {
      key = '';
      for (let i = 0; i < presence.length; i++) key += mask & (1 << i) ? '1' : '0';
      this.presenceKeys.set(mask, key);
    }
    return key;
  }

  /** The evidence of rule `index` in a run: its leaves, with the values seen. */
  evidence(run: ProgramRun, index: number): EvidenceCondition[] {
    const engineResult = run.engineResults?.get(index);
    if (engineResult) return collectConditions(engineResult.conditions);
    return compiledEvidence(this.entries[index]!.compiled!, run.facts);
  }

  /** Replays json-rules-engine's promise structure for this evaluation to learn its order. */
  private async replay(facts: FactValues, passed: boolean[], traces: Array<Uint8Array | undefined> | null, key: string): Promise<ProgramRun> {
    const order: number[] = [];
    let almanac: Almanac | null = null;
    let engineResults: Map<number, RuleResult> | null = null;
    if (this.fallback.length > 0) {
      // As Engine.run does: each property of the facts becomes a constant fact (filled: the
      // engine reads plain objects).
      almanac = new Almanac(ENGINE_OPTIONS);
      for (const id in facts) {
        const value = facts[id];
        fillPending(value, undefined);
        almanac.addFact(new Fact(id, value));
      }
      engineResults = new Map();
    }
    for (const set of this.sets) {
      // Engine.evaluateRules: the set's rules start together; a result is added when its chain settles.
      await Promise.all(
        set.map((index) => {
          const { compiled, engineRule } = this.entries[index]!;
          const evaluation =
            compiled !== null
              ? shadowRule(compiled.root, traces?.[index] ?? fullTrace(compiled, facts))
              : (engineRule as unknown as { evaluate(almanac: Almanac): Promise<RuleResult> }).evaluate(almanac!);
          return evaluation.then((result) => {
            order.push(index);
            if (compiled === null) {
              const engineResult = result as RuleResult;
              engineResults!.set(index, engineResult);
              passed[index] = Boolean(engineResult.result);
            }
          });
        }),
      );
    }
    if (this.fallback.length === 0) {
      if (this.orders.size >= ORDER_CACHE_LIMIT) this.orders.clear();
      this.orders.set(key, order);
      this.ordersComputed++;
    }
    return assemble(facts, order, passed, engineResults);
  }
}

function assemble(facts: FactValues, order: number[], passed: boolean[], engineResults: Map<number, RuleResult> | null): ProgramRun {
  const results: number[] = [];
  const failureResults: number[] = [];
  for (let i = 0; i < order.length; i++) {
    const index = order[i]!;
    (passed[index] ? results : failureResults).push(index);
  }
  return { facts, results, failureResults, engineResults };
}
