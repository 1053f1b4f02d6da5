import type { Tap } from 'tapable';
import { Actions } from './actions.js';
import { resolveConfig, normalizeConfig, shownFile, type ConfigContext } from './config.js';
import { describeError, LoadlightError } from './errors.js';
import { callbackTap, createHooks, withTimeout, type HookName, type ProfilerHooks, type RegisteredTap } from './hooks.js';
import { RulesStage } from './rules/index.js';
import { buildSession, recordEvaluation, type SessionRecords } from './session.js';
import { Store } from './store.js';
import type {
  ActiveAlert,
  Evaluation,
  Fault,
  LoadlightConfig,
  MetricDeclaration,
  MetricInfo,
  Overhead,
  Plugin,
  Provisions,
  ResolvedConfig,
  Sample,
  SampleWriter,
  SessionAlert,
  SessionProfile,
  SessionRecommendation,
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

/** `stop()` takes a last sample when this fraction of an interval (or 100 ms) passed since the last. */
const FINAL_SAMPLE_MIN_FRACTION = 0.2;
const FINAL_SAMPLE_MAX_GAP_MS = 100;
const ISOLATED_ASYNC: HookName[] = ['start', 'collect', 'report', 'stop', 'export'];
const ISOLATED_SYNC: HookName[] = ['sample', 'evaluated', 'alert'];

/** One registered tap's run of failures; once disabled, it is no longer called. */
interface TapHealth {
  readonly plugin: string;
  readonly hook: HookName;
  streak: number;
  disabled: boolean;
}

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
  /** Per column: 1 when its metric is unavailable (writes are ignored), read per write instead of its info. */
  private unavailable: Uint8Array = new Uint8Array(0);
  /** Per column: the collect tap (TapWriter serial) that wrote it last, so a failed tap's writes can be undone. */
  private writers: Int32Array = new Int32Array(0);
  private lastWriterSerial = 0;
  /**
   * The first collect writer, kept for the profiler's life. V8 drops a class's layout once every
   * instance of it is collected, and with it the code optimised for that layout. Writers live for
   * one tick: a full GC between ticks deoptimised TapWriter.set and the plugin collects that
   * inline it ('weak objects' in --trace-deopt), and frequent ones kept set from being optimised.
   */
  private keptWriter: TapWriter | null = null;
  private timer: NodeJS.Timeout | null = null;
  private nextTickAt = 0;
  private tickInFlight: Promise<void> | null = null;
  private reportInFlight = false;
  private lastEvaluatedAt = -Infinity;
  private lastReportedAt = -Infinity;
  private latestEvaluation: Evaluation | null = null;
  private stopPromise: Promise<SessionProfile> | null = null;
  /** `prepare()` then the start hook, while `start()` runs. */
  private starting: Promise<void> | null = null;
  private lastRulesError: string | null = null;
  /** sha256 of each rule file in force at the last evaluation (null before the first). */
  private rulesInForce: Map<string, string> | null = null;
  /** The stage's `revision` at the last check of `rulesInForce` (nothing to report while it is the same). */
  private rulesRevision = -1;
  private readonly faults = new Map<string, Fault>();
  /** Faults counted so far (see `faultsRevision`). */
  private faultCount = 0;
  private readonly warned = new Set<string>();
  private readonly recorded: SessionRecords = { recommendations: new Map(), alerts: [] };
  private readonly cpu = { micros: 0, ticks: 0 };
  private exitHandlers: Array<[string, (...args: unknown[]) => void]> = [];
  private readonly offers = new Map<keyof Provisions, unknown[]>();

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
    this.starting = this.prepare().then(() => this.hooks.start.promise());
    try {
      await this.starting;
    } catch (error) {
      this.phase = 'stopped';
      throw error;
    }
    // stop() was called while starting (a slow start tap): it finishes the session, no tick runs.
    if (this.phase !== 'starting') return;
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
    if (this.phase === 'starting') {
      // Set-up ends before tear-down begins (start taps are bounded by lifecycleTimeoutMs).
      this.phase = 'stopping';
      let failed = false;
      await this.starting?.catch(() => (failed = true));
      if (failed) {
        // start() rejected (a bad rule file, a plugin that failed to apply): nothing ran, nothing to export.
        this.phase = 'stopped';
        throw new LoadlightError('PROFILER_STATE', `profiler "${this.sessionId}" failed to start: there is no session to stop`);
      }
    }
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
    // Exporters saw the session before any of them failed: what `stop()` resolves with counts
    // the faults of the export hook too.
    session.faults = this.faultList();
    this.removeExitHandlers();
    return session;
  }

  /** Declares a metric known only at run time (a watched process, a new module). */
  declareMetric(name: string, declaration: MetricDeclaration, plugin: string): MetricInfo {
    const info: MetricInfo = { ...declaration, name, plugin };
    const index = this.store.declare(info);
    if (this.row.length <= index) {
      // Grow geometrically: declaring thousands of module metrics one by one must stay linear.
      const length = Math.max(16, index + 1, this.row.length * 2);
      const grown = new Float64Array(length).fill(NaN);
      grown.set(this.row);
      this.row = grown;
      const unavailable = new Uint8Array(length);
      unavailable.set(this.unavailable);
      this.unavailable = unavailable;
      const writers = new Int32Array(length);
      writers.set(this.writers);
      this.writers = writers;
    }
    // A declaration may replace an earlier one of the same name (the store keeps the newest).
    this.unavailable[index] = info.unavailable ? 1 : 0;
    return info;
  }

  /** A metric the platform cannot give: always null, with the reason in the catalogue. */
  markUnavailable(name: string, reason: string): void {
    const info = this.store.info(name);
    if (!info) throw new LoadlightError('METRIC_INVALID', `cannot mark unknown metric "${name}" unavailable`);
    info.unavailable = reason;
    const index = this.store.indexOf(name);
    if (index !== undefined) this.unavailable[index] = 1;
  }

  /**
   * Offers something of a plugin to the others under `name` (`'trace'`: a recorder of timed work
   * that trace exporters read); core never looks inside. Offer in `apply()`.
   */
  provide<K extends keyof Provisions>(name: K, value: Provisions[K]): void {
    const offered = this.offers.get(name);
    if (offered) offered.push(value);
    else this.offers.set(name, [value]);
  }

  /** What plugins offered under `name`, in the order they were applied. */
  provided<K extends keyof Provisions>(name: K): ReadonlyArray<Provisions[K]> {
    return (this.offers.get(name) ?? []) as Array<Provisions[K]>;
  }

  /** Prints `[loadlight] message` once per distinct message. */
  warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    if (this.context.warn) this.context.warn(message);
    else process.stderr.write(`[loadlight] ${message}\n`);
  }

  /** Counts a fault of a plugin in a hook (the first of each kind is also a warning); returns its record. */
  recordFault(plugin: string, hook: string, error: unknown): Fault {
    const message = describeError(error);
    const fault = this.countFault(plugin, hook, message);
    if (fault.count === 1) this.warn(`plugin "${plugin}" failed in ${hook}: ${message} (further failures are counted in the session's faults)`);
    return fault;
  }

  /** Counts a fault in the session's faults, without a warning; returns its record. */
  private countFault(plugin: string, hook: string, message: string): Fault {
    const key = `${plugin}\u0000${hook}`;
    const now = Date.now();
    this.faultCount++;
    const fault = this.faults.get(key);
    if (fault) {
      fault.count++;
      fault.lastAt = now;
      fault.message = message;
      return fault;
    }
    const created: Fault = { plugin, hook, message, count: 1, firstAt: now, lastAt: now };
    this.faults.set(key, created);
    return created;
  }

  /**
   * A tap failed (threw, rejected, timed out): a fault, and one more in its run of failures. At
   * `maxConsecutiveFaults` in a row it is disabled, with one warning: a plugin that keeps failing
   * costs nothing more, and says so once, not once per tick.
   */
  private tapFailed(health: TapHealth, error: unknown): void {
    const fault = this.recordFault(health.plugin, health.hook, error);
    const limit = this.config.maxConsecutiveFaults;
    if (health.disabled || limit === 0 || ++health.streak < limit) return;
    health.disabled = true;
    fault.disabledAt = fault.lastAt;
    const after = health.hook === 'collect' ? 'its metrics read null from now on' : `it is no longer called in ${health.hook}`;
    this.warn(`plugin "${health.plugin}" disabled in ${health.hook} after ${health.streak} failures in a row (last: ${fault.message}); ${after}`);
  }

  /**
   * Changes whenever the faults (`snapshot().faults`, the session's) change: a cheap test for
   * writers that copy them only when they did (a fault's `disabledAt` is set with its count).
   */
  get faultsRevision(): number {
    return this.faultCount;
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

  /**
   * What live reporters render: latest values, the latest evaluation, faults, overhead.
   * `metrics` is read from the Store as it is read (a status line reads a handful of the hundreds
   * there may be): each metric's value is computed the first time it is read, as of the
   * snapshot's sample, and listing the record (`Object.keys`, `JSON.stringify`) computes them all.
   */
  snapshot(): Snapshot {
    const t = this.store.latestTime() ?? Date.now();
    return {
      sessionId: this.sessionId,
      t,
      startedAt: this.startedAt,
      uptimeMs: Date.now() - this.startedAt,
      samples: this.store.size,
      metrics: snapshotMetrics(this.store, t, this.config.windowSeconds),
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
      records: this.recorded,
      overhead: this.overhead(),
      faults: this.faultList(),
      actions: this.actions.history(),
    });
  }

  /**
   * What the evaluations recorded so far, as the session holds it: recommendations by
   * `recommendationKey(id, module)`, and the alert timeline (the newest `MAX_ALERT_TIMELINE`).
   * Updated before the `evaluated` hook runs. Read-only.
   */
  get records(): { readonly recommendations: ReadonlyMap<string, Readonly<SessionRecommendation>>; readonly alerts: ReadonlyArray<Readonly<SessionAlert>> } {
    return this.recorded;
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

  /**
   * Every tap runs isolated: a throw, rejection or time-out is a fault of that plugin, never the
   * profiler's, and a tap that keeps failing is disabled (tapFailed). Async hooks are bounded:
   * `collect` and `report` taps by `collectTimeoutMs`, `start`, `stop` and `export` taps by
   * `lifecycleTimeoutMs` (a tap given up on may still finish later: its writes are then dropped).
   * A tap that blocks synchronously (an endless loop) cannot be interrupted in-process: no hook
   * can bound it.
   */
  private isolateHooks(): void {
    for (const name of ISOLATED_ASYNC) {
      const hook = this.hooks[name] as unknown as { intercept(i: { register(tap: Tap): Tap }): void };
      const collect = name === 'collect';
      const timeoutMs = collect || name === 'report' ? () => this.config.collectTimeoutMs : () => this.config.lifecycleTimeoutMs;
      hook.intercept({
        register: (tap) => {
          const original = tap as RegisteredTap;
          const health: TapHealth = { plugin: original.name, hook: name, streak: 0, disabled: false };
          const fn = (...args: unknown[]): Promise<unknown> => {
            if (health.disabled) return SETTLED;
            const writer = collect ? new TapWriter(this, original.name, args[0] as SampleWriter) : null;
            this.keptWriter ??= writer;
            const callArgs = writer ? [writer] : args;
            let running: unknown;
            try {
              running = original.type === 'async' ? callbackTap(original, callArgs) : original.fn(...callArgs);
              // Done already (a tap that returned no promise): no time-out can apply, nothing to wait for.
              if (!isThenable(running)) {
                // tapPromise promised a promise: garbage back is its fault (its writes stay).
                if (original.type === 'promise') {
                  writer?.close();
                  this.tapFailed(health, new TypeError(`tapPromise tap returned ${running === null ? 'null' : typeof running}, not a promise`));
                } else this.tapEnded(health, writer, false);
                return SETTLED;
              }
            } catch (error) {
              // thrown, or a returned value whose `then` getter threw
              this.tapEnded(health, writer, true, error);
              return SETTLED;
            }
            // Promise.resolve adopts any thenable: one whose `then` throws is a rejection.
            return withTimeout(Promise.resolve(running), timeoutMs()).then(
              () => this.tapEnded(health, writer, false),
              (error: unknown) => this.tapEnded(health, writer, true, error),
            );
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
          const health: TapHealth = { plugin: tap.name, hook: name, streak: 0, disabled: false };
          const settled = () => this.tapEnded(health, null, false);
          const failed = (error: unknown) => this.tapEnded(health, null, true, error);
          // Every sync hook passes one argument.
          const fn = (arg: unknown) => {
            if (health.disabled) return;
            try {
              const result = original(arg);
              if (isThenable(result)) {
                // An async observer: its rejection is its fault, not an unhandled rejection.
                Promise.resolve(result).then(settled, failed);
                return;
              }
            } catch (error) {
              failed(error);
              return;
            }
            settled();
          };
          return { ...tap, fn } as Tap;
        },
      });
    }
  }

  /**
   * The end of a tap's run, for every hook: its collect writer closed (a failed run's writes
   * dropped), then its run of failures reset, or the failure counted (tapFailed).
   */
  private tapEnded(health: TapHealth, writer: TapWriter | null, failed: boolean, error?: unknown): void {
    if (failed) writer?.discard();
    writer?.close();
    if (failed) this.tapFailed(health, error);
    else health.streak = 0;
  }

  /** @internal the row being filled by this tick's collect taps. */
  writeValue(name: string, value: unknown, plugin: string): number | undefined {
    const index = this.store.indexOf(name);
    if (index === undefined) {
      this.recordFault(plugin, 'collect', new Error(`wrote undeclared metric ${metricLabel(name)}; declare it in the plugin's metrics`));
      return undefined;
    }
    if (value !== null && typeof value !== 'number') {
      this.recordFault(plugin, 'collect', new Error(`wrote ${typeof value} to metric ${metricLabel(name)}; expected a number or null`));
      return undefined;
    }
    if (this.unavailable[index] === 1) return undefined;
    this.row[index] = value === null || !Number.isFinite(value) ? NaN : value;
    return index;
  }

  /** @internal a serial for a collect tap's writer this tick (never 0, unique for 2^31 writers). */
  nextWriterSerial(): number {
    this.lastWriterSerial = this.lastWriterSerial === 0x7fffffff ? 1 : this.lastWriterSerial + 1;
    return this.lastWriterSerial;
  }

  /** @internal records that the writer `serial` wrote column `index`. */
  claimValue(index: number, serial: number): void {
    this.writers[index] = serial;
  }

  /**
   * @internal undoes the writes of writer `serial` (its tap failed or timed out). Scans every
   * column, but only then: a write costs one store in a typed array, nothing grows with them.
   */
  clearValues(serial: number): void {
    const writers = this.writers;
    const row = this.row;
    for (let i = 0; i < row.length; i++) if (writers[i] === serial) row[i] = NaN;
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

  /**
   * One tick: collect, commit, the sample hook, the rules (when due), the report. Its CPU is
   * counted in synchronous slices: the start of the collect taps, then everything after they
   * settled, which runs in one piece (the rules wait only the first time an evaluation shape is
   * seen, on promises alone, and that wait is counted with them).
   */
  private async tick(final = false): Promise<void> {
    if (this.phase !== 'running' && !final) return;
    let slice = process.cpuUsage();
    const t = Date.now();
    this.row.fill(NaN);
    const writer: SampleWriter = { t, set: () => undefined };
    const collecting = this.hooks.collect.promise(writer);
    this.count(slice);
    await collecting;

    slice = process.cpuUsage();
    const position = this.store.commit(t, this.row);
    if (hasTaps(this.hooks.sample)) this.hooks.sample.call(this.sampleView(t, position));
    if (this.rules && this.due(t, this.lastEvaluatedAt, this.config.evaluateEveryMs)) {
      const waiting = this.evaluate(t);
      if (waiting) await waiting;
    }
    if (!final && hasTaps(this.hooks.report) && !this.reportInFlight && this.due(t, this.lastReportedAt, this.config.reportIntervalMs)) {
      this.lastReportedAt = t;
      this.reportInFlight = true;
      void this.hooks.report.promise(this.snapshot()).finally(() => {
        this.reportInFlight = false;
      });
    }
    this.count(slice);
    this.cpu.ticks++;
    this.schedule();
  }

  /**
   * Whether work done every `everyMs` (last at `last`) is due at the tick at `t`. Ticks keep their
   * phase but each may start late by a few ms (a busy event loop): half a sample interval of
   * slack, so that a tick that started earlier after its predecessor than the interval (because
   * that one was late) still counts, and an every-tick evaluation or report is never skipped.
   */
  private due(t: number, last: number, everyMs: number): boolean {
    return t - last >= everyMs - this.config.sampleIntervalMs / 2;
  }

  /** Adds the CPU time since `slice` (a `process.cpuUsage()`) to the profiler's own. */
  private count(slice: NodeJS.CpuUsage): void {
    const d = process.cpuUsage(slice);
    this.cpu.micros += d.user + d.system;
  }

  /** Runs the rules at `t`: synchronously when the stage can, else a Promise to wait for. */
  private evaluate(t: number): Promise<void> | undefined {
    const rules = this.rules!;
    this.lastEvaluatedAt = t;
    let result: Evaluation | Promise<Evaluation>;
    try {
      result = rules.evaluateSoon(t);
    } catch (error) {
      this.recordFault('rules', 'evaluate', error);
      return undefined;
    }
    if (!(result instanceof Promise)) {
      this.evaluated(rules, result);
      return undefined;
    }
    return result.then(
      (evaluation) => this.evaluated(rules, evaluation),
      (error: unknown) => {
        this.recordFault('rules', 'evaluate', error);
      },
    );
  }

  private evaluated(rules: RulesStage, evaluation: Evaluation): void {
    this.reportRuleChanges(rules);
    this.latestEvaluation = evaluation;
    recordEvaluation(this.recorded, evaluation);
    this.hooks.evaluated.call(evaluation);
    for (const transition of evaluation.transitions) this.hooks.alert.call(transition);
  }

  /** Says when edited rule files took effect, or were rejected (the last good rules then stay). */
  private reportRuleChanges(rules: RulesStage): void {
    if (rules.revision === this.rulesRevision) return;
    this.rulesRevision = rules.revision;
    const inForce = new Map(rules.files.map((f) => [f.file, f.sha256]));
    const changed = this.rulesInForce === null ? [] : [...inForce].filter(([file, sha]) => this.rulesInForce!.get(file) !== sha);
    this.rulesInForce = inForce;
    for (const [file, sha] of changed) {
      this.warn(`rules reloaded from ${shownFile(file)} (sha256 ${sha.slice(0, 12)}): in force from this evaluation`);
    }
    if (rules.error === this.lastRulesError) return;
    this.lastRulesError = rules.error;
    if (rules.error) {
      // A fault of the rules (counted once per rejected edit), with its own warning.
      this.countFault('rules', 'reload', rules.error);
      this.warn(`rule file edit rejected, the last good rules stay in force:\n${rules.error}`);
    }
    else if (changed.length === 0) this.warn('rule files are valid again; the rules in force did not change');
  }

  private sampleView(t: number, position: number): Sample {
    const store = this.store;
    return { t, index: position, get: (name) => store.valueAt(name, position) };
  }

  private installExitHandlers(): void {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      // Decided now, while every listener is still registered (ours run first, see below): once a
      // `once` listener of the program has run it is gone, and could no longer be seen.
      const { program, signalExit } = signalListeners(signal);
      const programHandles = program > 0;
      // Nobody else handles it: Node's default action is ours to restore once the session is out,
      // and a second signal meanwhile ends the process at once, as it would unprofiled. signal-exit
      // (execa, ink, write-file-atomic...) ends the process itself when it sees only its own
      // listeners: ours stays until the session is out, so that it waits, and goes at a second signal.
      if (!programHandles && (signalExit === 0 || signalled)) process.removeListener(signal, onSignal);
      // A second signal with signal-exit: ours is gone, so signal-exit ends the process at once.
      if (signalled && !programHandles && signalExit > 0) return;
      signalled = true;
      signalStops.pending++;
      void this.stop()
        .catch((error: unknown) => this.warn(`could not finish the session on ${signal}: ${describeError(error)}`))
        .finally(() => {
          signalStops.pending--;
          // Re-raise once every profiler stopping on this signal is done (stop() removed our
          // listeners), unless a listener of the program (maybe added meanwhile) now handles it:
          // it decides how the program ends.
          if (!programHandles && signalStops.pending === 0 && signalListeners(signal).program === 0) process.kill(process.pid, signal);
        });
    };
    const onBeforeExit = () => {
      void this.stop().catch((error: unknown) => this.warn(`could not finish the session: ${describeError(error)}`));
    };
    Object.defineProperty(onSignal, OWN_LISTENER, { value: true });
    // First in line: the program's own listeners still run after ours, in their order.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.prependListener(signal, onSignal);
      this.exitHandlers.push([signal, onSignal as (...args: unknown[]) => void]);
    }
    process.once('beforeExit', onBeforeExit);
    this.exitHandlers.push(['beforeExit', onBeforeExit]);
  }

  private removeExitHandlers(): void {
    for (const [event, handler] of this.exitHandlers) process.removeListener(event, handler);
    this.exitHandlers = [];
  }
}

/** Marks the profilers' own signal listeners, to tell them from the program's. */
const OWN_LISTENER = Symbol.for('loadlight.signalListener');

/**
 * The listeners for `signal` other than the profilers': signal-exit's (v4 and v3, both may be
 * loaded: one listener per signal per loaded instance, counted on its shared emitter; it re-raises
 * the signal itself when it sees only its own) and the program's (the rest).
 */
function signalListeners(signal: NodeJS.Signals): { program: number; signalExit: number } {
  let others = 0;
  for (const listener of process.listeners(signal)) if (!(OWN_LISTENER in listener)) others++;
  const count = (emitter: unknown): number => {
    const n = typeof emitter === 'object' && emitter !== null ? (emitter as { count?: unknown }).count : undefined;
    return typeof n === 'number' && n > 0 ? n : 0;
  };
  const loaded = count((globalThis as Record<symbol, unknown>)[Symbol.for('signal-exit emitter')]) + count((process as { __signal_exit_emitter__?: unknown }).__signal_exit_emitter__);
  const signalExit = Math.min(others, loaded);
  return { program: others - signalExit, signalExit };
}
/** Profilers finishing their session on a signal, across copies of core (ESM and CJS builds). */
const signalStops = ((globalThis as Record<symbol, unknown>)[Symbol.for('loadlight.signalStops')] ??= { pending: 0 }) as { pending: number };

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * `Snapshot.metrics`, computed as read: a read-only record of every metric declared when the
 * snapshot was taken, in catalogue order, each `SnapshotMetric` built on its first read (and kept).
 * Values are those of the sample at `t`: the latest value while no newer sample was committed
 * (`store.latest`), the value at `t` after that; a metric derived from another (`derivedFrom`)
 * shows its source's slope per minute over the window ending at `t`. Being a Proxy, it cannot be
 * passed to `structuredClone` or `postMessage` as it is: spread or `JSON.stringify` it first.
 */
function snapshotMetrics(store: Store, t: number, windowSeconds: number): Record<string, SnapshotMetric> {
  const count = store.metricCount;
  const target: Record<string, SnapshotMetric> = {};
  const read = (name: string): SnapshotMetric | undefined => {
    if (Object.hasOwn(target, name)) return target[name];
    const index = store.indexOf(name);
    if (index === undefined || index >= count) return undefined;
    const info = store.catalogue()[index]!;
    let value: number | null;
    if (info.derivedFrom) value = store.windowValue(name, windowSeconds, t, 'slope_per_minute');
    else if (store.latestTime() === t) value = store.latest(name);
    else value = store.windowValue(name, 0.001, t, 'last'); // the sample at t alone
    const metric: SnapshotMetric = { name, unit: info.unit, value };
    if (info.module) metric.module = info.module.name;
    Object.defineProperty(target, name, { value: metric, enumerable: true, configurable: true });
    return metric;
  };
  const names = (): string[] => {
    const catalogue = store.catalogue();
    const out = new Array<string>(count);
    for (let i = 0; i < count; i++) out[i] = catalogue[i]!.name;
    return out;
  };
  // util.inspect shows a Proxy's target: show the whole record instead.
  Object.defineProperty(target, INSPECT, {
    value(this: Record<string, SnapshotMetric>, _depth: number, options: object, inspect: (value: unknown, options: object) => string) {
      return inspect({ ...this }, options);
    },
    configurable: true,
  });
  const refuse = () => false;
  return new Proxy(target, {
    get: (object, key, receiver) => (typeof key === 'string' ? (read(key) ?? Reflect.get(object, key, receiver)) : Reflect.get(object, key, receiver)),
    has: (object, key) => (typeof key === 'string' && read(key) !== undefined) || Reflect.has(object, key),
    ownKeys: () => names(),
    getOwnPropertyDescriptor: (object, key) => {
      if (typeof key === 'string') read(key);
      return Reflect.getOwnPropertyDescriptor(object, key);
    },
    set: refuse,
    defineProperty: refuse,
    deleteProperty: refuse,
  });
}

/** What an isolated tap that finished synchronously returns (its hook awaits a promise). */
const SETTLED: Promise<void> = Promise.resolve();

/** A metric name a plugin wrote, quoted for a fault message (it may be anything at run time). */
function metricLabel(name: unknown): string {
  return typeof name === 'string' ? `"${name}"` : `named by a ${typeof name}`;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * Whether a plugin tapped the hook. Not tapable's `isUsed()`: it also counts interceptors, and
 * every hook has ours (isolateHooks), so a report snapshot (linear in the metrics) would be
 * built at every tick with no reporter at all.
 */
function hasTaps(hook: { taps: readonly unknown[] }): boolean {
  return hook.taps.length > 0;
}


/** The writer one collect tap sees: its writes can be discarded when the tap fails or times out. */
class TapWriter implements SampleWriter {
  readonly t: number;
  private readonly serial: number;
  private closed = false;

  constructor(
    private readonly profiler: Profiler,
    private readonly plugin: string,
    parent: SampleWriter,
  ) {
    this.t = parent.t;
    this.serial = profiler.nextWriterSerial();
  }

  set(name: string, value: number | null): void {
    if (this.closed) {
      // The row was committed (or the tap was cut off): the value cannot be placed.
      this.profiler.recordFault(this.plugin, 'collect', new Error(`wrote metric ${metricLabel(name)} after its collect tap finished or timed out; the value is dropped`));
      return;
    }
    const index = this.profiler.writeValue(name, value, this.plugin);
    if (index !== undefined) this.profiler.claimValue(index, this.serial);
  }

  discard(): void {
    this.profiler.clearValues(this.serial);
  }

  close(): void {
    this.closed = true;
  }
}
