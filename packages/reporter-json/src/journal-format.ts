import type { ActionRecord, Fault, MetricInfo, SessionAlert, SessionProfile, SessionRecommendation } from '@loadlight/core';

/**
 * The journal: one JSON value per line, appended while the profiler runs, in at most two
 * segments, `<base>.journal.old.jsonl` (older) and `<base>.journal.jsonl`. Each segment starts
 * with a header (`{"h": ...}`: the whole state a session needs besides its rows), and may hold
 * another header later (after a failed write: the state again, from which reading resumes). Lines:
 *
 * - `{"h": JournalHeader}`: the state; the next row is written in full.
 * - `[t, i, v, i, v, ...]`: a row at time `t` (ms): the values (`null`: missing) of the metrics
 *   of index `i` (the Store's index) that differ from the previous row of the segment; every
 *   other metric holds the value it had there. Values are as the Store holds them.
 * - `{"m": [i, MetricInfo]}`: metric `i` declared (or declared again, or marked unavailable).
 * - `{"e": JournalEvaluation}`: what an evaluation of the rules added (recommendations, alert
 *   transitions, levels when they changed).
 * - `{"s": JournalState}`: about once a second, after a row (alone when only faults, actions or
 *   rules changed): overhead, and faults, actions or rules when they changed.
 */
export const JOURNAL_VERSION = 1;

export const JOURNAL_SUFFIX = '.journal.jsonl';
export const OLD_JOURNAL_SUFFIX = '.journal.old.jsonl';

/** Overhead as in the session (with the process's heap and RSS). */
export type JournalOverhead = SessionProfile['overhead'];

export interface JournalHeader {
  /** The journal format (`JOURNAL_VERSION`). */
  journal: number;
  sessionId: string;
  /** ms since the epoch. */
  startedAt: number;
  /** When this header was written (ms since the epoch). */
  at: number;
  pid: number;
  host: SessionProfile['host'];
  node: string;
  config: SessionProfile['config'];
  /** Every metric declared so far, in Store index order. */
  catalogue: MetricInfo[];
  recommendations: SessionRecommendation[];
  alerts: SessionAlert[];
  levels: SessionProfile['levels'];
  faults: Fault[];
  actions: ActionRecord[];
  overhead: JournalOverhead;
}

/**
 * What one evaluation added. `r`: per recommendation, its record in full when new or its message
 * changed (`SessionRecommendation` less count, firstSeen and lastSeen), else its key (`id` NUL
 * `module`): seen once more. `a`: alert transitions, as in the session. `l`: levels, when they changed.
 */
export interface JournalEvaluation {
  t: number;
  r?: Array<string | JournalRecommendation>;
  a?: SessionAlert[];
  l?: SessionProfile['levels'];
}

export type JournalRecommendation = Omit<SessionRecommendation, 'count' | 'firstSeen' | 'lastSeen'>;

export interface JournalState {
  t: number;
  o: JournalOverhead;
  f?: Fault[];
  x?: ActionRecord[];
  rules?: SessionProfile['config']['rules'];
}

