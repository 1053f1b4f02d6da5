import * as fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Evaluation, MetricInfo, Profiler, SessionAlert, SessionProfile, SessionRecommendation } from '@loadlight/core';
import { describeError, recommendationKey, sessionConfig, sessionHost, sessionOverhead } from '@loadlight/core';
import { writeAll, writeAllSync } from './atomic.js';
import {
  JOURNAL_SUFFIX,
  JOURNAL_VERSION,
  OLD_JOURNAL_SUFFIX,
  type JournalHeader,
  type JournalOverhead,
  type JournalRecommendation,
} from './journal-format.js';

/**
 * The file system calls the journal makes, so that tests can make them fail or slow them down.
 * `nodeJournalIO` is the real one.
 */
export interface JournalIO {
  mkdir(dir: string): Promise<void>;
  /** Opens for appending, creating the file when missing; resolves with a file descriptor. */
  open(file: string): Promise<number>;
  write(fd: number, data: Uint8Array): Promise<void>;
  datasync(fd: number): Promise<void>;
  close(fd: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  rm(file: string): Promise<void>;
  /** For the `exit` listener, where nothing asynchronous runs any more. */
  writeSync(fd: number, data: Uint8Array): void;
  datasyncSync(fd: number): void;
  closeSync(fd: number): void;
  rmSync(file: string): void;
}

const open = promisify(fs.open);
const fdatasync = promisify(fs.fdatasync);
const close = promisify(fs.close);

export const nodeJournalIO: JournalIO = {
  mkdir: async (dir) => void (await fs.promises.mkdir(dir, { recursive: true })),
  open: (file) => open(file, 'a', 0o644),
  write: writeAll,
  datasync: fdatasync,
  close,
  rename: fs.promises.rename,
  rm: (file) => fs.promises.rm(file, { force: true }),
  writeSync: writeAllSync,
  datasyncSync: (fd) => fs.fdatasyncSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
  rmSync: (file) => fs.rmSync(file, { force: true }),
};

/** The journal files of `base` in `dir`: the current segment and the older one. */
export function journalFiles(dir: string, base: string): { current: string; old: string } {
  return { current: path.join(dir, base + JOURNAL_SUFFIX), old: path.join(dir, base + OLD_JOURNAL_SUFFIX) };
}

/** Fsync at most this often. */
const SYNC_EVERY_MS = 1000;
/** Text waiting for a slow disk beyond this is dropped (the journal resumes with a header). */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
const ROTATE = 1;
const SYNC = 2;
type Item = string | typeof ROTATE | typeof SYNC;
const MB = 1024 * 1024;
const encoder = new TextEncoder();

/** One profiler's journal, written by the JSON reporter while it runs (see journal-format.ts). */
export class Journal {
  readonly dir: string;
  /** The name both segments start with (`<safe session id>`, or more when taken). */
  readonly base: string;
  readonly file: string;
  readonly oldFile: string;

  private readonly profiler: Profiler;
  private readonly io: JournalIO;
  private fd: number | null = null;
  private queue: Item[] = [];
  private queuedBytes = 0;
  private draining: Promise<void> | null = null;
  /** A write is queued for the end of this synchronous run (`enqueue`): a tick's lines go in one write. */
  private kickQueued = false;
  private syncing: Promise<void> | null = null;
  /** Bytes written since the last fsync began. */
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** A write failed: nothing is queued until the timer resumes with a header. */
  private broken = false;
  /** Seconds to wait before the next attempt after a failure (doubles while failing, at most a minute), and waited so far. */
  private backoff = 1;
  private waited = 0;
  private needHeader = true;
  /** Rows in the current segment: at the Store's capacity, the segments rotate. */
  private segmentRows = 0;
  private rowsSinceState = 0;
  /** The timer saw rows since the last state: the next row writes the state line with it (`sample`). */
  private stateDue = false;
  /** Per Store index: the value in the previous row written (NaN: missing), and what is known of the metric. */
  private previous = new Float64Array(0);
  /** The newest row, read from the Store in one pass (`latestRowInto`). */
  private newest = new Float64Array(0);
  private readonly infos: MetricInfo[] = [];
  private readonly unavailable: Array<string | undefined> = [];
  /** Per recommendation key (`recommendationKey`): the message last written in full. */
  private readonly written = new Map<string, string>();
  private levels: SessionProfile['levels'] = [];
  private levelsKey = '';
  /** `profiler.faultsRevision` and `profiler.actions.runs` when faults and actions were last written. */
  private faultsRevision = -1;
  private actionRuns = -1;
  private rulesRevision = -1;

  constructor(profiler: Profiler, dir: string, base: string, io: JournalIO = nodeJournalIO) {
    this.profiler = profiler;
    this.dir = dir;
    this.io = io;
    let name = base;
    // An earlier session of the same id left its journal (it crashed): keep it for `recover`.
    const taken = (b: string) => Object.values(journalFiles(dir, b)).some((f) => isFile(f));
    if (taken(name)) {
      profiler.warn(`${path.join(dir, base + JOURNAL_SUFFIX)} is the journal of an earlier session of this id: run "loadlight recover ${dir}" to make it a session file`);
      name = `${base}.${process.pid}`;
      for (let n = 2; taken(name); n++) name = `${base}.${process.pid}-${n}`;
    }
    this.base = name;
    const files = journalFiles(dir, name);
    this.file = files.current;
    this.oldFile = files.old;
  }

  /** Writes the header; from now on every sample is appended. */
  start(): void {
    this.enqueue(this.headerLine());
    this.timer = setInterval(() => this.onTimer(), SYNC_EVERY_MS);
    this.timer.unref();
  }

  /** Appends the row just committed, at time `t` (the `sample` hook: it runs right after the commit). */
  sample(t: number): void {
    if (this.stopped) return;
    if (this.broken) return;
    const store = this.profiler.store;
    if (this.segmentRows >= store.capacity) {
      this.queue.push(ROTATE);
      this.segmentRows = 0;
      this.enqueue(this.headerLine());
    } else if (this.needHeader) {
      this.enqueue(`\n${this.headerLine()}`); // the newline ends a line a failed write may have cut
    } else {
      this.declarations();
    }
    const previous = this.previous;
    if (this.newest.length < previous.length) this.newest = new Float64Array(previous.length);
    const newest = this.newest;
    // Every known metric's value (NaN for the computed ones, which have no column: never written).
    store.latestRowInto(newest);
    let line = `[${t}`;
    for (let i = 0; i < this.infos.length; i++) {
      const v = newest[i]!;
      const p = previous[i]!;
      if (v === p || (v !== v && p !== p)) continue;
      previous[i] = v;
      line += Number.isFinite(v) ? `,${i},${v}` : `,${i},null`; // JSON has no infinity (the session writes null too)
    }
    this.enqueue(`${line}]\n`);
    this.segmentRows++;
    this.rowsSinceState++;
    // The state line shares the row's write.
    if (this.stateDue) this.writeState();
  }

  /** Appends what an evaluation added to the session (the `evaluated` hook). */
  evaluated(evaluation: Evaluation): void {
    if (this.stopped) return;
    // The profiler recorded this evaluation before the hook: what changed is written.
    const records = this.profiler.records;
    const r: Array<string | JournalRecommendation> = [];
    for (const recommendation of evaluation.recommendations) {
      const key = recommendationKey(recommendation.id, recommendation.module);
      const record = records.recommendations.get(key);
      if (!record) continue; // defensive: the profiler records every recommendation before the hook
      if (this.written.get(key) === record.message) {
        r.push(key);
      } else {
        this.written.set(key, record.message);
        r.push(journalRecommendation(record));
      }
    }
    const a = evaluation.transitions.length === 0 ? [] : records.alerts.slice(-evaluation.transitions.length);
    let levelsKey = '';
    for (const level of evaluation.levels) levelsKey += `${level.subject}\u0000${level.kind}\u0000${level.level}\u0000`;
    const levelsChanged = levelsKey !== this.levelsKey;
    if (levelsChanged) {
      this.levelsKey = levelsKey;
      this.levels = evaluation.levels.map(({ subject, kind, level }) => ({ subject, kind, level }));
    }
    if (this.broken || this.needHeader || (r.length === 0 && a.length === 0 && !levelsChanged)) return;
    const entry: Record<string, unknown> = { t: evaluation.t };
    if (r.length > 0) entry.r = r;
    if (a.length > 0) entry.a = a;
    if (levelsChanged) entry.l = this.levels;
    this.enqueue(`${JSON.stringify({ e: entry })}\n`);
  }

  /** Stops, writes what is pending, fsyncs and closes: the journal stays (the session file was not written). */
  async close(): Promise<void> {
    this.halt();
    if (!this.broken) {
      this.queue.push(SYNC);
      this.kick();
    }
    await this.settle();
    await this.closeFd();
  }

  /** Stops and removes the journal (the session file is written). */
  async remove(): Promise<void> {
    this.halt();
    this.queue = [];
    this.queuedBytes = 0;
    await this.settle();
    await this.closeFd();
    try {
      await this.io.rm(this.file);
      await this.io.rm(this.oldFile);
    } catch (error) {
      this.profiler.warn(`could not remove the journal ${this.file}: ${describeError(error)}; the session file is complete, remove it by hand`);
    }
  }

  /** `close()` for the `exit` listener: what is pending is written unless a write is still under way. */
  closeSync(): void {
    this.halt();
    if (this.fd === null) return;
    try {
      if (!this.draining && !this.broken) {
        const text = this.queue.filter((item): item is string => typeof item === 'string').join('');
        if (text) this.io.writeSync(this.fd, encoder.encode(text));
        this.queue = [];
        this.queuedBytes = 0;
      }
      this.io.datasyncSync(this.fd);
    } catch {
      // What reached the file stays recoverable.
    }
    this.closeFdSync();
  }

  /** `remove()` for the `exit` listener. */
  removeSync(): void {
    this.halt();
    this.closeFdSync();
    try {
      this.io.rmSync(this.file);
      this.io.rmSync(this.oldFile);
    } catch (error) {
      this.profiler.warn(`could not remove the journal ${this.file}: ${describeError(error)}; the session file is complete, remove it by hand`);
    }
  }

  private halt(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async settle(): Promise<void> {
    while (this.draining || this.syncing) {
      await this.draining;
      await this.syncing;
    }
  }

  private async closeFd(): Promise<void> {
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) await this.io.close(fd).catch(() => undefined);
  }

  private closeFdSync(): void {
    const fd = this.fd;
    this.fd = null;
    if (fd === null) return;
    try {
      this.io.closeSync(fd);
    } catch {
      // closed already
    }
  }

  /** Metrics declared (or changed) since the last row: one line each. */
  private declarations(): void {
    const catalogue = this.profiler.store.catalogue();
    for (let i = 0; i < catalogue.length; i++) {
      const info = catalogue[i]!;
      if (info === this.infos[i] && info.unavailable === this.unavailable[i]) continue;
      this.know(i, info);
      this.enqueue(`${JSON.stringify({ m: [i, info] })}\n`);
    }
  }

  private know(i: number, info: MetricInfo): void {
    this.infos[i] = info;
    this.unavailable[i] = info.unavailable;
    if (this.previous.length <= i) {
      const grown = new Float64Array(Math.max(16, i + 1, this.previous.length * 2)).fill(Number.NaN);
      grown.set(this.previous);
      this.previous = grown;
    }
  }

  /** The whole state as a header line; the next row is written in full. */
  private headerLine(): string {
    const profiler = this.profiler;
    const catalogue = profiler.store.catalogue();
    for (let i = 0; i < catalogue.length; i++) this.know(i, catalogue[i]!);
    this.previous.fill(Number.NaN);
    this.needHeader = false;
    const config = profiler.config;
    const faults = profiler.snapshot().faults;
    const actions = profiler.actions.history();
    this.faultsRevision = profiler.faultsRevision;
    this.actionRuns = profiler.actions.runs;
    this.rulesRevision = profiler.rulesStage?.revision ?? -1;
    const header: JournalHeader = {
      journal: JOURNAL_VERSION,
      sessionId: profiler.sessionId,
      startedAt: profiler.startedAt,
      at: Date.now(),
      pid: process.pid,
      host: sessionHost(),
      node: process.version,
      config: sessionConfig(config, profiler.rulesStage?.files ?? []),
      catalogue: catalogue.slice(),
      recommendations: [...profiler.records.recommendations.values()],
      alerts: profiler.records.alerts as SessionAlert[], // stringified at once: no copy
      levels: this.levels,
      faults,
      actions,
      overhead: overhead(profiler),
    };
    return `${JSON.stringify({ h: header })}\n`;
  }

  /**
   * Once a second: resume after a failure, note the state (left to the next row when only rows
   * came since: it is written with one, see `sample`), fsync what was written.
   */
  private onTimer(): void {
    if (this.stopped) return;
    if (this.broken) {
      if (++this.waited < this.backoff) return;
      this.waited = 0;
      this.backoff = Math.min(60, this.backoff * 2);
      this.broken = false;
      this.needHeader = true; // the next sample writes the header again, then a full row
      return;
    }
    if (this.needHeader) return;
    if (this.stateChanged()) this.writeState();
    else if (this.rowsSinceState > 0) this.stateDue = true;
    this.sync();
  }

  /** Whether the faults, the actions run or the rules changed since the last state line. */
  private stateChanged(): boolean {
    const profiler = this.profiler;
    return profiler.faultsRevision !== this.faultsRevision || profiler.actions.runs !== this.actionRuns || (profiler.rulesStage?.revision ?? -1) !== this.rulesRevision;
  }

  /** The state line: the overhead, and the faults, actions and rules when they changed. */
  private writeState(): void {
    const profiler = this.profiler;
    // Counters that change with the faults, the actions run and the rules: their copies are made only then.
    const faultsRevision = profiler.faultsRevision;
    const actionRuns = profiler.actions.runs;
    const revision = profiler.rulesStage?.revision ?? -1;
    const faultsChanged = faultsRevision !== this.faultsRevision;
    const actionsChanged = actionRuns !== this.actionRuns;
    const state: Record<string, unknown> = { t: Date.now(), o: overhead(profiler) };
    if (faultsChanged) state.f = profiler.snapshot().faults;
    if (actionsChanged) state.x = profiler.actions.history();
    if (revision !== this.rulesRevision) state.rules = sessionConfig(profiler.config, profiler.rulesStage?.files ?? []).rules;
    this.faultsRevision = faultsRevision;
    this.actionRuns = actionRuns;
    this.rulesRevision = revision;
    this.rowsSinceState = 0;
    this.stateDue = false;
    this.enqueue(`${JSON.stringify({ s: state })}\n`);
  }

  /** Fsyncs what was written, beside the writes (never in the tick). */
  private sync(): void {
    if (!this.dirty || this.fd === null || this.syncing) return;
    this.dirty = false;
    const fd = this.fd;
    this.syncing = this.io
      .datasync(fd)
      .catch((error: unknown) => this.fail(error, 'fsync'))
      .finally(() => {
        this.syncing = null;
      });
  }

  private enqueue(text: string): void {
    if (this.queuedBytes > MAX_QUEUED_BYTES) {
      this.fail(new Error(`writes fell more than ${MAX_QUEUED_BYTES / MB} MB behind (a slow disk)`), 'write');
      return;
    }
    this.queue.push(text);
    this.queuedBytes += text.length;
    if (this.kickQueued) return;
    this.kickQueued = true;
    queueMicrotask(() => {
      this.kickQueued = false;
      this.kick();
    });
  }

  private kick(): void {
    if (this.draining || this.queue.length === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      // Queued after the last check of the loop (a failure's header, a row at the last moment).
      if (this.queue.length > 0 && !this.broken) this.kick();
    });
  }

  /** Writes the queue in order, batching consecutive lines into one write. */
  private async drain(): Promise<void> {
    const io = this.io;
    while (this.queue.length > 0 && !this.broken) {
      const first = this.queue[0]!;
      let step = 'open';
      try {
        if (this.fd === null) {
          await io.mkdir(this.dir);
          this.fd = await io.open(this.file);
        }
        if (first === ROTATE) {
          this.queue.shift();
          step = 'rotate';
          await this.syncing;
          const fd = this.fd;
          this.fd = null;
          try {
            await io.datasync(fd);
          } finally {
            await io.close(fd);
          }
          await io.rename(this.file, this.oldFile);
          continue;
        }
        if (first === SYNC) {
          this.queue.shift();
          step = 'fsync';
          await this.syncing;
          await io.datasync(this.fd);
          this.dirty = false;
          continue;
        }
        let n = 0;
        let text = '';
        while (n < this.queue.length && typeof this.queue[n] === 'string') text += this.queue[n++] as string;
        this.queue.splice(0, n);
        this.queuedBytes -= text.length;
        step = 'write';
        await io.write(this.fd, encoder.encode(text));
        this.dirty = true;
        this.backoff = 1;
      } catch (error) {
        this.fail(error, step);
      }
    }
  }

  /**
   * A failed write (disk full, a removed directory): counted as a fault of `json` in hook
   * `journal`, warned about once; what was queued is dropped, and a second later the journal
   * resumes with a header (the rows between are not in it); while it keeps failing, it waits
   * twice as long each time, up to a minute. The profiler goes on sampling.
   */
  private fail(error: unknown, step: string): void {
    // A rotation dropped with the queue happens at the next row: the segment stays bounded.
    if (this.queue.includes(ROTATE) || step === 'rotate') this.segmentRows = Number.MAX_SAFE_INTEGER;
    this.queue = [];
    this.queuedBytes = 0;
    this.broken = true;
    const wrapped = new Error(
      `could not ${step === 'write' ? 'write' : step} the journal ${this.file}: ${describeError(error)}. Sampling goes on; rows of this time are missing from the journal`,
    );
    this.profiler.recordFault('json', 'journal', wrapped);
  }
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function journalRecommendation(record: SessionRecommendation): JournalRecommendation {
  return {
    id: record.id,
    priority: record.priority,
    message: record.message,
    module: record.module,
    rule: record.rule,
    action: record.action,
    evidence: record.evidence,
  };
}

function overhead(profiler: Profiler): JournalOverhead {
  return sessionOverhead(profiler.overhead());
}
