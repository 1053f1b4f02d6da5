// The live connection to the server's event stream (`GET /api/events`), with its state for the
// page's indicator. The browser's EventSource reconnects by itself after a dropped connection or
// while the server is down (it stays CONNECTING and retries every `retry:` ms); it gives up
// (CLOSED) when an answer is not a stream, such as a 401 after the program restarted with another
// token. Then this class retries with its own backoff, and asks `probe` why, to say so.
// No DOM types here: the EventSource comes from `createSource`, so that tests can drive it.
import type { ActionPayload, DashboardSnapshot, HelloPayload, StoppedPayload } from '../../src/protocol.js';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface ConnectionStatus {
  state: ConnectionState;
  /** Why, for people, when not connected. */
  detail: string | null;
  /** When this class will try again by itself (ms since the epoch), if it will. */
  retryAt: number | null;
  /** Failed attempts since the last good connection. */
  failures: number;
}

/** What the page needs of an EventSource. */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
  close(): void;
}

/** `EventSource.CLOSED` */
const CLOSED = 2;

export type ProbeResult = 'ok' | 'unauthorized' | 'unreachable';

export interface LiveHandlers {
  hello(payload: HelloPayload): void;
  snapshot(payload: DashboardSnapshot): void;
  action(payload: ActionPayload): void;
  stopped(payload: StoppedPayload): void;
  status(status: ConnectionStatus): void;
}

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ConnectionOptions {
  url: string;
  createSource(url: string): EventSourceLike;
  /** Called after the browser gave up, to tell a refused token from a server that is down. */
  probe?(): Promise<ProbeResult>;
  /** First delay of our own retries; doubles up to `maxDelayMs`. Default 1000. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Failing this long shows "disconnected" rather than "reconnecting". Default 5000. */
  disconnectedAfterMs?: number;
  /** Connected but no event for this long: the stream is taken as dead and reopened. Default 40 s. */
  staleAfterMs?: number;
  timers?: Timers;
}

const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class LiveConnection {
  private source: EventSourceLike | null = null;
  private current: ConnectionStatus = { state: 'connecting', detail: null, retryAt: null, failures: 0 };
  private everConnected = false;
  private failingSince: number | null = null;
  private lastEventAt = 0;
  private retryTimer: unknown = null;
  private disconnectTimer: unknown = null;
  private staleTimer: unknown = null;
  private closed = false;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly disconnectedAfterMs: number;
  private staleAfterMs: number;
  private readonly timers: Timers;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly handlers: LiveHandlers,
  ) {
    this.initialDelayMs = options.initialDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 15_000;
    this.disconnectedAfterMs = options.disconnectedAfterMs ?? 5000;
    this.staleAfterMs = options.staleAfterMs ?? 40_000;
    this.timers = options.timers ?? realTimers;
  }

  get status(): ConnectionStatus {
    return this.current;
  }

  start(): void {
    this.closed = false;
    this.open();
  }

  /** Stops for good (the page is closing). */
  close(): void {
    this.closed = true;
    this.source?.close();
    this.source = null;
    for (const timer of [this.retryTimer, this.disconnectTimer, this.staleTimer]) if (timer !== null) this.timers.clearTimeout(timer);
    this.retryTimer = this.disconnectTimer = this.staleTimer = null;
  }

  /** Reopens now (the user asked, or a retry is due). */
  reconnect(): void {
    if (this.closed) return;
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.source?.close();
    this.source = null;
    this.open();
  }

  /** A stream that goes quiet longer than this is reopened; follows the server's report interval. */
  expectEventsEvery(ms: number): void {
    this.staleAfterMs = Math.max(this.options.staleAfterMs ?? 40_000, ms * 5);
  }

  private open(): void {
    const source = this.options.createSource(this.options.url);
    this.source = source;
    if (!this.everConnected) this.set({ state: 'connecting', detail: null, retryAt: null });
    else if (this.current.state === 'connected') this.set({ state: 'reconnecting', detail: 'connection lost: reconnecting', retryAt: null });

    source.addEventListener('open', () => {
      if (this.source !== source) return;
      this.everConnected = true;
      this.failingSince = null;
      this.lastEventAt = this.timers.now();
      if (this.disconnectTimer !== null) this.timers.clearTimeout(this.disconnectTimer);
      this.disconnectTimer = null;
      this.set({ state: 'connected', detail: null, retryAt: null, failures: 0 });
      this.armStaleCheck();
    });
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      this.failed(source);
    });
    const on = <T>(type: string, handle: (payload: T) => void) =>
      source.addEventListener(type, (event) => {
        if (this.source !== source) return;
        this.lastEventAt = this.timers.now();
        let payload: T;
        try {
          payload = JSON.parse(String(event.data)) as T;
        } catch {
          return; // not ours to fix: a malformed event is skipped
        }
        handle(payload);
      });
    on<HelloPayload>('hello', (p) => {
      this.expectEventsEvery(p.reportIntervalMs);
      this.handlers.hello(p);
    });
    on<DashboardSnapshot>('snapshot', (p) => this.handlers.snapshot(p));
    on<ActionPayload>('action', (p) => this.handlers.action(p));
    on<StoppedPayload>('stopped', (p) => {
      this.handlers.stopped(p);
      this.set({ state: 'reconnecting', detail: 'the program stopped: waiting for it to start again', retryAt: null });
    });
  }

  private failed(source: EventSourceLike): void {
    const now = this.timers.now();
    this.failingSince ??= now;
    const failures = this.current.failures + 1;
    const longDown = now - this.failingSince >= this.disconnectedAfterMs;
    if (source.readyState !== CLOSED) {
      // the browser retries by itself
      const stopped = this.current.detail?.startsWith('the program stopped') ? this.current.detail : null;
      this.set({
        state: longDown ? 'disconnected' : 'reconnecting',
        detail: stopped ?? (longDown ? 'cannot reach the program: retrying every second' : 'connection lost: reconnecting'),
        retryAt: null,
        failures,
      });
      this.armDisconnectTimer();
      return;
    }
    // the browser gave up: retry ourselves, and find out why
    source.close();
    this.source = null;
    const delay = Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** Math.min(failures - 1, 16));
    const retryAt = now + delay;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      if (!this.closed) this.open();
    }, delay);
    this.set({ state: longDown ? 'disconnected' : 'reconnecting', detail: 'the event stream was refused: retrying', retryAt, failures });
    this.armDisconnectTimer();
    void this.options.probe?.().then((result) => {
      if (this.closed || this.current.state === 'connected' || this.source !== null) return;
      if (result === 'unauthorized') {
        this.set({ state: 'disconnected', detail: 'the token was refused (did the program restart with a new one?): open the URL it printed' });
      } else if (result === 'unreachable') {
        this.set({ detail: 'cannot reach the program: retrying' });
      }
    });
  }

  /** Turns "reconnecting" into "disconnected" once failing lasts `disconnectedAfterMs`. */
  private armDisconnectTimer(): void {
    if (this.disconnectTimer !== null || this.failingSince === null) return;
    const wait = this.failingSince + this.disconnectedAfterMs - this.timers.now();
    this.disconnectTimer = this.timers.setTimeout(
      () => {
        this.disconnectTimer = null;
        if (this.closed || this.current.state !== 'reconnecting') return;
        const stopped = this.current.detail?.startsWith('the program stopped');
        this.set({ state: 'disconnected', detail: stopped ? this.current.detail : 'cannot reach the program: retrying' });
      },
      Math.max(0, wait),
    );
  }

  private armStaleCheck(): void {
    if (this.staleTimer !== null) this.timers.clearTimeout(this.staleTimer);
    this.staleTimer = this.timers.setTimeout(() => {
      this.staleTimer = null;
      if (this.closed || this.current.state !== 'connected') return;
      if (this.timers.now() - this.lastEventAt >= this.staleAfterMs) {
        this.failingSince = this.timers.now();
        this.set({ state: 'reconnecting', detail: 'no events for a while: reconnecting', retryAt: null });
        this.reconnect();
      } else {
        this.armStaleCheck();
      }
    }, Math.max(1000, this.staleAfterMs / 4));
  }

  private set(change: Partial<ConnectionStatus>): void {
    const next = { ...this.current, ...change };
    if (next.state === 'connected') next.failures = 0;
    const same =
      next.state === this.current.state && next.detail === this.current.detail && next.retryAt === this.current.retryAt && next.failures === this.current.failures;
    this.current = next;
    if (!same) this.handlers.status(next);
  }
}
