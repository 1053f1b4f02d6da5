import path from 'node:path';
import type { Tap } from 'tapable';
import { Actions } from './actions.js';
import { resolveConfig, normalizeConfig, type ConfigContext } from './config.js';
import { describeError, LoadlightError } from './errors.js';
import { callTap, createHooks, withTimeout, type HookName, type ProfilerHooks, type RegisteredTap } from './hooks.js';
import { RulesStage } from './rules/index.js';
import { buildSession, type SessionRecords } from './session.js';
import { Store } from './store.js';
import type {
  ActiveAlert,
  AlertTransition,
  Evaluation,
  Fault,
  LoadlightConfig,
  MetricDeclaration,
  MetricInfo,
  Overhead,
  Plugin,
  ResolvedConfig,
  Sample,
  SampleWriter,
  SessionProfile,
  Snapshot,
  SnapshotMetric,
} from './types.js';

export interface ProfilerOptions extends ConfigContext {
  /** Stop (and so export the session) on SIGINT, SIGTERM and `beforeExit`. Default true. */
  handleExit?: boolean;
  /** Where `warn()` writes. Default: process.stderr. */
  warn?: (message: string) => void;
}

type Phase = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

const MAX_TIMELINE = 10_000;
/** `stop()` takes a last sample when this fraction of an interval (or 100 ms) passed since the last. */
const FINAL_SAMPLE_MIN_FRACTION = 0.2;
const FINAL_SAMPLE_MAX_GAP_MS = 100;
const ISOLATED_ASYNC: HookName[] = ['start', 'collect', 'report', 'stop', 'export'];
const ISOLATED_SYNC: HookName[] = ['sample', 'evaluated', 'alert'];

/**
 * The core: owns the hooks, the Store, the rules stage and the tick. Plugins tap its hooks.
 *
 * ```ts
 * const profiler = new Profiler({ plugins: [system()], reporters: [json()] });
 * await profiler.start();
 * const session = await profiler.stop();
 * ```
 */
export class Profiler {
  readonly hooks: ProfilerHooks = createHooks();
  readonly sessionId: string;
  readonly startedAt: number;
  /** Available after `start()` resolved the plugins; before that, plugin lists are empty. */
  config: ResolvedConfig;
  readonly store: Store;
  /** Actions the program registers; recommendations name them, `run(id)` applies one. */
  readonly actions: Actions = new Actions(this);

  private readonly input: LoadlightConfig;
  private readonly context: ProfilerOptions;
  private phase: Phase = 'idle';
  private prepared = false;
  private rules: RulesStage | null = null;
  private row: Float64Array = new Float64Array(0);
  private timer: NodeJS.Timeout | null = null;
  private nextTickAt = 0;
  private tickInFlight: Promise<void> | null = null;
  private reportInFlight = false;
  private lastEvaluatedAt = -Infinity;
  private lastReportedAt = -Infinity;
  private latestEvaluation: Evaluation | null = null;
  private stopPromise: Promise<SessionProfile> | null = null;
  private lastRulesError: string | null = null;
  /** sha256 of each rule file in force at the last evaluation (null before the first). */
  private rulesInForce: Map<string, string> | null = null;
  private readonly faults = new Map<string, Fault>();
  private readonly warned = new Set<string>();
  private readonly records: SessionRecords = { recommendations: new Map(), alerts: [] };
  private readonly cpu = { micros: 0, ticks: 0 };
  private exitHandlers: Array<[string, (...args: unknown[]) => void]> = [];

  constructor(config: LoadlightConfig = {}, options: ProfilerOptions = {}) {
    this.context = options;
    this.input = config;
    // Validate once, synchronously: a wrong option fails here, before anything runs.
    this.config = normalizeConfig(config, options);
    this.sessionId = this.config.sessionId;
    this.startedAt = Date.now();
    this.store = new Store(this.config.maxSamples, this.startedAt);
    this.isolateHooks();
  }

  get running(): boolean {
    return this.phase === 'running';
  }

  /** The latest evaluation of the rules, or null before the first. */
  get evaluation(): Evaluation | null {
    return this.latestEvaluation;
  }

  /** Resolves plugins, declares metrics, applies plugins, loads rules, then starts ticking. */
  async start(): Promise<void> {
    if (this.phase !== 'idle') {
      throw new LoadlightError('PROFILER_STATE', `profiler "${this.sessionId}" was already started`);
    }
    this.phase = 'starting';
    try {
      await this.prepare();
      await this.hooks.start.promise();
    } catch (error) {
      this.phase = 'stopped';
      throw error;
    }
    this.phase = 'running';
    if (this.context.handleExit !== false) this.installExitHandlers();
    this.nextTickAt = Date.now();
    this.tickInFlight = this.tick();
  }

  /**
   * Everything `start()` checks, without sampling: resolves and applies the plugins (so their
   * metrics are declared) and loads the rules. `loadlight validate` uses it alone.
   */
  async prepare(): Promise<void> {
    if (this.prepared) return;
    this.prepared = true;
    this.config = await resolveConfig(this.input, this.context);
    const applied = new Set<Plugin>();
    for (const plugin of [...this.config.plugins, ...this.config.reporters]) {
      // One plugin object holds one state per profiler: listing it twice would tap every hook twice.
      if (applied.has(plugin)) {
        throw new LoadlightError('PLUGIN_ERROR', `plugin "${plugin.name}" is listed twice in the same profiler's plugins`, {
          plugin: plugin.name,
          hook: 'apply',
        });
      }
      applied.add(plugin);
      this.applyPlugin(plugin);
    }
    if (this.config.rules.length > 0) {
      this.rules = new RulesStage({
        files: this.config.rules,
        windowSeconds: this.config.windowSeconds,
        store: this.store,
        watch: this.config.watchRules,
      });
      await this.rules.load();
    }
  }

  /** Stops ticking, runs a final evaluation and the export hook; resolves with the session. */
  stop(): Promise<SessionProfile> {
    if (this.stopPromise) return this.stopPromise;
    if (this.phase === 'idle') {
      return Promise.reject(new LoadlightError('PROFILER_STATE', `profiler "${this.sessionId}" was never started`));
    }
    this.stopPromise = this.finish();
    return this.stopPromise;
  }

  private async finish(): Promise<SessionProfile> {
    const wasRunning = this.phase === 'running';
    this.phase = 'stopping';
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.tickInFlight;
    // A last sample, so that events since the last tick reach the session (unless the last tick
    // was moments ago: a very short interval would give noisy per-minute rates).
    const last = this.store.latestTime();
    const minGapMs = Math.min(this.config.sampleIntervalMs * FINAL_SAMPLE_MIN_FRACTION, FINAL_SAMPLE_MAX_GAP_MS);
    if (wasRunning && (last === null || Date.now() - last >= minGapMs)) {
      await this.tick(true);
    }
    await this.hooks.stop.promise();
    const lastT = this.store.latestTime();
    if (this.rules && lastT !== null && this.lastEvaluatedAt !== lastT) await this.evaluate(lastT);
    this.phase = 'stopped';
    const session = this.session();
    await this.hooks.export.promise(session);
    this.removeExitHandlers();
    return session;
  }

  /** Declares a metric known only at run time (a watched process, a new module). */
  declareMetric(name: string, declaration: MetricDeclaration, plugin: string): MetricInfo {
    const info: MetricInfo = { ...declaration, name, plugin };
    const index = this.store.declare(info);
    if (this.row.length <= index) {
      // Grow geometrically: declaring thousands of module metrics one by one must stay linear.
      const grown = new Float64Array(Math.max(16, index + 1, this.row.length * 2)).fill(NaN);
      grown.set(this.row);
      this.row = grown;
    }
    return info;
  }

  /** A metric the platform cannot give: always null, with the reason in the catalogue. */
  markUnavailable(name: string, reason: string): void {
    const info = this.store.info(name);
    if (!info) throw new LoadlightError('METRIC_INVALID', `cannot mark unknown metric "${name}" unavailable`);
    info.unavailable = reason;
  }

  /** Prints `[loadlight] message` once per distinct message. */
  warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    if (this.context.warn) this.context.warn(message);
    else process.stderr.write(`[loadlight] ${message}\n`);
  }

  /** Counts a fault of a plugin in a hook; the first of each kind is also a warning. */
  recordFault(plugin: string, hook: string, error: unknown): void {
    const message = describeError(error);
    const key = `${plugin}\u0000${hook}`;
    const now = Date.now();
    const fault = this.faults.get(key);
    if (fault) {
      fault.count++;
      fault.lastAt = now;
      fault.message = message;
      return;
    }
    this.faults.set(key, { plugin, hook, message, count: 1, firstAt: now, lastAt: now });
    this.warn(`plugin "${plugin}" failed in ${hook}: ${message} (further failures are counted in the session's faults)`);
  }

  /** The profiler's own cost so far. */
  overhead(): Overhead {
    const cpuMs = this.cpu.micros / 1000;
    const elapsedMs = Math.max(1, Date.now() - this.startedAt);
    return {
      cpuMs,
      cpuPercent: (cpuMs / elapsedMs) * 100,
      storeBytes: this.store.bytes,
      ticks: this.cpu.ticks,
      meanTickMs: this.cpu.ticks > 0 ? cpuMs / this.cpu.ticks : 0,
    };
  }

  /** What live reporters render: latest values, the latest evaluation, faults, overhead. */
  snapshot(): Snapshot {
    const t = this.store.latestTime() ?? Date.now();
    const metrics: Record<string, SnapshotMetric> = {};
    for (const info of this.store.catalogue()) {
      const value = info.derivedFrom ? this.store.window(info.name, this.config.windowSeconds).slopePerMinute : this.store.latest(info.name);
      const metric: SnapshotMetric = { name: info.name, unit: info.unit, value };
      if (info.module) metric.module = info.module.name;
      metrics[info.name] = metric;
    }
    return {
      sessionId: this.sessionId,
      t,
      startedAt: this.startedAt,
      uptimeMs: Date.now() - this.startedAt,
      samples: this.store.size,
      metrics,
      evaluation: this.latestEvaluation,
      faults: this.faultList(),
      rulesError: this.rules?.error ?? null,
      overhead: this.overhead(),
      actions: this.actions.list(),
    };
  }

  /** The session profile so far (complete once `stop()` resolved). */
  session(): SessionProfile {
    return buildSession({
      sessionId: this.sessionId,
      startedAt: this.startedAt,
      endedAt: Date.now(),
      config: this.config,
      store: this.store,
      rules: this.rules?.files ?? [],
      evaluation: this.latestEvaluation,
      records: this.records,
      overhead: this.overhead(),
      faults: this.faultList(),
      actions: this.actions.history(),
    });
  }

  /** Active (pending or firing) alerts. */
  activeAlerts(): ActiveAlert[] {
    return this.latestEvaluation?.alerts ?? [];
  }

  /** The rules stage, for tools that list rules and facts (`loadlight validate --facts`). */
  get rulesStage(): RulesStage | null {
    return this.rules;
  }

  private faultList(): Fault[] {
    return [...this.faults.values()].map((fault) => ({ ...fault }));
  }

  private applyPlugin(plugin: Plugin): void {
    for (const [name, declaration] of Object.entries(plugin.metrics ?? {})) this.declareMetric(name, declaration, plugin.name);
    try {
      plugin.apply(this);
    } catch (error) {
      throw new LoadlightError('PLUGIN_ERROR', `plugin "${plugin.name}" failed to apply: ${describeError(error)}`, {
        plugin: plugin.name,
        hook: 'apply',
        cause: error,
      });
    }
  }

  /** Every tap runs isolated: a throw, rejection or time-out is a fault of that plugin, never the profiler's. */
  private isolateHooks(): void {
    const timeoutMs = () => this.config.collectTimeoutMs;
    for (const name of ISOLATED_ASYNC) {
      const hook = this.hooks[name] as unknown as { intercept(i: { register(tap: Tap): Tap }): void };
      hook.intercept({
        register: (tap) => {
          const original = tap as RegisteredTap;
          const fn = async (...args: unknown[]) => {
            let callArgs = args;
            let writer: TapWriter | null = null;
            if (name === 'collect') {
              writer = new TapWriter(this, original.name, args[0] as SampleWriter);
              callArgs = [writer];
            }
            try {
              const running = callTap(original, callArgs);
              await (name === 'collect' || name === 'report' ? withTimeout(running, timeoutMs()) : running);
            } catch (error) {
              writer?.discard();
              this.recordFault(original.name, name, error);
            } finally {
              writer?.close();
            }
          };
          return { ...tap, type: 'promise', fn } as Tap;
        },
      });
    }
    for (const name of ISOLATED_SYNC) {
      const hook = this.hooks[name] as unknown as { intercept(i: { register(tap: Tap): Tap }): void };
      hook.intercept({
        register: (tap) => {
          const original = (tap as RegisteredTap).fn;
          const fn = (...args: unknown[]) => {
            try {
              original(...args);
            } catch (error) {
              this.recordFault(tap.name, name, error);
            }
          };
          return { ...tap, fn } as Tap;
        },
      });
    }
  }

  /** @internal the row being filled by this tick's collect taps. */
  writeValue(name: string, value: unknown, plugin: string): number | undefined {
    const index = this.store.indexOf(name);
    if (index === undefined) {
      this.recordFault(plugin, 'collect', new Error(`wrote undeclared metric "${name}"; declare it in the plugin's metrics`));
      return undefined;
    }
    if (value !== null && typeof value !== 'number') {
      this.recordFault(plugin, 'collect', new Error(`wrote ${typeof value} to metric "${name}"; expected a number or null`));
      return undefined;
    }
    if (this.store.catalogue()[index]!.unavailable) return undefined;
    this.row[index] = value === null || !Number.isFinite(value) ? NaN : value;
    return index;
  }

  /** @internal */
  clearValue(index: number): void {
    this.row[index] = NaN;
  }

  private schedule(): void {
    if (this.phase !== 'running') return;
    const interval = this.config.sampleIntervalMs;
    const now = Date.now();
    this.nextTickAt += interval;
    // Fell behind (a long block of the event loop): skip missed ticks, keep the phase.
    if (this.nextTickAt <= now) this.nextTickAt = now + interval - ((now - this.nextTickAt) % interval);
    this.timer = setTimeout(() => {
      this.tickInFlight = this.tick();
    }, this.nextTickAt - now);
    this.timer.unref();
  }

  private async tick(final = false): Promise<void> {
    if (this.phase !== 'running' && !final) return;
    const before = process.cpuUsage();
    let spent = 0;
    const t = Date.now();
    this.row.fill(NaN);
    const writer: SampleWriter = { t, set: () => undefined };
    const collecting = this.hooks.collect.promise(writer);
    spent += cpuSince(before);
    await collecting;

    const resumed = process.cpuUsage();
    const position = this.store.commit(t, this.row);
    if (this.hooks.sample.isUsed()) this.hooks.sample.call(this.sampleView(t, position));
    if (this.rules && t - this.lastEvaluatedAt >= this.config.evaluateEveryMs - 1) await this.evaluate(t);
    if (!final && this.hooks.report.isUsed() && !this.reportInFlight && t - this.lastReportedAt >= this.config.reportIntervalMs - 1) {
      this.lastReportedAt = t;
      this.reportInFlight = true;
      void this.hooks.report.promise(this.snapshot()).finally(() => {
        this.reportInFlight = false;
      });
    }
    spent += cpuSince(resumed);
    this.cpu.micros += spent;
    this.cpu.ticks++;
    this.schedule();
  }

  private async evaluate(t: number): Promise<void> {
    const rules = this.rules!;
    this.lastEvaluatedAt = t;
    let evaluation: Evaluation;
    try {
      evaluation = await rules.evaluate(t);
    } catch (error) {
      this.recordFault('rules', 'evaluate', error);
      return;
    }
    this.reportRuleChanges(rules);
    this.latestEvaluation = evaluation;
    this.recordEvaluation(evaluation);
    this.hooks.evaluated.call(evaluation);
    for (const transition of evaluation.transitions) this.hooks.alert.call(transition);
  }

  /** Says when edited rule files took effect, or were rejected (the last good rules then stay). */
  private reportRuleChanges(rules: RulesStage): void {
    const inForce = new Map(rules.files.map((f) => [f.file, f.sha256]));
    const changed = this.rulesInForce === null ? [] : [...inForce].filter(([file, sha]) => this.rulesInForce!.get(file) !== sha);
    this.rulesInForce = inForce;
    for (const [file, sha] of changed) {
      this.warn(`rules reloaded from ${path.relative(process.cwd(), file) || file} (sha256 ${sha.slice(0, 12)}): in force from this evaluation`);
    }
    if (rules.error === this.lastRulesError) return;
    this.lastRulesError = rules.error;
    if (rules.error) this.warn(`rule file edit rejected, the last good rules stay in force:\n${rules.error}`);
    else if (changed.length === 0) this.warn('rule files are valid again; the rules in force did not change');
  }

  private recordEvaluation(evaluation: Evaluation): void {
    const at = new Date(evaluation.t).toISOString();
    for (const recommendation of evaluation.recommendations) {
      const key = `${recommendation.id}\u0000${recommendation.module ?? ''}`;
      const seen = this.records.recommendations.get(key);
      if (seen) {
        seen.count++;
        seen.lastSeen = at;
        seen.message = recommendation.message;
        seen.evidence = recommendation.evidence;
      } else {
        this.records.recommendations.set(key, {
          id: recommendation.id,
          priority: recommendation.priority,
          message: recommendation.message,
          module: recommendation.module ?? null,
          rule: recommendation.evidence.rule,
          action: recommendation.action ?? null,
          firstSeen: at,
          lastSeen: at,
          count: 1,
          evidence: recommendation.evidence,
        });
      }
    }
    for (const transition of evaluation.transitions) {
      if (this.records.alerts.length >= MAX_TIMELINE) this.records.alerts.shift();
      this.records.alerts.push(transitionRecord(transition));
    }
  }

  private sampleView(t: number, position: number): Sample {
    const store = this.store;
    return { t, index: position, get: (name) => store.valueAt(name, position) };
  }

  private installExitHandlers(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      void this.stop()
        .catch((error: unknown) => this.warn(`could not finish the session on ${signal}: ${describeError(error)}`))
        .finally(() => {
          // Our listener replaced Node's default action: if nobody else handles the signal, re-raise it.
          if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
        });
    };
    const onBeforeExit = () => {
      void this.stop().catch((error: unknown) => this.warn(`could not finish the session: ${describeError(error)}`));
    };
    this.exitHandlers = [
      ['SIGINT', onSignal as (...args: unknown[]) => void],
      ['SIGTERM', onSignal as (...args: unknown[]) => void],
      ['beforeExit', onBeforeExit],
    ];
    for (const [event, handler] of this.exitHandlers) process.once(event, handler);
  }

  private removeExitHandlers(): void {
    for (const [event, handler] of this.exitHandlers) process.removeListener(event, handler);
    this.exitHandlers = [];
  }
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return d.user + d.system;
}

function transitionRecord(transition: AlertTransition): SessionRecords['alerts'][number] {
  return {
    key: transition.key,
    id: transition.id,
    state: transition.state,
    severity: transition.severity,
    message: transition.message,
    module: transition.module ?? null,
    at: new Date(transition.t).toISOString(),
    evidence: transition.evidence,
  };
}

/** The writer one collect tap sees: its writes can be discarded when the tap fails or times out. */
class TapWriter implements SampleWriter {
  readonly t: number;
  private readonly written: number[] = [];
  private closed = false;

  constructor(
    private readonly profiler: Profiler,
    private readonly plugin: string,
    parent: SampleWriter,
  ) {
    this.t = parent.t;
  }

  set(name: string, value: number | null): void {
    if (this.closed) return;
    const index = this.profiler.writeValue(name, value, this.plugin);
    if (index !== undefined) this.written.push(index);
  }

  discard(): void {
    for (const index of this.written) this.profiler.clearValue(index);
  }

  close(): void {
    this.closed = true;
  }
}
