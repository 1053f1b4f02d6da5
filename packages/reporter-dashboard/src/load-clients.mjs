// @ts-check
// The clients of the load test (load.test.ts), run in a worker thread so that their parsing does
// not share the event loop of the profiled program they load: SSE streams as a browser opens them
// (token in the query) and a burst of API requests over keep-alive connections, all real HTTP on
// loopback. The main thread sends `{ seq, cmd, args }`; the worker answers `{ seq, result }` or
// `{ seq, error }`. Plain JavaScript: a worker runs outside vitest's TypeScript transform.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { validateSession } from '@loadlight/core';

if (!parentPort) throw new Error('load-clients.mjs runs as a worker thread');
const port = parentPort;

// Browsers run in their own processes: this thread yields the CPU to the profiled program's
// (Linux sets the priority per thread; elsewhere the clients keep the process's priority).
try {
  setPriority(Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]), 19);
} catch {
  // no /proc/thread-self: not Linux
}

/**
 * @typedef {{ ids: number[], ts: number[], hello: number, actions: number, stopped: number,
 *   badSnapshots: string[], status: number, ended: boolean, error: string | null }} StreamRecord
 */

/** One `GET /api/events` stream, parsed as an EventSource does (`id:`, `event:`, `data:`). */
class Stream {
  /** @param {string} origin @param {string} token @param {string} sessionId */
  constructor(origin, token, sessionId) {
    /** @type {StreamRecord} */
    this.record = { ids: [], ts: [], hello: 0, actions: 0, stopped: 0, badSnapshots: [], status: 0, ended: false, error: null };
    this.sessionId = sessionId;
    this.buffer = '';
    /** @type {number | null} */
    this.lastId = null;
    const url = new URL(origin);
    /** @type {Promise<void>} */
    this.closed = new Promise((resolve) => (this.onClosed = resolve));
    this.req = request({ host: url.hostname, port: url.port, path: `/api/events?token=${encodeURIComponent(token)}`, agent: false }, (res) => {
      this.record.status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (/** @type {string} */ chunk) => this.feed(chunk));
      res.on('close', () => this.end(null));
      res.on('error', (error) => this.end(error));
    });
    this.req.on('error', (error) => this.end(error));
    this.req.on('close', () => this.end(null));
    this.req.end();
  }

  /** @param {Error | null} error */
  end(error) {
    if (error && !this.record.error && !this.closing) this.record.error = error.message;
    this.record.ended = true;
    this.onClosed?.();
  }

  close() {
    this.closing = true;
    this.req.destroy();
    return this.closed;
  }

  /** @param {string} chunk */
  feed(chunk) {
    this.buffer += chunk;
    let end;
    while ((end = this.buffer.indexOf('\n\n')) !== -1) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let name = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) this.lastId = Number(line.slice(4));
        else if (line.startsWith('event: ')) name = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (data === '') continue; // retry: and : ping
      this.event(name, data);
    }
  }

  /** @param {string} name @param {string} data */
  event(name, data) {
    const r = this.record;
    if (name === 'hello') r.hello++;
    else if (name === 'action') r.actions++;
    else if (name === 'stopped') r.stopped++;
    else if (name === 'snapshot') {
      const snapshot = JSON.parse(data);
      const problem =
        snapshot.sessionId !== this.sessionId
          ? `sessionId ${snapshot.sessionId}`
          : typeof snapshot.t !== 'number'
            ? 'no t'
            : typeof snapshot.metrics !== 'object' || Object.keys(snapshot.metrics).length === 0
              ? 'no metrics'
              : !Array.isArray(snapshot.modules) || snapshot.modules.length === 0
                ? 'no modules'
                : this.lastId === null
                  ? 'no id'
                  : null;
      if (problem) r.badSnapshots.push(problem);
      r.ids.push(this.lastId ?? -1);
      r.ts.push(snapshot.t);
    }
  }
}

/** @type {Stream[]} */
let streams = [];

/**
 * The requests of the burst: each kind with its path, method, headers, the status it must get and
 * a check of its body (a message when wrong).
 * @param {{ token: string, sessionId: string, metric: string, modules: number }} a
 * @returns {Array<{ kind: string, count: number, path: string, method?: string, headers: Record<string, string>, status: number, check: (json: any) => string | null }>}
 */
function kinds({ token, sessionId, metric, modules }) {
  const auth = { Authorization: `Bearer ${token}` };
  /** @param {any} json */
  const anError = (json) => (typeof json?.error === 'string' && json.error.length > 0 ? null : 'no error message');
  return [
    {
      kind: 'snapshot', count: 250, path: '/api/snapshot', headers: auth, status: 200,
      check: (s) =>
        s.sessionId !== sessionId ? 'wrong session' : !(metric in s.metrics) ? `no ${metric}` : s.modules?.length < modules ? 'modules missing' : null,
    },
    {
      kind: 'session', count: 150, path: '/api/session', headers: auth, status: 200,
      check: (s) => {
        try {
          validateSession(s, 'GET /api/session');
        } catch (error) {
          return error instanceof Error ? error.message.slice(0, 300) : String(error);
        }
        return s.sessionId !== sessionId ? 'wrong session' : s.samples.t.length === 0 ? 'no samples' : null;
      },
    },
    {
      kind: 'rules', count: 100, path: '/api/rules', headers: auth, status: 200,
      check: (r) => (r.error !== null ? `error ${r.error}` : r.files.length === 0 || r.rules.length === 0 ? 'no rules' : null),
    },
    {
      kind: 'history', count: 200, path: `/api/history?seconds=60&metrics=${metric}`, headers: auth, status: 200,
      check: (h) => (h.t.length === 0 ? 'no samples' : h.values[metric]?.length !== h.t.length ? 'values and times differ in length' : null),
    },
    {
      kind: 'history (all)', count: 50, path: '/api/history', headers: auth, status: 200,
      check: (h) => (Object.keys(h.values).length < 2 ? 'too few metrics' : Object.values(h.values).some((v) => v.length !== h.t.length) ? 'lengths differ' : null),
    },
    { kind: 'history: unknown metric', count: 50, path: '/api/history?metrics=no.such.metric', headers: auth, status: 400, check: anError },
    { kind: 'no token', count: 100, path: '/api/session', headers: {}, status: 401, check: anError },
    { kind: 'wrong token', count: 50, path: '/api/snapshot', headers: { Authorization: 'Bearer not-the-token-0123456789' }, status: 401, check: anError },
    { kind: 'unknown endpoint', count: 25, path: '/api/nothing', headers: auth, status: 404, check: anError },
    { kind: 'unknown action', count: 25, path: '/api/actions/no.such-action', method: 'POST', headers: auth, status: 404, check: anError },
  ];
}

/** A deterministic shuffle (mulberry32), so that the kinds interleave the same way every run. */
function shuffle(/** @type {any[]} */ items, seed = 7) {
  let a = seed;
  const random = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/**
 * @param {Agent} agent @param {URL} url
 * @param {{ path: string, method?: string, headers: Record<string, string> }} spec
 * @returns {Promise<{ status: number, type: string, text: string }>}
 */
function fetchOne(agent, url, spec) {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: spec.path, method: spec.method ?? 'GET', headers: spec.headers, agent }, (res) => {
      const chunks = /** @type {Buffer[]} */ ([]);
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer to ${spec.path} in 30 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** @param {{ origin: string, token: string, sessionId: string, metric: string, modules: number, concurrency: number }} a */
async function burst(a) {
  const url = new URL(a.origin);
  const agent = new Agent({ keepAlive: true, maxSockets: a.concurrency });
  const plan = shuffle(kinds(a).flatMap((k) => Array.from({ length: k.count }, () => k)));
  /** @type {Record<string, { expected: number, count: number, statuses: Record<string, number>, invalid: string[] }>} */
  const byKind = {};
  /** @type {number[]} */
  const latencies = [];
  let next = 0;
  const started = performance.now();
  const runner = async () => {
    while (next < plan.length) {
      const spec = plan[next++];
      const entry = (byKind[spec.kind] ??= { expected: spec.status, count: 0, statuses: {}, invalid: [] });
      const from = performance.now();
      let problem = null;
      try {
        const answer = await fetchOne(agent, url, spec);
        latencies.push(performance.now() - from);
        entry.statuses[answer.status] = (entry.statuses[answer.status] ?? 0) + 1;
        if (answer.type !== 'application/json; charset=utf-8') problem = `content-type ${answer.type}`;
        else problem = spec.check(JSON.parse(answer.text));
      } catch (error) {
        entry.statuses.failed = (entry.statuses.failed ?? 0) + 1;
        problem = error instanceof Error ? error.message : String(error);
      }
      entry.count++;
      if (problem && entry.invalid.length < 5) entry.invalid.push(problem);
      else if (problem) entry.invalid.push('...');
    }
  };
  await Promise.all(Array.from({ length: a.concurrency }, runner));
  const durationMs = performance.now() - started;
  agent.destroy();
  latencies.sort((x, y) => x - y);
  const at = (/** @type {number} */ q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { total: plan.length, byKind, durationMs, latency: { p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? 0 } };
}

const commands = {
  /** Opens `count` streams; resolves once each has its hello and first snapshot. */
  async connect(/** @type {{ origin: string, token: string, sessionId: string, count: number }} */ a) {
    const opened = Array.from({ length: a.count }, () => new Stream(a.origin, a.token, a.sessionId));
    streams.push(...opened);
    const end = Date.now() + 30_000;
    while (opened.some((s) => s.record.ids.length === 0 && !s.record.ended)) {
      if (Date.now() > end) throw new Error('streams did not get their first snapshot in 30 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return opened.map((s) => ({ status: s.record.status, firstId: s.record.ids[0] ?? null, error: s.record.error }));
  },
  /** The lowest latest snapshot id over the open streams, and how many ended. */
  status() {
    const open = streams.filter((s) => !s.record.ended);
    return { open: open.length, ended: streams.length - open.length, minLastId: Math.min(...open.map((s) => s.record.ids.at(-1) ?? -1)) };
  },
  burst,
  /** What every stream received. */
  records() {
    return streams.map((s) => s.record);
  },
  /** Closes every stream (as a tab closes) and waits until each connection is gone. */
  async close() {
    await Promise.all(streams.map((s) => s.close()));
    streams = [];
    return true;
  },
};

port.on('message', async (/** @type {{ seq: number, cmd: keyof typeof commands, args: any }} */ { seq, cmd, args }) => {
  try {
    port.postMessage({ seq, result: await commands[cmd](args) });
  } catch (error) {
    port.postMessage({ seq, error: error instanceof Error ? error.stack ?? error.message : String(error) });
  }
});
