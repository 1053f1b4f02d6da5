/**
 * What the dashboard server sends and accepts: shared by the server (src/) and the page (ui/).
 * Types only plus a few constants: safe to import from browser code (no Node modules).
 *
 * Auth, for the page: the page URL carries `?token=<token>`. API calls send it as
 * `Authorization: Bearer <token>`; the EventSource sends it as `/api/events?token=<token>`
 * (EventSource cannot set headers). A 401 means the token is wrong, which happens after the
 * program restarted with a new token: the page should say so (open the URL the program printed).
 *
 * Static files are served with a Content-Security-Policy (`CONTENT_SECURITY_POLICY`): scripts,
 * styles, fonts, images and connections from the server itself only (inline styles and data:/blob:
 * images allowed), no frames.
 */
import type { ActionRecord, LoadLevel, Snapshot } from '@loadlight/core';

/** Bumped when a payload changes incompatibly; sent in `hello`. */
export const PROTOCOL_VERSION = 1;

/** The SSE events of `GET /api/events`, in the order a connection sees them first. */
export const SSE_EVENTS = ['hello', 'snapshot', 'action', 'stopped'] as const;
export type SseEventName = (typeof SSE_EVENTS)[number];

/** Query parameter that carries the token (page URL and EventSource URL). */
export const TOKEN_PARAM = 'token';

/** The browser reconnects this long after a dropped SSE connection (`retry:` field). */
export const SSE_RETRY_MS = 1000;

/** A `: ping` comment is sent this often, so proxies and the page can tell the stream is alive. */
export const SSE_PING_MS = 15_000;

/** Sent with the HTML page and every static file. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** `event: hello`, first on every connection (and again after a reconnect). */
export interface HelloPayload {
  protocol: typeof PROTOCOL_VERSION;
  sessionId: string;
  /** ms since the epoch. */
  startedAt: number;
  /** How often `snapshot` events come. */
  reportIntervalMs: number;
  sampleIntervalMs: number;
  /** The window the rules see, in seconds. */
  windowSeconds: number;
  /** The `title` option (default "loadlight"). */
  title: string;
  pid: number;
  /** Whether GET requests need the token (`readsNeedToken` option). */
  readsNeedToken: boolean;
}

/** One profiled module, built by the server from `module.<name>.<field>` metrics. */
export interface ModuleRow {
  name: string;
  /** From `evaluation.levels` (kind `module`), null before the rules judged it. */
  level: LoadLevel | null;
  /** Tags declared on the module's metrics (`verbose`, `heatmap`...). */
  tags: string[];
  /**
   * Latest value of each field the module has, by field name (`cpu_percent`, `memory_mb`, `calls`,
   * `calls_per_minute`, `latency_p95_ms`, ... see core's MODULE_FIELDS). Absent field: not measured.
   */
  fields: Record<string, number | null>;
}

/**
 * `event: snapshot` and `GET /api/snapshot`: core's Snapshot plus what the page would otherwise
 * have to rebuild. Comes on connect, then at every report. The event's `id:` is the number of the
 * report (at connect: the latest report's), so ids n, n + 1, ... mean no report was missed.
 */
export interface DashboardSnapshot extends Snapshot {
  /** Every module, sorted by name. */
  modules: ModuleRow[];
  /** The last actions run (any source: dashboard, API, program), oldest first, at most 20. */
  recentActions: ActionRecord[];
}

/** `event: action`: an action run through `POST /api/actions/:id` (by any client). */
export type ActionPayload = ActionRecord;

/** `event: stopped`: the profiler stopped; the server closes the stream right after. */
export interface StoppedPayload {
  sessionId: string;
  /** ms since the epoch. */
  t: number;
}

/** Body of every error response (4xx, 5xx), with a message meant for people. */
export interface ApiError {
  error: string;
}

/** Body of `POST /api/actions/:id` (optional: an empty body is fine). */
export interface ActionRequest {
  /** The recommendation the user applied, if any (checked for shape only). */
  recommendation?: string;
}

/** 200 answer of `POST /api/actions/:id`; a handler that threw still gives 200 with `ok: false`. */
export interface ActionResponse {
  record: ActionRecord;
}

/** A rule in force, as `GET /api/rules` lists it. */
export interface DashboardRule {
  /** Absolute path of its rule file. */
  file: string;
  name: string;
  description: string;
  type: 'load-level' | 'recommendation' | 'alert';
  /** False while a fact it reads has no metrics (its plugin is not loaded, no module yet). */
  active: boolean;
  inactiveReason?: string;
  /** The rule's json-rules-engine conditions as written in the version of its file in force. */
  conditions: Record<string, unknown>;
  /** The rule's event (`{ type, params }`) as written in the version of its file in force. */
  event: { type: string; params: Record<string, unknown> };
}

/** 200 answer of `GET /api/rules`. */
export interface RulesResponse {
  files: Array<{ file: string; sha256: string; rules: number }>;
  rules: DashboardRule[];
  /** Set while the last edit of a rule file was rejected (the last good rules stay in force). */
  error: string | null;
}

/**
 * 200 answer of `GET /api/history?seconds=<n>&metrics=<a,b,...>`: the recent samples, for charts
 * after a (re)connect. `seconds` defaults to 300 (max: the whole ring); `metrics` defaults to
 * every metric that does not belong to a module. `values[name][i]` is the value at `t[i]`.
 */
export interface HistoryResponse {
  t: number[];
  values: Record<string, Array<number | null>>;
}

/** The endpoints, for building URLs. `/api/session?download=1` answers as a file download. */
export const API = {
  snapshot: '/api/snapshot',
  session: '/api/session',
  rules: '/api/rules',
  history: '/api/history',
  events: '/api/events',
  action: (id: string) => `/api/actions/${encodeURIComponent(id)}`,
} as const;
