import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describeError, isLoadlightError, type Profiler, type Snapshot } from '@loadlight/core';
import type { DashboardSettings } from './options.js';
import {
  PROTOCOL_VERSION,
  SSE_PING_MS,
  SSE_RETRY_MS,
  TOKEN_PARAM,
  type ActionResponse,
  type ApiError,
  type HelloPayload,
  type SseEventName,
  type StoppedPayload,
} from './protocol.js';
import { rulesResponse } from './rules.js';
import { notBuiltPage, resolveStatic, sendFile, STATIC_HEADERS } from './static.js';
import { DEFAULT_HISTORY_SECONDS, dashboardSnapshot, history } from './view.js';

export interface ServerOptions extends DashboardSettings {
  /** Absolute folder of the built page. */
  uiDir: string;
  /** The token of this server (fixed, or random per session). */
  token: string;
  /** An SSE client whose unsent data exceeds this is dropped (it reconnects when it catches up). Default 8 MiB. */
  maxBufferedBytes?: number;
  /** Simultaneous SSE connections. Default 64. */
  maxClients?: number;
  /** Requests waiting for their turn (see TURN_BUDGET_MS); beyond, 503. Default 512. */
  maxQueued?: number;
  /** Interval of `: ping` comments. Default 15 s. */
  pingMs?: number;
}

const MAX_BODY_BYTES = 16 * 1024;
const MAX_ACTION_ID_LENGTH = 200;
const ACTION_ID = /^[a-z0-9][a-z0-9_.-]*$/;
/** How long `close()` lets SSE streams flush their last event before cutting connections. */
const CLOSE_GRACE_MS = 250;
const PING = Buffer.from(': ping\n\n');
const EVENT_END = Buffer.from('\n\n');
/**
 * API answers are built in turns of at most this much work per event-loop iteration, so that a
 * burst of requests never holds the profiled program's timers and I/O (and the profiler's tick)
 * for longer than about this: Node would otherwise run every request that arrived at once in a row.
 */
const TURN_BUDGET_MS = 10;

/** A new random token: 32 bytes, base64url. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** An HTTP error answered as JSON `{ "error": message }`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface Client {
  res: ServerResponse;
}

interface Job {
  res: ServerResponse;
  run: () => void;
}

/** The JSON of a read, with the state it was built from (see `shared`). */
interface SharedAnswer {
  sample: number | null;
  actions: number;
  builtAt: number;
  body: Buffer;
}

type Route =
  | { name: 'snapshot' | 'session' | 'rules' | 'history' | 'events'; methods: ['GET', 'HEAD'] }
  | { name: 'action'; methods: ['POST']; id: string };

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The dashboard's HTTP server: the built page (static files), the JSON API and the SSE stream,
 * for one profiler. Never keeps the process alive (server and sockets are unref'd).
 */
export class DashboardServer {
  private readonly server: Server;
  private readonly clients = new Set<Client>();
  private readonly sockets = new Set<Socket>();
  private readonly tokenDigest: Buffer;
  private readonly maxBufferedBytes: number;
  private readonly maxClients: number;
  /** Requests waiting for their turn; beyond, 503 (each waiting one holds its request and response). */
  private readonly maxQueued: number;
  private ping: NodeJS.Timeout | null = null;
  /** Number of the latest report: the `id:` of its snapshot event (0 before the first). */
  private reportSeq = 0;
  private boundPort = 0;
  private closing: Promise<void> | null = null;
  private readonly queue: Job[] = [];
  /** Answers shared by the requests of a burst; emptied whenever no request waits. */
  private readonly answers = new Map<'snapshot' | 'session', SharedAnswer>();
  private draining = false;

  constructor(
    private readonly profiler: Profiler,
    private readonly options: ServerOptions,
  ) {
    this.tokenDigest = digest(options.token);
    this.maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.maxClients = options.maxClients ?? 64;
    this.maxQueued = options.maxQueued ?? 512;
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket: Socket) => {
      socket.unref();
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Starts listening; rejects with a clear message when the address cannot be used. */
  async listen(): Promise<void> {
    const { host, port } = this.options;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        this.server.removeListener('listening', onListening);
        reject(new Error(listenErrorMessage(error, host, port), { cause: error }));
      };
      const onListening = () => {
        this.server.removeListener('error', onError);
        resolve();
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      this.server.listen({ host, port, exclusive: true });
    });
    this.server.unref();
    this.boundPort = (this.server.address() as AddressInfo).port;
    this.ping = setInterval(() => this.broadcastRaw(PING), this.options.pingMs ?? SSE_PING_MS);
    this.ping.unref();
  }

  get port(): number {
    return this.boundPort;
  }

  /** `http://host:port` */
  get origin(): string {
    return `http://${formatHost(this.options.host)}:${this.boundPort}`;
  }

  /** The page's URL, token included. */
  get url(): string {
    return `${this.origin}/?${TOKEN_PARAM}=${encodeURIComponent(this.options.token)}`;
  }

  /** Open SSE streams. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Open TCP connections (streams, requests in flight, idle keep-alive). */
  get connectionCount(): number {
    return this.sockets.size;
  }

  /** Number of the latest report (the `id:` of its snapshot event); 0 before the first. */
  get reportId(): number {
    return this.reportSeq;
  }

  /**
   * Sends a snapshot to every SSE client (called at each report). Serialized and encoded once:
   * every client is handed the same Buffer, so clients that fall behind share its memory.
   */
  publishSnapshot(snapshot: Snapshot): void {
    if (this.closing) return;
    const id = ++this.reportSeq;
    if (this.clients.size === 0) return;
    this.broadcastRaw(Buffer.from(event('snapshot', dashboardSnapshot(this.profiler, snapshot), id)));
  }

  /** Ends every SSE stream (after a last snapshot and `stopped`), closes the server and its connections. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.ping) clearInterval(this.ping);
    this.ping = null;
    if (this.clients.size > 0) {
      const stopped: StoppedPayload = { sessionId: this.profiler.sessionId, t: Date.now() };
      const last = Buffer.from(event('snapshot', dashboardSnapshot(this.profiler), ++this.reportSeq) + event('stopped', stopped));
      const finished = [...this.clients].map(
        (client) =>
          new Promise<void>((resolve) => {
            client.res.once('close', resolve);
            client.res.once('finish', resolve);
            client.res.end(last);
          }),
      );
      this.clients.clear();
      await Promise.race([Promise.all(finished), delay(CLOSE_GRACE_MS)]);
    }
    if (!this.server.listening) {
      for (const socket of this.sockets) socket.destroy();
      return;
    }
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      // Requests still in flight (and keep-alive sockets) must not hold the close.
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const raw = req.url ?? '/';
      if (!raw.startsWith('/')) throw new HttpError(400, 'the request target must be a path');
      const query = raw.indexOf('?');
      const rawPath = query === -1 ? raw : raw.slice(0, query);
      const params = new URLSearchParams(query === -1 ? '' : raw.slice(query + 1));
      this.checkHost(req);
      if (rawPath === '/api' || rawPath.startsWith('/api/')) await this.api(req, res, rawPath, params);
      else await this.static(req, res, rawPath);
    } catch (error) {
      answerError(res, error);
    }
  }

  /** Runs `run` (the work of answering `res`) in the next turn with room; see TURN_BUDGET_MS. */
  private defer(res: ServerResponse, run: () => void): void {
    if (this.queue.length >= this.maxQueued) {
      throw new HttpError(503, `the dashboard is busy (${this.maxQueued} requests waiting); try again in a moment`, { 'Retry-After': '1' });
    }
    this.queue.push({ res, run });
    if (!this.draining) {
      this.draining = true;
      setImmediate(this.drain);
    }
  }

  /**
   * The JSON of a read that depends on the profiler's state only (snapshot, session), shared by
   * the requests of a burst: rebuilt when a sample or an action came since, or after one sample
   * interval (the session's `endedAt`, the snapshot's `uptimeMs`). A burst then costs one build
   * per tick, not one per request.
   */
  private shared(name: 'snapshot' | 'session', build: () => unknown): Buffer {
    const sample = this.profiler.store.latestTime();
    const actions = this.profiler.actions.runs;
    const now = Date.now();
    const known = this.answers.get(name);
    if (known && known.sample === sample && known.actions === actions && now - known.builtAt < this.profiler.config.sampleIntervalMs) {
      return known.body;
    }
    const body = Buffer.from(JSON.stringify(build()));
    this.answers.set(name, { sample, actions, builtAt: now, body });
    return body;
  }

  private readonly drain = (): void => {
    const end = performance.now() + TURN_BUDGET_MS;
    do {
      const job = this.queue.shift(); // at most maxQueued long: shift is cheap enough
      if (!job) break;
      if (job.res.destroyed) continue; // the client left while waiting
      try {
        job.run();
      } catch (error) {
        answerError(job.res, error);
      }
    } while (performance.now() < end);
    if (this.queue.length === 0) {
      this.draining = false;
      this.answers.clear(); // a session can be megabytes: not kept once the burst is over
    } else {
      // After this check phase: the timers that came due and the I/O that arrived, then more.
      setImmediate(this.drain);
    }
  };

  /**
   * On loopback, the Host header must name this server (a DNS-rebinding page would send its own
   * name). Beyond loopback the names people use cannot be known: the token protects.
   */
  private checkHost(req: IncomingMessage): void {
    if (this.options.remote) return;
    const host = (req.headers.host ?? '').toLowerCase();
    const port = this.boundPort;
    const names = [this.options.host, 'localhost', '127.0.0.1', '::1'].map((h) => formatHost(h.toLowerCase()));
    // Browsers leave out the default port.
    const allowed = new Set([...names.map((h) => `${h}:${port}`), ...(port === 80 ? names : [])]);
    if (!allowed.has(host)) throw new HttpError(403, `the Host header ${JSON.stringify(host)} does not name this dashboard (expected ${[...allowed][0]})`);
  }

  /** The origin a same-origin request sends: this server, under the name the browser used. */
  private ownOrigin(req: IncomingMessage): string {
    return `http://${(req.headers.host ?? '').toLowerCase()}`;
  }

  private async static(req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} is not allowed here; use GET`, { Allow: 'GET, HEAD' });
    const found = await resolveStatic(this.options.uiDir, rawPath);
    switch (found.kind) {
      case 'file':
        return sendFile(res, found, req.method === 'HEAD');
      case 'bad-path':
        throw new HttpError(400, `refused path: ${found.message}`);
      case 'not-found':
        throw new HttpError(404, `no file ${rawPath} in the dashboard`);
      case 'not-built': {
        if (rawPath !== '/' && rawPath !== '/index.html') {
          throw new HttpError(503, `the dashboard's page is not built (no ${this.options.uiDir}/index.html): run "npm run build -w @loadlight/reporter-dashboard"`);
        }
        const body = notBuiltPage(this.options.uiDir);
        res.writeHead(503, {
          ...STATIC_HEADERS,
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Length': Buffer.byteLength(body),
          'Cache-Control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
    }
  }

  private route(rawPath: string): Route {
    const reads = ['snapshot', 'session', 'rules', 'history', 'events'] as const;
    for (const name of reads) if (rawPath === `/api/${name}`) return { name, methods: ['GET', 'HEAD'] };
    const prefix = '/api/actions/';
    if (rawPath.startsWith(prefix)) {
      let id: string;
      try {
        id = decodeURIComponent(rawPath.slice(prefix.length));
      } catch {
        throw new HttpError(400, 'the action id is not valid percent-encoding');
      }
      return { name: 'action', methods: ['POST'], id };
    }
    throw new HttpError(404, `no endpoint ${rawPath}; the API has /api/snapshot, /api/session, /api/rules, /api/history, /api/events and POST /api/actions/:id`);
  }

  private async api(req: IncomingMessage, res: ServerResponse, rawPath: string, params: URLSearchParams): Promise<void> {
    const route = this.route(rawPath);
    const method = req.method ?? 'GET';
    if (!(route.methods as readonly string[]).includes(method)) {
      throw new HttpError(405, `${method} is not allowed on ${rawPath}; use ${route.methods[0]}`, { Allow: route.methods.join(', ') });
    }
    const writes = route.name === 'action';
    const tokenSource = this.checkToken(req, params, writes || this.options.readsNeedToken);
    this.checkOrigin(req, writes, tokenSource);

    // Reads build their answer in a turn (defer): the checks above are cheap and answered at once.
    const head = method === 'HEAD';
    switch (route.name) {
      case 'snapshot':
        return this.defer(res, () => sendJson(res, 200, this.shared('snapshot', () => dashboardSnapshot(this.profiler)), head));
      case 'session': {
        const headers: Record<string, string> = {};
        if (params.get('download') === '1') {
          const name = this.profiler.sessionId.replace(/[^A-Za-z0-9._-]/g, '_') || 'session';
          headers['Content-Disposition'] = `attachment; filename="${name}.json"`;
        }
        return this.defer(res, () => sendJson(res, 200, this.shared('session', () => this.profiler.session()), head, headers));
      }
      case 'rules':
        return this.defer(res, () => sendJson(res, 200, rulesResponse(this.profiler), head));
      case 'history':
        return this.defer(res, () => sendJson(res, 200, this.history(params), head));
      case 'events':
        return this.defer(res, () => this.events(req, res, head));
      case 'action':
        return this.runAction(req, res, route.id);
    }
  }

  /**
   * Checks the token when `required` (and whenever one is sent). Returns where it came from.
   * A token in both the header and the query must be the same.
   */
  private checkToken(req: IncomingMessage, params: URLSearchParams, required: boolean): 'header' | 'query' | null {
    const header = req.headers.authorization;
    let fromHeader: string | null = null;
    if (header !== undefined) {
      const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
      if (!match) throw new HttpError(401, 'the Authorization header must be "Bearer <token>"', { 'WWW-Authenticate': 'Bearer' });
      fromHeader = match[1]!;
    }
    const fromQuery = params.get(TOKEN_PARAM);
    if (fromHeader === null && fromQuery === null) {
      if (!required) return null;
      throw new HttpError(401, 'this request needs the dashboard token: open the URL the program printed ("loadlight dashboard: ...")', {
        'WWW-Authenticate': 'Bearer',
      });
    }
    for (const candidate of [fromHeader, fromQuery]) {
      if (candidate !== null && !timingSafeEqual(digest(candidate), this.tokenDigest)) {
        throw new HttpError(401, 'wrong dashboard token (a restarted program has a new one: open the URL it printed)', {
          'WWW-Authenticate': 'Bearer error="invalid_token"',
        });
      }
    }
    return fromHeader !== null ? 'header' : 'query';
  }

  /**
   * A browser request from another site carries its Origin (and Sec-Fetch-Site): refused. A POST
   * without Origin is a non-browser client: it must send the token in the Authorization header.
   */
  private checkOrigin(req: IncomingMessage, writes: boolean, tokenSource: 'header' | 'query' | null): void {
    const origin = req.headers.origin;
    if (origin !== undefined && origin.toLowerCase() !== this.ownOrigin(req)) {
      throw new HttpError(403, `cross-origin request refused (Origin ${JSON.stringify(origin)} is not this dashboard)`);
    }
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      throw new HttpError(403, `cross-site request refused (Sec-Fetch-Site: ${site})`);
    }
    if (writes && origin === undefined && tokenSource !== 'header') {
      throw new HttpError(403, 'a request without an Origin header must send the token as "Authorization: Bearer <token>"');
    }
  }

  private history(params: URLSearchParams): unknown {
    const secondsText = params.get('seconds');
    let seconds = DEFAULT_HISTORY_SECONDS;
    if (secondsText !== null) {
      seconds = Number(secondsText);
      if (secondsText.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
        throw new HttpError(400, `"seconds" must be a positive number, got ${JSON.stringify(secondsText)}`);
      }
    }
    const metricsText = params.get('metrics');
    let metrics: string[] | null = null;
    if (metricsText !== null) {
      metrics = metricsText.split(',').map((m) => m.trim()).filter(Boolean);
      const unknown = metrics.filter((m) => !this.profiler.store.info(m));
      if (unknown.length) throw new HttpError(400, `unknown metric${unknown.length > 1 ? 's' : ''}: ${unknown.slice(0, 10).join(', ')}`);
    }
    return history(this.profiler, seconds, metrics);
  }

  private events(req: IncomingMessage, res: ServerResponse, head: boolean): void {
    if (this.closing) throw new HttpError(503, 'the profiler is stopping');
    if (this.clients.size >= this.maxClients) {
      throw new HttpError(503, `too many dashboard connections (${this.maxClients}); close a tab`, { 'Retry-After': '5' });
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
    });
    if (head) {
      res.end();
      return;
    }
    req.socket.setNoDelay(true);
    const client: Client = { res };
    this.clients.add(client);
    const remove = () => this.clients.delete(client);
    res.on('close', remove);
    res.on('error', remove);
    const hello: HelloPayload = {
      protocol: PROTOCOL_VERSION,
      sessionId: this.profiler.sessionId,
      startedAt: this.profiler.startedAt,
      reportIntervalMs: this.profiler.config.reportIntervalMs,
      sampleIntervalMs: this.profiler.config.sampleIntervalMs,
      windowSeconds: this.profiler.config.windowSeconds,
      title: this.options.title,
      pid: process.pid,
      readsNeedToken: this.options.readsNeedToken,
    };
    // The snapshot carries the latest report's id: a client that sees id n + 1 next missed nothing.
    const snapshot = this.shared('snapshot', () => dashboardSnapshot(this.profiler));
    const opening = `retry: ${SSE_RETRY_MS}\n\n${event('hello', hello)}${eventHead('snapshot', this.reportSeq)}`;
    this.send(client, Buffer.concat([Buffer.from(opening), snapshot, EVENT_END]));
  }

  private async runAction(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    if (id.length === 0 || id.length > MAX_ACTION_ID_LENGTH || !ACTION_ID.test(id)) {
      throw new HttpError(400, `${JSON.stringify(id.slice(0, 100))} is not an action id (lower case letters, digits, ".", "-" or "_")`);
    }
    await readActionBody(req);
    if (!this.profiler.actions.has(id)) {
      const known = this.profiler.actions.list().map((a) => a.id);
      throw new HttpError(404, `no action "${id}" is registered${known.length ? ` (registered: ${known.join(', ')})` : ''}`);
    }
    if (this.closing || !this.profiler.running) throw new HttpError(409, 'the profiler is not running');
    let record;
    try {
      record = await this.profiler.actions.run(id, { source: 'dashboard' });
    } catch (error) {
      if (isLoadlightError(error) && error.code === 'ACTION_NOT_FOUND') throw new HttpError(404, error.message);
      throw error;
    }
    this.broadcastRaw(Buffer.from(event('action', record)));
    const body: ActionResponse = { record };
    sendJson(res, 200, body, false);
  }

  private broadcastRaw(chunk: Buffer): void {
    for (const client of this.clients) this.send(client, chunk);
  }

  /** Writes to one client; a client that does not read (its buffer over the limit) is dropped. */
  private send(client: Client, chunk: string | Buffer): void {
    const { res } = client;
    if (res.destroyed || res.writableEnded) {
      this.clients.delete(client);
      return;
    }
    res.write(chunk);
    if (res.writableLength > this.maxBufferedBytes) {
      this.clients.delete(client);
      res.destroy();
    }
  }
}

/** One SSE event; `id` (snapshots: the report's number) lets a client check it missed none. */
function event(name: SseEventName, data: unknown, id?: number): string {
  // JSON.stringify escapes line breaks inside strings: the data fits on one `data:` line.
  return `${eventHead(name, id)}${JSON.stringify(data)}\n\n`;
}

/** An SSE event up to its data (which, then `\n\n`, ends it). */
function eventHead(name: SseEventName, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${name}\ndata: `;
}

/** Reads and checks the optional JSON body of an action request. */
async function readActionBody(req: IncomingMessage): Promise<{ recommendation?: string }> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`, { Connection: 'close' });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`, { Connection: 'close' });
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(415, `the body must be JSON with "Content-Type: application/json" (got ${JSON.stringify(req.headers['content-type'] ?? 'none')})`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `the body is not valid JSON: ${describeError(error)}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'the body must be a JSON object, such as {"recommendation": "ocr-too-frequent"}');
  const extra = Object.keys(body).filter((key) => key !== 'recommendation');
  if (extra.length) throw new HttpError(400, `unknown field${extra.length > 1 ? 's' : ''} in the body: ${extra.join(', ')} (expected: recommendation)`);
  const { recommendation } = body as { recommendation?: unknown };
  if (recommendation !== undefined && (typeof recommendation !== 'string' || recommendation.length === 0 || recommendation.length > 200)) {
    throw new HttpError(400, '"recommendation" must be a recommendation id (a non-empty string)');
  }
  return recommendation === undefined ? {} : { recommendation };
}

/** Answers JSON: `data` serialized, or a Buffer that already holds it. */
function sendJson(res: ServerResponse, status: number, data: unknown, head: boolean, headers: Record<string, string> = {}): void {
  const body = Buffer.isBuffer(data) ? data : JSON.stringify(data);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(head ? undefined : body);
}

/** Answers an error thrown while handling `res`: an HttpError with its status, anything else 500. */
function answerError(res: ServerResponse, error: unknown): void {
  if (error instanceof HttpError) sendError(res, error.status, error.message, error.headers);
  else sendError(res, 500, `the dashboard failed to answer: ${describeError(error)}`);
}

function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body: ApiError = { error: message };
  sendJson(res, status, body, false, headers);
}

function listenErrorMessage(error: NodeJS.ErrnoException, host: string, port: number): string {
  const where = `${formatHost(host)}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: the port is in use (set the "port" option to another port, or 0 for any free one)`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied (ports below 1024 need privileges; pick another "port")`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: this machine has no such address (check the "host" option)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on ${where}: the host name does not resolve (check the "host" option)`;
    default:
      return `cannot listen on ${where}: ${describeError(error)}`;
  }
}

/** Kept referenced: a program that ends while the profiler stops must still get to its export. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
