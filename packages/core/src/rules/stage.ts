import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
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
  Priority,
  Recommendation,
} from '../types.js';
import { AlertTracker, type AlertObservation } from './alerts.js';
import { FactIndex, STANDARD_FACTS, buildFacts, factCatalogue, fillMessage, resolvePath, type FactCatalogueEntry } from './facts.js';
import { loadRuleFile, parseRuleFile, type LoadedRule, type LoadedRuleFile, type RuleType } from './load.js';

export interface RulesStageOptions {
  /** Absolute paths of the rule files. */
  files: string[];
  /** The window facts are built over. */
  windowSeconds: number;
  /** Where facts come from: `catalogue()` and `window()`. */
  store: Store;
  /** Re-read changed files at each `evaluate()` (by mtime, size and inode). */
  watch: boolean;
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

interface Compiled {
  index: FactIndex;
  inactive: Map<LoadedRule, string>;
  entries: Map<string, EngineEntry>;
  globalEngine: Engine | null;
  moduleEngine: Engine | null;
}

interface Outcome {
  entry: EngineEntry;
  module: string | undefined;
  passed: boolean;
  result: RuleResult;
  facts: Record<string, unknown>;
}

const SEVERITY: Record<LoadLevel, number> = { green: 0, yellow: 1, red: 2 };

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function sameSignature(a: FileSignature | null, b: FileSignature): boolean {
  return a !== null && a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino;
}

async function signatureOf(file: string): Promise<FileSignature> {
  const s = await stat(file);
  return { mtimeMs: s.mtimeMs, size: s.size, ino: s.ino };
}

/** The leaves of json-rules-engine's evaluated condition tree: fact, operator, threshold, value seen. */
function collectConditions(node: unknown, out: Evidence['conditions']): void {
  if (node === null || typeof node !== 'object') return;
  const condition = node as Record<string, unknown>;
  for (const key of ['all', 'any'] as const) {
    if (Array.isArray(condition[key])) {
      for (const child of condition[key] as unknown[]) collectConditions(child, out);
      return;
    }
  }
  if (condition.not !== undefined && typeof condition.not === 'object') {
    collectConditions(condition.not, out);
    return;
  }
  if (typeof condition.fact !== 'string') return;
  out.push({
    fact: condition.fact,
    ...(typeof condition.path === 'string' ? { path: condition.path } : {}),
    operator: String(condition.operator),
    threshold: condition.valueResult !== undefined ? condition.valueResult : condition.value,
    // undefined: json-rules-engine skipped the condition (short-circuit), or the fact is missing
    value: condition.factResult === undefined ? null : condition.factResult,
  });
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
 * The rules stage: builds facts from the Store's windows, runs json-rules-engine on them, and
 * turns the events into load levels, recommendations and alerts (with hysteresis). The engine's
 * answers are the ground truth. Rule files are re-read when they change; a bad edit keeps the last
 * good rules in force and sets `error`.
 */
export class RulesStage {
  private readonly options: RulesStageOptions;
  private watched: WatchedFile[] = [];
  private compiled: Compiled | null = null;
  private loaded = false;
  private readonly alerts = new AlertTracker();
  private queue: Promise<unknown> = Promise.resolve();

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
        signature = await signatureOf(file).catch(() => null);
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
    this.loaded = true;
  }

  /**
   * Runs the rules on the facts of the window ending at `t` (re-reading edited files first when
   * watching). Calls are serialised: alert state advances one evaluation at a time.
   */
  evaluate(t: number): Promise<Evaluation> {
    const run = this.queue.then(() => this.evaluateNow(t));
    this.queue = run.catch(() => undefined);
    return run;
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
      const info: RuleInfo = { file: rule.file, name: rule.name, description: rule.description, type: rule.type, active: reason === undefined };
      if (reason !== undefined) info.inactiveReason = reason;
      return info;
    });
  }

  activeAlerts(): ActiveAlert[] {
    return this.alerts.active();
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

  /** Engines for the rules in force and the metrics declared now; rebuilt when either changes. */
  private compile(): Compiled {
    const store = this.options.store;
    if (this.compiled && this.compiled.index.metricCount === store.metricCount) return this.compiled;
    const index = new FactIndex(store.catalogue());
    const inactive = new Map<LoadedRule, string>();
    const entries = new Map<string, EngineEntry>();
    const engineOptions = { allowUndefinedFacts: true, pathResolver: resolvePath };
    let globalEngine: Engine | null = null;
    let moduleEngine: Engine | null = null;
    let n = 0;
    for (const rule of this.allRules()) {
      const reason = this.inactiveReason(rule, index);
      if (reason !== undefined) {
        inactive.set(rule, reason);
        continue;
      }
      let engine: Engine;
      if (rule.perModule) engine = moduleEngine ??= new Engine([], engineOptions);
      else engine = globalEngine ??= new Engine([], engineOptions);
      const id = `r${n++}`;
      const priority = rule.definition.priority ?? 1;
      // The engine knows rules by an internal id: names are unique per file only.
      const add = (name: string, role: EngineEntry['role'], conditions: unknown) => {
        entries.set(name, { rule, role });
        const properties: RuleProperties = { name, priority, conditions: conditions as EngineCondition, event: { type: role } };
        engine.addRule(properties);
      };
      add(id, 'raise', rule.definition.conditions);
      const event = rule.definition.event;
      if (event.type === 'alert' && event.params.clearWhen) add(`${id}:clear`, 'clear', event.params.clearWhen);
    }
    this.compiled = { index, inactive, entries, globalEngine, moduleEngine };
    return this.compiled;
  }

  /** Re-reads files whose mtime, size or inode changed; swaps in good edits, records bad ones. */
  private async refresh(): Promise<void> {
    let changed = false;
    const index = new FactIndex(this.options.store.catalogue());
    for (const w of this.watched) {
      let signature: FileSignature;
      try {
        signature = await signatureOf(w.file);
      } catch {
        w.signature = null;
        w.error = `${w.file}: rule file not found; the last good rules stay in force`;
        w.rejectedSha256 = null;
        continue;
      }
      if (sameSignature(w.signature, signature)) continue;
      w.signature = signature;
      let text: string;
      try {
        text = await readFile(w.file, 'utf8');
      } catch (error) {
        w.signature = null; // try again next time
        w.error = `${w.file}: cannot read the rule file: ${describeError(error)}`;
        continue;
      }
      const hash = sha256(text);
      if (w.loaded && hash === w.loaded.sha256) {
        w.error = null;
        w.rejectedSha256 = null;
        continue;
      }
      if (hash === w.rejectedSha256) continue;
      try {
        w.loaded = parseRuleFile(w.file, text, index);
        w.error = null;
        w.rejectedSha256 = null;
        changed = true;
      } catch (error) {
        w.error = describeError(error);
        w.rejectedSha256 = hash;
      }
    }
    if (changed) this.compiled = null;
  }

  private async run(engine: Engine, facts: Record<string, unknown>, module: string | undefined, entries: Map<string, EngineEntry>, out: Outcome[]) {
    const { results, failureResults } = await engine.run(facts);
    for (const [list, passed] of [
      [results, true],
      [failureResults, false],
    ] as const) {
      for (const result of list) {
        const entry = entries.get(String(result.name));
        if (entry) out.push({ entry, module, passed, result, facts });
      }
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
    collectConditions(outcome.result.conditions, evidence.conditions);
    return evidence;
  }

  private async evaluateNow(t: number): Promise<Evaluation> {
    if (!this.loaded) throw new LoadlightError('PROFILER_STATE', 'RulesStage.evaluate() was called before load()');
    if (this.options.watch) {
      const before = this.compiled?.index.metricCount;
      await this.refresh();
      // Metrics declared since: a rejected edit may now be valid, so read it again.
      if (before !== undefined && before !== this.options.store.metricCount) {
        for (const w of this.watched) {
          if (w.rejectedSha256) {
            w.signature = null;
            w.rejectedSha256 = null;
          }
        }
        await this.refresh();
      }
    }
    const compiled = this.compile();
    const facts = buildFacts(this.options.store, this.options.windowSeconds, t);
    const outcomes: Outcome[] = [];
    if (compiled.globalEngine) await this.run(compiled.globalEngine, facts.global, undefined, compiled.entries, outcomes);
    if (compiled.moduleEngine) {
      // One engine run per module; a later optimisation must give the same answers.
      for (const [name, moduleFact] of facts.modules) {
        await this.run(compiled.moduleEngine, { ...facts.global, module: moduleFact }, name, compiled.entries, outcomes);
      }
    }

    const levels = new Map<string, LevelResult>();
    const recommendations: Recommendation[] = [];
    const seenRecommendations = new Set<string>();
    const raised = new Map<string, Outcome>(); // `${rule id}|${module}` -> raise outcome
    const cleared = new Map<string, boolean>();
    for (const outcome of outcomes) {
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
        const current = levels.get(`${kind}:${subject}`);
        if (!current || SEVERITY[event.params.level] > SEVERITY[current.level]) {
          levels.set(`${kind}:${subject}`, { subject, kind, level: event.params.level, evidence: this.evidence(outcome) });
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

    const observations = new Map<string, AlertObservation>();
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
          previous.message = fillMessage(event.params.message, outcome.facts);
          previous.raiseEvidence = this.evidence(outcome);
        }
        continue;
      }
      const observation: AlertObservation = {
        key,
        id: event.params.id,
        severity: event.params.severity as AlertSeverity,
        message: fillMessage(event.params.message, outcome.facts),
        raise: outcome.passed,
        clear,
        forMs: rule.forMs,
        keepFiringForMs: rule.keepFiringForMs,
        raiseEvidence: this.evidence(outcome),
        clearEvidence: null,
      };
      if (outcome.module !== undefined) observation.module = outcome.module;
      observations.set(key, observation);
    }
    // The clear outcome is the evidence of a resolution.
    for (const outcome of outcomes) {
      if (outcome.entry.role !== 'clear') continue;
      const event = outcome.entry.rule.definition.event;
      if (event.type !== 'alert') continue;
      const key = outcome.module !== undefined ? `${event.params.id}:${outcome.module}` : event.params.id;
      const observation = observations.get(key);
      if (observation && !observation.clearEvidence) observation.clearEvidence = this.evidence(outcome);
    }
    for (const observation of observations.values()) observation.clearEvidence ??= observation.raiseEvidence;

    const transitions = this.alerts.step(t, observations);
    return { t, levels: [...levels.values()], recommendations: preferBlamed(recommendations), alerts: this.alerts.active(), transitions };
  }
}
