// The page's connection state machine (ui/lib/connection.ts), driven by a scripted event source
// and a manual clock. The browser's own EventSource against the real server is covered by
// panel.e2e.test.ts; this covers the timing and the backoff exactly.
import { describe, expect, it } from 'vitest';
import { LiveConnection, type ConnectionStatus, type EventSourceLike, type ProbeResult, type Timers } from '../ui/lib/connection.js';

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

/** Behaves as a browser's EventSource is specified to; the test says what the network did. */
class ScriptedSource implements EventSourceLike {
  readyState = CONNECTING;
  closed = false;
  private listeners = new Map<string, Array<(event: { data?: unknown }) => void>>();

  constructor(readonly url: string) {}

  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
    this.readyState = CLOSED;
  }

  private fire(type: string, data?: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) listener({ data });
  }

  open(): void {
    this.readyState = OPEN;
    this.fire('open');
  }

  send(type: string, payload: unknown): void {
    this.fire(type, JSON.stringify(payload));
  }

  /** A dropped connection or a refused one: the browser keeps retrying by itself. */
  drop(): void {
    this.readyState = CONNECTING;
    this.fire('error');
  }

  /** An answer that is not a stream (a 401): the browser gives up. */
  refuse(): void {
    this.readyState = CLOSED;
    this.fire('error');
  }
}

class ManualClock implements Timers {
  t = 1_000_000;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private next = 1;

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
}

function setup(probe: ProbeResult = 'unreachable') {
  const clock = new ManualClock();
  const sources: ScriptedSource[] = [];
  const states: ConnectionStatus[] = [];
  const got: string[] = [];
  const connection = new LiveConnection(
    {
      url: '/api/events?token=t',
      createSource: (url) => {
        const source = new ScriptedSource(url);
        sources.push(source);
        return source;
      },
      probe: async () => probe,
      timers: clock,
      disconnectedAfterMs: 5000,
      initialDelayMs: 1000,
      maxDelayMs: 8000,
      staleAfterMs: 40_000,
    },
    {
      hello: (p) => got.push(`hello ${p.sessionId}`),
      snapshot: (p) => got.push(`snapshot ${p.t}`),
      action: (p) => got.push(`action ${p.id}`),
      stopped: (p) => got.push(`stopped ${p.sessionId}`),
      status: (s) => states.push(s),
    },
  );
  const last = () => sources[sources.length - 1]!;
  const state = () => connection.status.state;
  return { clock, sources, states, got, connection, last, state };
}

const hello = { protocol: 1, sessionId: 's1', startedAt: 0, reportIntervalMs: 1000, sampleIntervalMs: 1000, windowSeconds: 3, title: 't', pid: 1, readsNeedToken: true };

describe('LiveConnection', () => {
  it('connects, hands over the events, and skips a malformed one', () => {
    const { connection, last, got, state } = setup();
    connection.start();
    expect(state()).toBe('connecting');
    expect(last().url).toBe('/api/events?token=t');
    last().open();
    expect(state()).toBe('connected');
    last().send('hello', hello);
    last().send('snapshot', { t: 5 });
    last().send('action', { id: 'ocr.reduce-frequency' });
    (last() as unknown as { fire(type: string, data: unknown): void }).fire('snapshot', '{not json');
    expect(got).toEqual(['hello s1', 'snapshot 5', 'action ocr.reduce-frequency']);
    connection.close();
    expect(last().closed).toBe(true);
  });

  it('says "reconnecting" while the browser retries, "disconnected" after 5 s, "connected" when back', () => {
    const { connection, last, sources, clock, state } = setup();
    connection.start();
    last().open();
    last().drop();
    expect(state()).toBe('reconnecting');
    expect(connection.status.detail).toBe('connection lost: reconnecting');
    clock.advance(1000);
    last().drop();
    expect(state()).toBe('reconnecting');
    // nothing more happens for a while: the timer says so at 5 s
    clock.advance(4000);
    expect(state()).toBe('disconnected');
    expect(connection.status.detail).toMatch(/cannot reach the program/);
    last().open();
    expect(state()).toBe('connected');
    expect(connection.status.failures).toBe(0);
    // the browser did the retrying: still one source
    expect(sources).toHaveLength(1);
  });

  it('keeps "the program stopped" as the reason after a stopped event', () => {
    const { connection, last, state } = setup();
    connection.start();
    last().open();
    last().send('stopped', { sessionId: 's1', t: 1 });
    expect(state()).toBe('reconnecting');
    last().drop();
    expect(connection.status.detail).toMatch(/^the program stopped/);
  });

  it('retries by itself with a growing delay when the browser gives up, and tells a refused token', async () => {
    const { connection, last, sources, clock, state } = setup('unauthorized');
    connection.start();
    last().open();
    last().refuse();
    expect(last().closed).toBe(true);
    expect(connection.status.retryAt).toBe(clock.t + 1000);
    await Promise.resolve();
    await Promise.resolve();
    expect(state()).toBe('disconnected');
    expect(connection.status.detail).toMatch(/^the token was refused .*open the URL it printed$/);

    clock.advance(1000);
    expect(sources).toHaveLength(2);
    last().refuse();
    expect(connection.status.retryAt).toBe(clock.t + 2000);
    clock.advance(2000);
    last().refuse();
    expect(connection.status.retryAt).toBe(clock.t + 4000);
    clock.advance(4000);
    last().refuse();
    // capped
    expect(connection.status.retryAt).toBe(clock.t + 8000);
    clock.advance(8000);
    expect(sources).toHaveLength(5);
    last().open();
    expect(state()).toBe('connected');
    // "retry now" opens at once
    last().refuse();
    connection.reconnect();
    expect(sources).toHaveLength(6);
  });

  it('reopens a stream that went quiet', () => {
    const { connection, last, sources, clock, state } = setup();
    connection.start();
    last().open();
    last().send('hello', hello);
    clock.advance(39_000);
    last().send('snapshot', { t: 1 });
    clock.advance(39_000);
    expect(sources).toHaveLength(1);
    clock.advance(15_000);
    expect(sources).toHaveLength(2);
    expect(sources[0]!.closed).toBe(true);
    expect(state()).toBe('reconnecting');
    last().open();
    expect(state()).toBe('connected');
  });

  it('stops everything on close', () => {
    const { connection, last, sources, clock } = setup();
    connection.start();
    last().open();
    last().refuse();
    connection.close();
    clock.advance(60_000);
    expect(sources).toHaveLength(1);
  });
});
