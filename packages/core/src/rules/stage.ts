import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { Engine, type RuleProperties, type RuleResult, type TopLevelCondition as EngineCondition } from 'json-rules-engine';
import { LoadlightError, isLoadlightError, describeError } from '../errors.js';
import type { Store } from '../store.js';
import type {
  ActiveAlert,
  AlertSeverity,
  Evaluation,
  Evidence,
  LevelResult,
  LoadLevel,
  MetricInfo,
  Priority,
  Recommendation,
} from '../types.js';
import { AlertTracker, type AlertObservation } from './alerts.js';
import { ENGINE_OPTIONS, RuleProgram, collectConditions, type ProgramRun } from './compile.js';
import { FactIndex, FactPlan, MODULE_FIELDS, STANDARD_FACTS, buildFacts, factCatalogue, fillMessage, placeOf, placeholders, type FactCatalogueEntry, type FactRead, type Facts } from './facts.js';
import { loadRuleFile, parseRuleFile, type LoadedRule, type LoadedRuleFile, type RuleType } from './load.js';
import type { RuleEvent, TopLevelCondition } from './schema.js';

export interface RulesStageOptions {
  /** Absolute paths of the rule files. */
  files: string[];
  /** The window facts are built over. */
  windowSeconds: number;
  /** Where facts come from: `catalogue()` and `window()`. */
  store: Store;
  /**
   * Re-read changed files at each `evaluate()` (by mtime, size and inode: one synchronous stat
   * per file, a few microseconds; a file is read only when its stat changed).
   */
  watch: boolean;
  /**
   * `compiled` (the default): the rules compiled (compile.ts), each window computed when a rule
   * reads it. `json-rules-engine`: every metric's window and one engine run per module, the way
   * before, kept as a reference; both give the same evaluations.
   */
  engine?: 'compiled' | 'json-rules-engine';
}

/** How the stage runs its rules (for tests and the bench). */
export interface RulesStageDebug {
  engine: 'compiled' | 'json-rules-engine';
  /** Entries (a rule, and an alert's `clearWhen` apart) run compiled. */
  compiled: number;
  /** Entries json-rules-engine runs itself, and why (the rule-file schema admits none). */
  fallback: Array<{ file: string; rule: string; role: 'raise' | 'clear'; reason: string }>;
  /** Evaluation shapes whose result order was replayed from json-rules-engine's promise structure (the program compiled ahead at load included). */
  ordersComputed: number;
  /** The last evaluation: metric windows computed, of how many metrics; engine runs (or program runs). */
  last: { windows: number; metrics: number; runs: number } | null;
}

/** A rule in force, for `loadlight validate` and the console. */
export interface RuleInfo {
  file: string;
  name: string;
  description: string;
  type: RuleType;
  /** False while a fact it reads has no metrics (its plugin is not loaded, no module yet). */
  active: boolean;
  inactiveReason?: string;
  /** Its conditions and event as written in the version of its file in force (not to be modified). */
  conditions: Readonly<TopLevelCondition>;
  event: Readonly<RuleEvent>;
}

interface FileSignature {
  mtimeMs: number;
  size: number;
  ino: number;
}

interface WatchedFile {
  file: string;
  /** The last good content, in force. */
  loaded: LoadedRuleFile | null;
  signature: FileSignature | null;
  /** Hash of the last rejected content, so one bad edit is validated (and reported) once. */
  rejectedSha256: string | null;
  error: string | null;
}

/** How a rule runs in the engine: its raise conditions, or an alert's `clearWhen`. */
interface EngineEntry {
  rule: LoadedRule;
  role: 'raise' | 'clear';
}

/** The rules of one engine, compiled, with the entry behind each program index. */
interface Program {
  program: RuleProgram;
  entries: EngineEntry[];
}

interface Compiled {
  index: FactIndex;
  inactive: Map<LoadedRule, string>;
  /** Reference mode: json-rules-engine engines, entries by rule name. */
  entries: Map<string, EngineEntry>;
  globalEngine: Engine | null;
  moduleEngine: Engine | null;
  /** Compiled mode: the programs, and the fact paths the active rules read. */
  global: Program | null;
  module: Program | null;
  reads: FactRead[];
}

/** A rule as one engine would hold it: its entry, and its engine properties. */
interface EngineRule {
  entry: EngineEntry;
  properties: RuleProperties;
}

interface ActiveRules {
  inactive: Map<LoadedRule, string>;
  global: EngineRule[];
  module: EngineRule[];
  reads: FactRead[];
}

/**
 * A module as @loadlight/plugin-modules declares it (every standard field): what the module
 * program is compiled ahead for, before the first module appears.
 */
const ANTICIPATED_MODULE_NAME = 'anticipated';
const ANTICIPATED_MODULE: readonly MetricInfo[] = MODULE_FIELDS.filter((field) => field !== 'name' && field !== 'tags').map((field) => ({
  name: `module.${ANTICIPATED_MODULE_NAME}.${field}`,
  unit: 'count',
  kind: 'gauge',
  description: '',
  plugin: '',
  module: { name: ANTICIPATED_MODULE_NAME, field },
}));

interface Outcome {
  entry: EngineEntry;
  module: string | undefined;
  passed: boolean;
  facts: Record<string, unknown>;
  /** Reference mode: json-rules-engine's result. */
  result: RuleResult | null;
  /** Compiled mode: the run and the rule's index in its program. */
  run: ProgramRun | null;
  program: RuleProgram | null;
  index: number;
}

const SEVERITY: Record<LoadLevel, number> = { green: 0, yellow: 1, red: 2 };

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function sameSignature(a: FileSignature | null, b: FileSignature): boolean {
  return a !== null && a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino;
}

/** The file's signature, or null when it does not exist. */
function signatureOf(file: string): FileSignature | null {
  const s = statSync(file, { throwIfNoEntry: false });
  return s ? { mtimeMs: s.mtimeMs, size: s.size, ino: s.ino } : null;
}

/** The message template of an alert rule's outcome. */
function alertMessage(outcome: Outcome): string {
  const event = outcome.entry.rule.definition.event;
  return event.type === 'alert' ? event.params.message : '';
}

/**
 * Drops a recommendation that blames no module when the same id blames one in this evaluation: a
 * rule file may give a general rule and a per-module refinement of it (the general one for
 * programs that profile no modules), and the one that names the module says more.
 */
function preferBlamed(recommendations: Recommendation[]): Recommendation[] {
  const blamed = new Set<string>();
  for (const r of recommendations) if (r.module !== undefined) blamed.add(r.id);
  if (blamed.size === 0) return recommendations;
  return recommendations.filter((r) => r.module !== undefined || !blamed.has(r.id));
}

/**
 * The rules stage: builds facts from the Store's windows, evaluates the rules on them, and turns
 * the events into load levels, recommendations and alerts (with hysteresis). json-rules-engine's
 * answers are the ground truth: the rules run compiled (compile.ts), with the same results, order
 * and evidence, and facts are computed only where the rules in force read them. Rule files are
 * re-read when they change; a bad edit keeps the last good rules in force and sets `error`.
 */
export class RulesStage {
  private readonly options: RulesStageOptions;
  private watched: WatchedFile[] = [];
  private compiled: Compiled | null = null;
  private loaded = false;
  private readonly alerts = new AlertTracker();
  private queue: Promise<unknown> = Promise.resolve();
  /** Evaluations started and not settled (the queue is idle at 0). */
  private inFlight = 0;
  private changes = 0;
  private plan: FactPlan | null = null;
  private last: RulesStageDebug['last'] = null;
  /** Compiled programs by their rules (`programOf`): those in force, and `ahead`. */
  private readonly programs = new Map<string, Program>();
  private readonly ruleIds = new WeakMap<LoadedRule, number>();
  private nextRuleId = 0;
  /** The module program compiled at load for the module metrics to come (`precompile`). */
  private ahead: Program | null = null;

  constructor(options: RulesStageOptions) {
    this.options = { ...options, files: [...new Set(options.files)] };
  }

  /** The message of the last rejected edit, per file, or null when every file's latest content is in force. */
  get error(): string | null {
    const errors = this.watched.flatMap((w) => (w.error ? [w.error] : []));
    return errors.length ? errors.join('\n') : null;
  }

  /** The rule files in force, with the hash of their content. */
  get files(): Array<{ file: string; sha256: string; rules: number }> {
    return this.watched.flatMap((w) => (w.loaded ? [{ file: w.file, sha256: w.loaded.sha256, rules: w.loaded.rules.length }] : []));
  }

  /** Reads and validates every rule file. Throws `RULES_NOT_FOUND` or `RULES_INVALID` naming every problem. */
  async load(): Promise<void> {
    const index = new FactIndex(this.options.store.catalogue());
    const watched: WatchedFile[] = [];
    const problems: LoadlightError[] = [];
    for (const file of this.options.files) {
      let signature: FileSignature | null = null;
      try {
        // stat before reading: an edit made during the read is seen at the next evaluate()
        try {
          signature = signatureOf(file);
        } catch {
          signature = null;
        }
        const loaded = await loadRuleFile(file, index);
        watched.push({ file, loaded, signature, rejectedSha256: null, error: null });
      } catch (error) {
        problems.push(isLoadlightError(error) ? error : new LoadlightError('RULES_INVALID', `${file}: ${describeError(error)}`, { file, cause: error }));
      }
    }
    if (problems.length) {
      const notFound = problems.find((p) => p.code === 'RULES_NOT_FOUND');
      const first = notFound ?? problems[0]!;
      throw new LoadlightError(notFound ? 'RULES_NOT_FOUND' : 'RULES_INVALID', problems.map((p) => p.message).join('\n'), {
        ...(first.file !== undefined ? { file: first.file } : {}),
        cause: problems.length === 1 ? first : problems,
      });
    }
    this.watched = watched;
    this.compiled = null;
    this.changes++;
    await this.precompile();
    // Only now: the load-time runs share the FactPlan an evaluation would use (one at a time).
    this.loaded = true;
  }

  /**
   * Runs the rules on the facts of the window ending at `t` (re-reading edited files first when
   * watching). Calls are serialised: alert state advances one evaluation at a time.
   */
  evaluate(t: number): Promise<Evaluation> {
    const run = this.queue.then(() => this.evaluateNow(t));
    this.track(run);
    return run;
  }

  /**
   * `evaluate(t)`, synchronously when it can be: no evaluation is in flight and every run knows
   * its order (all but the first evaluations of a new shape). Returns the Evaluation then (or
   * throws), else a Promise, serialised as `evaluate()` is. The profiler's tick uses it, so that
   * the rules run inside its own synchronous slice.
   */
  evaluateSoon(t: number): Evaluation | Promise<Evaluation> {
    if (this.inFlight > 0) return this.evaluate(t);
    const result = this.evaluateNow(t);
    if (result instanceof Promise) this.track(result);
    return result;
  }

  /**
   * A number that changes whenever the rules in force or `error` may have changed (a file
   * re-read, rejected, removed): callers compare it instead of `files` and `error`.
   */
  get revision(): number {
    return this.changes;
  }

  private track(run: Promise<unknown>): void {
    this.inFlight++;
    const settled = () => {
      this.inFlight--;
    };
    this.queue = run.then(settled, settled);
  }

  /** Every fact path usable in rules, with units and availability. */
  factCatalogue(): FactCatalogueEntry[] {
    return factCatalogue(this.options.store);
  }

  /** The rules in force, and whether each can run now. */
  rules(): ReadonlyArray<RuleInfo> {
    const compiled = this.compile();
    return this.allRules().map((rule) => {
      const reason = compiled.inactive.get(rule);
      const { conditions, event } = rule.definition;
      const info: RuleInfo = { file: rule.file, name: rule.name, description: rule.description, type: rule.type, active: reason === undefined, conditions, event };
      if (reason !== undefined) info.inactiveReason = reason;
      return info;
    });
  }

  activeAlerts(): ActiveAlert[] {
    return this.alerts.active();
  }

  /** How the rules run: compiled or by json-rules-engine, fallbacks, and the last evaluation's cost. */
  get debug(): RulesStageDebug {
    const engine = this.options.engine ?? 'compiled';
    const compiled = this.compiled;
    const programs = compiled ? [compiled.global, compiled.module].filter((p): p is Program => p !== null) : [];
    const replayed = new Set(programs);
    if (this.ahead) replayed.add(this.ahead);
    const fallback = programs.flatMap(({ program, entries }) =>
      program.fallback.map(({ index, reason }) => ({ file: entries[index]!.rule.file, rule: entries[index]!.rule.name, role: entries[index]!.role, reason })),
    );
    return {
      engine,
      compiled: programs.reduce((n, { program }) => n + program.size, 0) - fallback.length,
      fallback,
      ordersComputed: [...replayed].reduce((n, { program }) => n + program.ordersComputed, 0),
      last: this.last && { ...this.last },
    };
  }

  private allRules(): LoadedRule[] {
    return this.watched.flatMap((w) => w.loaded?.rules ?? []);
  }

  /** Why a rule cannot run with the metrics declared now, or undefined when it can. */
  private inactiveReason(rule: LoadedRule, index: FactIndex): string | undefined {
    for (const { fact, path } of rule.references) {
      if (!index.isLoaded(fact)) {
        if (fact === 'module') return 'no module metrics declared yet: it runs once per profiled module';
        const plugin = STANDARD_FACTS[fact];
        return plugin ? `no ${fact}.* metrics declared: load ${plugin}` : `unknown fact "${fact}"`;
      }
      if (path === undefined || index.isDeclared(fact, path)) continue;
      const paths = index.knownPaths(fact);
      if (paths && !paths.includes(path)) return `unknown path "${path}" for fact "${fact}"`;
      if (fact === 'module') return `no module declares the field "${path.slice(2)}"`;
      const plugin = STANDARD_FACTS[fact];
      const metric = `${fact}.${path.slice(2)}`;
      return `metric "${metric}" is not declared${plugin ? ` (is it turned off in ${plugin}'s options?)` : ''}`;
    }
    return undefined;
  }

  /** Engines (or programs) for the rules in force and the metrics declared now; rebuilt when either changes. */
  private compile(): Compiled {
    const store = this.options.store;
    if (this.compiled && this.compiled.index.metricCount === store.metricCount) return this.compiled;
    const index = new FactIndex(store.catalogue());
    const active = this.activeRules(index);
    let globalEngine: Engine | null = null;
    let moduleEngine: Engine | null = null;
    const entries = new Map<string, EngineEntry>();
    let global: Program | null = null;
    let module: Program | null = null;
    if (this.options.engine === 'json-rules-engine') {
      for (const [list, perModule] of [
        [active.global, false],
        [active.module, true],
      ] as const) {
        for (const { entry, properties } of list) {
          entries.set(String(properties.name), entry);
          let engine: Engine;
          if (perModule) engine = moduleEngine ??= new Engine([], ENGINE_OPTIONS);
          else engine = globalEngine ??= new Engine([], ENGINE_OPTIONS);
          engine.addRule(properties);
        }
      }
    } else {
      global = this.programOf(active.global);
      module = this.programOf(active.module);
      // Kept: the programs in force, and one compiled ahead (see `precompile`).
      const keep = new Set([global, module, this.ahead]);
      for (const [key, program] of this.programs) if (!keep.has(program)) this.programs.delete(key);
    }
    this.compiled = { index, inactive: active.inactive, entries, globalEngine, moduleEngine, global, module, reads: active.reads };
    this.plan = null;
    return this.compiled;
  }

  /** The rules that can run with the metrics of `index`, as engine rules (global and per module), and what they read. */
  private activeRules(index: FactIndex): ActiveRules {
    const active: ActiveRules = { inactive: new Map(), global: [], module: [], reads: [] };
    let n = 0;
    for (const rule of this.allRules()) {
      const reason = this.inactiveReason(rule, index);
      if (reason !== undefined) {
        active.inactive.set(rule, reason);
        continue;
      }
      active.reads.push(...rule.references);
      const event = rule.definition.event;
      if (event.type !== 'load-level') active.reads.push(...placeholders(event.params.message).map(({ fact, path }) => ({ fact, path })));
      const id = `r${n++}`;
      const priority = rule.definition.priority ?? 1;
      // The engine knows rules by an internal id: names are unique per file only.
      const add = (name: string, role: EngineEntry['role'], conditions: unknown) => {
        const properties: RuleProperties = { name, priority, conditions: conditions as EngineCondition, event: { type: role } };
        (rule.perModule ? active.module : active.global).push({ entry: { rule, role }, properties });
      };
      add(id, 'raise', rule.definition.conditions);
      if (event.type === 'alert' && event.params.clearWhen) add(`${id}:clear`, 'clear', event.params.clearWhen);
    }
    return active;
  }

  /**
   * The program of these engine rules: compiled once for the same rules in the same roles (when
   * module metrics arrive, the global rules' program and the orders it learnt stay).
   */
  private programOf(list: readonly EngineRule[]): Program | null {
    if (list.length === 0) return null;
    let key = '';
    for (const { entry } of list) {
      let id = this.ruleIds.get(entry.rule);
      if (id === undefined) this.ruleIds.set(entry.rule, (id = this.nextRuleId++));
      key += `${id}${entry.role === 'raise' ? '+' : '-'},`;
    }
    const cached = this.programs.get(key);
    if (cached) return cached;
    const made: Program = {
      program: new RuleProgram(
        list.map(({ properties }) => ({ name: String(properties.name), priority: properties.priority, conditions: properties.conditions })),
        { plainData: true }, // facts from the Store, values from JSON rule files
      ),
      entries: list.map(({ entry }) => entry),
    };
    this.programs.set(key, made);
    return made;
  }

  /**
   * One-off work done at load rather than at the first evaluations: the programs for the metrics
   * declared now, and the module program as it will be once modules declare the fields
   * @loadlight/plugin-modules gives them (modules usually appear at the first samples); each
   * run once on facts of the evaluations' shape, so that it knows its order (`RuleProgram.run`).
   * Nothing else changes: outcomes come from evaluations alone.
   */
  private async precompile(): Promise<void> {
    this.ahead = null; // the rules were (re)loaded: a program compiled ahead for the old ones is stale
    if (this.options.engine === 'json-rules-engine') return;
    try {
      await this.warm();
    } catch {
      // A run that fails on these facts fails at an evaluation too, and is reported there.
    }
  }

  private async warm(): Promise<void> {
    const { store, windowSeconds } = this.options;
    const catalogue = store.catalogue();
    const compiled = this.compile();
    this.plan = new FactPlan(store, compiled.reads);
    const facts = this.plan.build(windowSeconds, store.latestTime() ?? store.originT);
    // The programs in force, as an evaluation runs them (the module program once per module present).
    await this.runPrograms(compiled, facts, []);
    if (facts.modules.size > 0) return;
    // No module yet: the module program as plugin-modules' fields will make it, on a module fact like theirs.
    const anticipated = new FactIndex([...catalogue, ...ANTICIPATED_MODULE]);
    this.ahead = this.programOf(this.activeRules(anticipated).module);
    if (this.ahead) {
      const moduleFacts = Object.assign({}, facts.global);
      moduleFacts.module = { name: ANTICIPATED_MODULE_NAME, tags: [] };
      await this.ahead.program.run(moduleFacts);
    }
  }

  /**
   * Re-reads files whose mtime, size or inode changed; swaps in good edits, records bad ones.
   * Synchronous: a stat per file (and a read only of a changed one), so that an evaluation never
   * waits on the thread pool, and nothing else runs in the middle of it.
   */
  private refresh(): void {
    let changed = false;
    // What rules may reference: built only to check an edited file.
    let index: FactIndex | null = null;
    const indexNow = () => (index ??= new FactIndex(this.options.store.catalogue()));
    for (const w of this.watched) {
      const loaded = w.loaded;
      const error = w.error;
      this.refreshFile(w, indexNow);
      if (w.loaded !== loaded) changed = true;
      if (w.loaded !== loaded || w.error !== error) this.changes++;
    }
    if (changed) {
      this.compiled = null;
      this.ahead = null; // compiled for the rules before the edit: it cannot match again
    }
  }

  private refreshFile(w: WatchedFile, index: () => FactIndex): void {
    let signature: FileSignature | null;
    try {
      signature = signatureOf(w.file);
    } catch {
      signature = null;
    }
    if (signature === null) {
      w.signature = null;
      w.error = `${w.file}: rule file not found; the last good rules stay in force`;
      w.rejectedSha256 = null;
      return;
    }
    if (sameSignature(w.signature, signature)) return;
    w.signature = signature;
    let text: string;
    try {
      text = readFileSync(w.file, 'utf8');
    } catch (error) {
      w.signature = null; // try again next time
      w.error = `${w.file}: cannot read the rule file: ${describeError(error)}`;
      return;
    }
    const hash = sha256(text);
    if (w.loaded && hash === w.loaded.sha256) {
      w.error = null;
      w.rejectedSha256 = null;
      return;
    }
    if (hash === w.rejectedSha256) return;
    try {
      w.loaded = parseRuleFile(w.file, text, index());
      w.error = null;
      w.rejectedSha256 = null;
    } catch (error) {
      w.error = describeError(error);
      w.rejectedSha256 = hash;
    }
  }

  /** Reference mode: one json-rules-engine run. */
  private async run(engine: Engine, facts: Record<string, unknown>, module: string | undefined, entries: Map<string, EngineEntry>, out: Outcome[]) {
    const { results, failureResults } = await engine.run(facts);
    for (const [list, passed] of [
      [results, true],
      [failureResults, false],
    ] as const) {
      for (const result of list) {
        const entry = entries.get(String(result.name));
        if (entry) out.push({ entry, module, passed, facts, result, run: null, program: null, index: -1 });
      }
    }
  }

  /**
   * Compiled mode: one program run. Failures of rules other than alerts are left out: nothing
   * reads them (an alert's failure is its clear signal).
   */
  private runProgram(program: Program, facts: Record<string, unknown>, module: string | undefined, out: Outcome[]): Promise<void> | undefined {
    const run = program.program.run(facts);
    // synchronous once the program knows the order of this evaluation's shape
    if (run instanceof Promise) return run.then((done) => this.collect(program, done, module, out));
    this.collect(program, run, module, out);
    return undefined;
  }

  private collect({ program, entries }: Program, run: ProgramRun, module: string | undefined, out: Outcome[]): void {
    const facts = run.facts;
    // indexed loops on the per-evaluation paths: `for...of` walks the iterator protocol in the interpreter a 1 Hz tick runs in
    const { results, failureResults } = run;
    for (let i = 0; i < results.length; i++) {
      const index = results[i]!;
      out.push({ entry: entries[index]!, module, passed: true, facts, result: null, run, program, index });
    }
    for (let i = 0; i < failureResults.length; i++) {
      const index = failureResults[i]!;
      const entry = entries[index]!;
      if (entry.rule.type === 'alert') out.push({ entry, module, passed: false, facts, result: null, run, program, index });
    }
  }

  private evidence(outcome: Outcome): Evidence {
    const evidence: Evidence = {
      rule: outcome.entry.rule.name,
      file: outcome.entry.rule.file,
      windowSeconds: this.options.windowSeconds,
      conditions: [],
    };
    if (outcome.module !== undefined) evidence.module = outcome.module;
    evidence.conditions = outcome.result ? collectConditions(outcome.result.conditions) : outcome.program!.evidence(outcome.run!, outcome.index);
    return evidence;
  }

  /** The facts of the window ending at `t`: every metric (reference mode), or what the rules read. */
  private facts(compiled: Compiled, t: number): Facts {
    const { store, windowSeconds } = this.options;
    if (this.options.engine === 'json-rules-engine') {
      const catalogue = store.catalogue();
      this.last = { windows: catalogue.filter((info) => !info.unavailable && placeOf(info).kind !== 'none').length, metrics: catalogue.length, runs: 0 };
      return buildFacts(store, windowSeconds, t);
    }
    // Rebuilt when a metric is declared or re-declared (a module's tags changed).
    if (!this.plan || !this.plan.fits(store)) this.plan = new FactPlan(store, compiled.reads);
    const facts = this.plan.build(windowSeconds, t);
    this.last = { windows: 0, metrics: store.metricCount, runs: 0 };
    return facts;
  }

  /**
   * One evaluation: synchronous (an Evaluation) unless a run must wait (the reference engine, or
   * the first time a program sees an evaluation shape: a Promise then).
   */
  private evaluateNow(t: number): Evaluation | Promise<Evaluation> {
    if (!this.loaded) throw new LoadlightError('PROFILER_STATE', 'RulesStage.evaluate() was called before load()');
    if (this.options.watch) {
      const before = this.compiled?.index.metricCount;
      this.refresh();
      // Metrics declared since: a rejected edit may now be valid, so read it again.
      if (before !== undefined && before !== this.options.store.metricCount) {
        for (const w of this.watched) {
          if (w.rejectedSha256) {
            w.signature = null;
            w.rejectedSha256 = null;
          }
        }
        this.refresh();
      }
    }
    const compiled = this.compile();
    const facts = this.facts(compiled, t);
    const outcomes: Outcome[] = [];
    if (compiled.globalEngine || compiled.moduleEngine) {
      return this.runReference(compiled, facts, outcomes).then((runs) => this.conclude(t, outcomes, runs));
    }
    const runs = (compiled.global ? 1 : 0) + (compiled.module ? facts.modules.size : 0);
    const pending = this.runPrograms(compiled, facts, outcomes);
    return pending ? pending.then(() => this.conclude(t, outcomes, runs)) : this.conclude(t, outcomes, runs);
  }

  /** Reference mode: one engine run for the global rules, one per module. */
  private async runReference(compiled: Compiled, facts: Facts, outcomes: Outcome[]): Promise<number> {
    let runs = 0;
    if (compiled.globalEngine) {
      await this.run(compiled.globalEngine, facts.global, undefined, compiled.entries, outcomes);
      runs++;
    }
    if (compiled.moduleEngine) {
      for (const [name, moduleFact] of facts.modules) {
        await this.run(compiled.moduleEngine, { ...facts.global, module: moduleFact }, name, compiled.entries, outcomes);
        runs++;
      }
    }
    return runs;
  }

  /** Compiled mode: the global program, then the module program once per module, in order; a Promise only when a run must wait. */
  private runPrograms(compiled: Compiled, facts: Facts, outcomes: Outcome[]): Promise<void> | undefined {
    const modules = facts.modules.entries();
    const next = (): Promise<void> | undefined => {
      if (!compiled.module) return undefined;
      for (let entry = modules.next(); !entry.done; entry = modules.next()) {
        // (no destructuring: an array pattern walks the iterator protocol, costly in the interpreter a 1 Hz tick runs in)
        const name = entry.value[0];
        // the same object as `{ ...global, module }`; Object.assign copies far faster than a spread here
        const moduleFacts = Object.assign({}, facts.global);
        moduleFacts.module = entry.value[1];
        const pending = this.runProgram(compiled.module, moduleFacts, name, outcomes);
        if (pending) return pending.then(next);
      }
      return undefined;
    };
    const pending = compiled.global ? this.runProgram(compiled.global, facts.global, undefined, outcomes) : undefined;
    return pending ? pending.then(next) : next();
  }

  /** Levels, recommendations and alerts from the outcomes of the runs. */
  private conclude(t: number, outcomes: Outcome[], runs: number): Evaluation {
    // Levels in the order their subject first got one; by kind, then subject.
    const levels: LevelResult[] = [];
    const levelAt: Record<LevelResult['kind'], Map<string, number>> = { process: new Map(), system: new Map(), module: new Map() };
    const recommendations: Recommendation[] = [];
    const seenRecommendations = new Set<string>();
    const raised = new Map<string, Outcome>(); // `${rule id}|${module}` -> raise outcome
    const cleared = new Map<string, boolean>();
    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i]!;
      const { rule, role } = outcome.entry;
      const event = rule.definition.event;
      if (event.type === 'alert') {
        const key = `${rule.file}#${rule.index}|${outcome.module ?? ''}`;
        if (role === 'raise') raised.set(key, outcome);
        else cleared.set(key, outcome.passed);
        continue;
      }
      if (!outcome.passed) continue;
      if (event.type === 'load-level') {
        const subject = outcome.module ?? event.params.subject ?? 'process';
        const kind: LevelResult['kind'] = outcome.module !== undefined ? 'module' : (event.params.subject ?? 'process');
        const at = levelAt[kind].get(subject);
        if (at === undefined) {
          levelAt[kind].set(subject, levels.length);
          levels.push({ subject, kind, level: event.params.level, evidence: this.evidence(outcome) });
        } else if (SEVERITY[event.params.level] > SEVERITY[levels[at]!.level]) {
          levels[at] = { subject, kind, level: event.params.level, evidence: this.evidence(outcome) };
        }
      } else {
        const dedupe = `${event.params.id}|${outcome.module ?? ''}`;
        if (seenRecommendations.has(dedupe)) continue;
        seenRecommendations.add(dedupe);
        const recommendation: Recommendation = {
          id: event.params.id,
          priority: event.params.priority as Priority,
          message: fillMessage(event.params.message, outcome.facts),
          evidence: this.evidence(outcome),
        };
        if (outcome.module !== undefined) recommendation.module = outcome.module;
        if (event.params.action !== undefined) recommendation.action = event.params.action;
        recommendations.push(recommendation);
      }
    }

    // Per alert key: the outcome its message and raise evidence come from (the first rule that
    // raises it, else the first rule), and the clear outcome of a resolution (its first
    // `clearWhen`, else that same outcome). Messages and evidence are built only if needed.
    const observations = new Map<string, AlertObservation>();
    const sources = new Map<string, { raise: Outcome; clear: Outcome | null }>();
    for (const [ruleKey, outcome] of raised) {
      const rule = outcome.entry.rule;
      const event = rule.definition.event;
      if (event.type !== 'alert') continue;
      const clear = event.params.clearWhen ? (cleared.get(ruleKey) ?? false) : !outcome.passed;
      const key = outcome.module !== undefined ? `${event.params.id}:${outcome.module}` : event.params.id;
      const previous = observations.get(key);
      // Several rules may feed one alert: it is raised when any raises, cleared when all clear.
      if (previous) {
        previous.clear &&= clear;
        if (outcome.passed && !previous.raise) {
          previous.raise = true;
          sources.get(key)!.raise = outcome;
        }
        continue;
      }
      const source = { raise: outcome, clear: null as Outcome | null };
      sources.set(key, source);
      const observation: AlertObservation = {
        key,
        id: event.params.id,
        severity: event.params.severity as AlertSeverity,
        message: () => fillMessage(alertMessage(source.raise), source.raise.facts),
        raise: outcome.passed,
        clear,
        forMs: rule.forMs,
        keepFiringForMs: rule.keepFiringForMs,
        raiseEvidence: () => this.evidence(source.raise),
        clearEvidence: () => this.evidence(source.clear ?? source.raise),
      };
      if (outcome.module !== undefined) observation.module = outcome.module;
      observations.set(key, observation);
    }
    // The clear outcome is the evidence of a resolution.
    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i]!;
      if (outcome.entry.role !== 'clear') continue;
      const event = outcome.entry.rule.definition.event;
      if (event.type !== 'alert') continue;
      const key = outcome.module !== undefined ? `${event.params.id}:${outcome.module}` : event.params.id;
      const source = sources.get(key);
      if (source && !source.clear) source.clear = outcome;
    }

    const transitions = this.alerts.step(t, observations);
    if (this.last) {
      this.last.runs = runs;
      // windows are computed as rules and messages read them, up to here
      if (this.options.engine !== 'json-rules-engine' && this.plan) this.last.windows = this.plan.windows;
    }
    return { t, levels, recommendations: preferBlamed(recommendations), alerts: this.alerts.active(), transitions };
  }
}
