import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import {
  buildSession,
  LoadlightError,
  MAX_ALERT_TIMELINE,
  recommendationKey,
  Store,
  type ActionRecord,
  type Fault,
  type MetricInfo,
  type SessionAlert,
  type SessionProfile,
  type SessionRecommendation,
} from '@loadlight/core';
import {
  JOURNAL_VERSION,
  type JournalEvaluation,
  type JournalHeader,
  type JournalOverhead,
  type JournalState,
} from './journal-format.js';

/** A session rebuilt from a journal, and what reading found. */
export interface RecoveredJournal {
  session: SessionProfile;
  /** Rows read from the journal (the session keeps the newest `maxSamples`). */
  rows: number;
  /** Lines read, the torn last line and blank lines aside. */
  lines: number;
  /** Lines that could not be read (not JSON, or not what the journal writes), skipped. */
  skipped: number;
  /** The last line was cut short (the normal end of a journal after `kill -9` or a power cut): dropped. */
  torn: boolean;
}

/** A time a Date can hold (ms since the epoch). */
const isTime = (value: unknown): value is number => typeof value === 'number' && Math.abs(value) <= 8.64e15;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An array of plain objects. */
const objects = (value: unknown): boolean => Array.isArray(value) && value.every(isObject);

function isHeader(value: unknown): value is JournalHeader {
  if (!isObject(value)) return false;
  const config = value.config;
  return (
    value.journal === JOURNAL_VERSION &&
    typeof value.sessionId === 'string' &&
    value.sessionId.length > 0 &&
    isTime(value.startedAt) &&
    (value.at === undefined || isTime(value.at)) &&
    typeof value.pid === 'number' &&
    isObject(value.host) &&
    typeof value.node === 'string' &&
    isObject(config) &&
    Number.isInteger(config.maxSamples) &&
    (config.maxSamples as number) >= 1 &&
    Array.isArray(config.plugins) &&
    Array.isArray(config.reporters) &&
    Array.isArray(config.rules) &&
    config.plugins.every((p) => typeof p === 'string') &&
    config.reporters.every((p) => typeof p === 'string') &&
    objects(value.catalogue) &&
    objects(value.recommendations) &&
    (value.recommendations as Array<Record<string, unknown>>).every((r) => typeof r.id === 'string') &&
    objects(value.alerts) &&
    objects(value.levels) &&
    objects(value.faults) &&
    objects(value.actions) &&
    isObject(value.overhead)
  );
}

/**
 * The first header in a journal segment (normally its first line; after a failed first write, a
 * later one), or null when there is none in its first 16 MB. Reads no more than it needs.
 */
export function readJournalHeader(file: string): JournalHeader | null {
  let text = '';
  let read = 0;
  for (const chunk of chunksOf(file, 1 << 16)) {
    read += chunk.length;
    text += chunk;
    let end = text.indexOf('\n');
    while (end >= 0) {
      const header = headerOf(text.slice(0, end));
      if (header) return header;
      text = text.slice(end + 1);
      end = text.indexOf('\n');
    }
    if (read > 16 * 1024 * 1024) return null;
  }
  return headerOf(text);
}

/** The header a line holds, or null (another line, a torn or damaged header). */
function headerOf(line: string): JournalHeader | null {
  if (!line.startsWith('{"h"')) return null;
  try {
    const parsed: unknown = JSON.parse(line);
    return isObject(parsed) && isHeader(parsed.h) ? parsed.h : null;
  } catch {
    return null;
  }
}

/**
 * A file's text in pieces of about `bytes` (a segment may be larger than a string can be), a
 * character split between two reads kept whole. Stopping early closes the file.
 */
function* chunksOf(file: string, bytes = 4 << 20): Generator<string> {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const decoder = new StringDecoder('utf8');
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      yield decoder.write(buffer.subarray(0, n));
    }
    const rest = decoder.end();
    if (rest) yield rest;
  } finally {
    closeSync(fd);
  }
}

/** A bad line: skipped and counted. */
class Skip extends Error {}

/**
 * Rebuilds the session a journal holds: its segments (oldest first) are read line by line into a
 * core `Store` of the session's `maxSamples` (which keeps the newest rows, as the profiler's did)
 * and what the evaluations recorded, then `buildSession` makes the profile. A torn last line is
 * dropped; a line that cannot be read is skipped and counted. Throws SESSION_INVALID when no
 * segment holds a readable header.
 */
export function rebuildSession(segments: string[], options: { recoveredAt?: number; journal?: string } = {}): RecoveredJournal {
  let header: JournalHeader | null = null;
  let store: Store | null = null;
  /** Journal (Store) index of a metric -> its index in the rebuilt store. */
  let indices: number[] = [];
  let row = new Float64Array(0);
  let lastT = -Infinity;
  let endedAt = -Infinity;
  let rows = 0;
  let lines = 0;
  let skipped = 0;
  let torn = false;
  const recommendations = new Map<string, SessionRecommendation>();
  let alerts: SessionAlert[] = [];
  let levels: SessionProfile['levels'] = [];
  let faults: Fault[] = [];
  let actions: ActionRecord[] = [];
  let overhead: JournalOverhead | null = null;
  let config: SessionProfile['config'] | null = null;

  const declare = (i: unknown, info: unknown): void => {
    const text = (key: string) => isObject(info) && typeof info[key] === 'string';
    if (!store || !Number.isInteger(i) || (i as number) < 0 || (i as number) > 1e7 || !['name', 'plugin', 'unit', 'kind', 'description'].every(text)) throw new Skip();
    const index = store.declare({ ...(info as unknown as MetricInfo) });
    indices[i as number] = index;
    if (row.length <= index) {
      const grown = new Float64Array(Math.max(16, index + 1, row.length * 2)).fill(Number.NaN);
      grown.set(row);
      row = grown;
    }
  };

  const onHeader = (h: unknown): void => {
    if (!isHeader(h)) throw new Skip();
    if (header && (h.sessionId !== header.sessionId || h.startedAt !== header.startedAt)) throw new Skip(); // another session's
    if (!store) store = new Store(h.config.maxSamples, h.startedAt);
    header = h;
    config = h.config as SessionProfile['config'];
    indices = [];
    h.catalogue.forEach((info, i) => {
      try {
        declare(i, info);
      } catch {
        skipped++; // one bad entry: that metric is left out
      }
    });
    row.fill(Number.NaN); // the next row is written in full
    recommendations.clear();
    for (const r of h.recommendations) recommendations.set(recommendationKey(r.id, r.module), { ...r });
    alerts = h.alerts.slice(-MAX_ALERT_TIMELINE);
    levels = h.levels;
    faults = h.faults;
    actions = h.actions;
    overhead = h.overhead;
    endedAt = Math.max(endedAt, h.at ?? h.startedAt);
  };

  const onRow = (values: unknown[]): void => {
    const t = values[0];
    if (!store || !isTime(t) || t < lastT || values.length % 2 !== 1) throw new Skip();
    for (let k = 1; k < values.length; k += 2) {
      const i = values[k];
      const v = values[k + 1];
      const index = Number.isInteger(i) ? indices[i as number] : undefined;
      if (index === undefined || (v !== null && typeof v !== 'number')) throw new Skip();
    }
    for (let k = 1; k < values.length; k += 2) row[indices[values[k] as number]!] = values[k + 1] === null ? Number.NaN : (values[k + 1] as number);
    store.commit(t, row);
    lastT = t;
    endedAt = Math.max(endedAt, t);
    rows++;
  };

  const onEvaluation = (e: unknown): void => {
    if (!isObject(e) || !isTime(e.t)) throw new Skip();
    if (e.r !== undefined && !(Array.isArray(e.r) && e.r.every((r) => typeof r === 'string' || (isObject(r) && typeof r.id === 'string')))) throw new Skip();
    if ((e.a !== undefined && !objects(e.a)) || (e.l !== undefined && !objects(e.l))) throw new Skip();
    const entry = e as unknown as JournalEvaluation;
    const at = new Date(entry.t).toISOString();
    for (const r of entry.r ?? []) {
      if (typeof r === 'string') {
        const seen = recommendations.get(r);
        if (!seen) continue; // its first sighting was in a line lost before
        seen.count++;
        seen.lastSeen = at;
      } else {
        const key = recommendationKey(r.id, r.module);
        const seen = recommendations.get(key);
        if (seen) recommendations.set(key, { ...seen, ...r, count: seen.count + 1, lastSeen: at });
        else recommendations.set(key, { ...r, firstSeen: at, lastSeen: at, count: 1 });
      }
    }
    for (const alert of entry.a ?? []) {
      if (alerts.length >= MAX_ALERT_TIMELINE) alerts.shift();
      alerts.push(alert);
    }
    if (Array.isArray(entry.l)) levels = entry.l;
    endedAt = Math.max(endedAt, entry.t);
  };

  const onState = (s: unknown): void => {
    if (!isObject(s) || !isTime(s.t) || !isObject(s.o)) throw new Skip();
    if ((s.f !== undefined && !objects(s.f)) || (s.x !== undefined && !objects(s.x)) || (s.rules !== undefined && !objects(s.rules))) throw new Skip();
    const state = s as unknown as JournalState;
    overhead = state.o;
    if (Array.isArray(state.f)) faults = state.f;
    if (Array.isArray(state.x)) actions = state.x;
    if (Array.isArray(state.rules) && config) config = { ...config, rules: state.rules };
    endedAt = Math.max(endedAt, state.t);
  };

  const onLine = (line: string): void => {
    const value: unknown = JSON.parse(line);
    if (Array.isArray(value)) return onRow(value);
    if (!isObject(value)) throw new Skip();
    if ('h' in value) return onHeader(value.h);
    if (!header) throw new Skip(); // nothing can be read before a header
    if ('m' in value && Array.isArray(value.m) && value.m.length === 2) return declare(value.m[0], value.m[1]);
    if ('e' in value) return onEvaluation(value.e);
    if ('s' in value) return onState(value.s);
    throw new Skip();
  };

  for (let s = 0; s < segments.length; s++) {
    let tail = '';
    for (const chunk of chunksOf(segments[s]!)) {
      const parts = (tail + chunk).split('\n');
      // The part after the last newline: the start of the next line, or one a crash cut short.
      tail = parts.pop()!;
      for (const line of parts) {
        if (line.trim() === '') continue;
        lines++;
        try {
          onLine(line);
        } catch {
          skipped++;
        }
      }
    }
    if (tail.trim() !== '') {
      try {
        onLine(tail);
        lines++;
      } catch {
        // Only the newest segment ends where the process stopped; a cut elsewhere is damage.
        if (s === segments.length - 1) torn = true;
        else skipped++;
      }
    }
  }

  // (Assigned in the closures above: TypeScript's narrowing does not see it.)
  const h = header as JournalHeader | null;
  const summary = config as SessionProfile['config'] | null;
  const last = overhead as JournalOverhead | null;
  if (!h || !store || !summary || !last) {
    throw new LoadlightError('SESSION_INVALID', `${options.journal ?? segments.join(', ')} holds no readable journal header: nothing to recover`);
  }
  const end = Math.max(endedAt, h.startedAt);
  const built = buildSession({
    sessionId: h.sessionId,
    startedAt: h.startedAt,
    endedAt: end,
    // buildSession reads the config's summary fields only; the journal's summary replaces it below.
    config: {
      configFile: summary.file,
      sampleIntervalMs: summary.sampleIntervalMs,
      evaluateEveryMs: summary.evaluateEveryMs,
      maxSamples: summary.maxSamples,
      windowSeconds: summary.windowSeconds,
      plugins: summary.plugins.map((name) => ({ name })),
      reporters: summary.reporters.map((name) => ({ name })),
      baseDir: '/',
    } as unknown as Parameters<typeof buildSession>[0]['config'],
    store,
    rules: [],
    evaluation: { t: end, levels, recommendations: [], alerts: [], transitions: [] } as unknown as Parameters<typeof buildSession>[0]['evaluation'],
    records: { recommendations, alerts },
    overhead: last,
    faults,
    actions,
  });
  const session: SessionProfile = {
    ...built,
    host: h.host,
    node: h.node,
    pid: h.pid,
    config: summary,
    levels,
    overhead: { ...last },
    recovered: {
      at: new Date(options.recoveredAt ?? Date.now()).toISOString(),
      journal: options.journal ?? segments[segments.length - 1]!,
      rows,
      skippedLines: skipped,
      tornLastLine: torn,
    },
  };
  return { session, rows, lines, skipped, torn };
}
