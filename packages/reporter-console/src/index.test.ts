import { PassThrough } from 'node:stream';
import { definePlugin, type Plugin, type Profiler } from '@loadlight/core';
import { createTestProfiler, stopTestProfilers, until } from '@loadlight/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { stripAnsi, visibleWidth } from './ansi.js';
import consoleReporter from './index.js';

const HIDE = '\u001b[?25l';
const SHOW = '\u001b[?25h';
const UP = /\r\u001b\[(\d+)A/g;

afterEach(stopTestProfilers);

type FakeStream = PassThrough & { isTTY?: boolean; columns?: number; rows?: number };

function fakeStream(tty: { isTTY: boolean; columns?: number; rows?: number }) {
  const stream = new PassThrough() as FakeStream;
  Object.assign(stream, tty);
  let output = '';
  stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { stream, output: () => output };
}

/** A source with a value, and a reporter that counts the reports the profiler makes. */
function sources() {
  let n = 0;
  let reports = 0;
  const counter = definePlugin({
    name: 'counter',
    metrics: { 'process.cpu.percent': { unit: 'percent', kind: 'gauge', description: 'pretend CPU' } },
    apply(profiler) {
      profiler.hooks.collect.tapPromise('counter', async (w) => w.set('process.cpu.percent', ++n));
    },
  });
  const tally: Plugin = {
    name: 'tally',
    apply(profiler) {
      profiler.hooks.report.tap('tally', () => void reports++);
    },
  };
  return { counter, tally, reports: () => reports };
}

function make(plugins: Plugin[], reporters: Plugin[]): Profiler {
  return createTestProfiler(plugins, { reporters, sampleIntervalMs: 25 }).profiler;
}

const flush = () => new Promise((r) => setImmediate(r));

describe('console reporter', () => {
  it('prints one plain line per report off a TTY, then a summary', async () => {
    const { stream, output } = fakeStream({ isTTY: false });
    const { counter, tally, reports } = sources();
    const profiler = make([counter], [consoleReporter({ stream, color: false }), tally]);
    await profiler.start();
    await until(() => reports() >= 4);
    await profiler.stop();
    await flush();

    const lines = output().split('\n').filter(Boolean);
    const summary = lines.pop()!;
    expect(summary).toMatch(new RegExp(`^\\[loadlight\\] session ${profiler.sessionId} stopped after \\d+s, \\d+ samples`));
    expect(lines).toHaveLength(reports());
    for (const line of lines) expect(line).toMatch(/^\[loadlight\] \d+s cpu \d+(\.\d)?%$/);
    expect(output()).not.toContain('\u001b');
  });

  it('redraws in place on a TTY, hides the cursor while live and shows it at the end', async () => {
    const { stream, output } = fakeStream({ isTTY: true, columns: 80, rows: 40 });
    const { counter, tally, reports } = sources();
    const exitListeners = process.listenerCount('exit');
    const profiler = make([counter], [consoleReporter({ stream, color: true }), tally]);
    await profiler.start();
    await until(() => reports() >= 3 && output().length > 0);
    expect(process.listenerCount('exit')).toBe(exitListeners + 1);
    await profiler.stop();
    await flush();
    expect(process.listenerCount('exit')).toBe(exitListeners);

    const text = output();
    expect(text.startsWith(HIDE)).toBe(true);
    expect(text.split(HIDE)).toHaveLength(2);
    expect(text.split(SHOW)).toHaveLength(2);
    const ups = [...text.matchAll(UP)];
    // Every report drew a frame, plus the final one at stop; each after the first goes back up.
    expect(ups.length).toBe(reports());
    // The cursor comes back after the last frame, and the summary follows.
    const lastUp = ups[ups.length - 1]!;
    expect(text.indexOf(SHOW)).toBeGreaterThan(lastUp.index);
    expect(stripAnsi(text.slice(text.indexOf(SHOW))).trim()).toMatch(/^\[loadlight\] session .* stopped after/);

    // Each move goes up exactly as many lines as the frame before wrote.
    const frames = text.slice(HIDE.length, text.indexOf(SHOW)).split(UP).filter((_, i) => i % 2 === 0);
    for (let i = 0; i < ups.length; i++) {
      expect(Number(ups[i]![1])).toBe(frames[i]!.split('\n').length - 1);
    }
    for (const frame of frames) {
      for (const line of frame.split('\n')) expect(visibleWidth(line)).toBeLessThanOrEqual(80);
      expect(stripAnsi(frame)).toContain(`loadlight  session ${profiler.sessionId}`);
    }
  });

  it('compact on a TTY redraws a single status line', async () => {
    const { stream, output } = fakeStream({ isTTY: true, columns: 80 });
    const { counter, tally, reports } = sources();
    const profiler = make([counter], [consoleReporter({ stream, compact: true, color: false }), tally]);
    await profiler.start();
    await until(() => reports() >= 3);
    await profiler.stop();
    await flush();
    const ups = [...output().matchAll(UP)];
    expect(ups.length).toBeGreaterThanOrEqual(2);
    for (const up of ups) expect(up[1]).toBe('1');
  });

  it('renders at most once per refreshMs', async () => {
    const { stream, output } = fakeStream({ isTTY: false });
    const { counter, tally, reports } = sources();
    const profiler = make([counter], [consoleReporter({ stream, refreshMs: 60_000, color: false }), tally]);
    await profiler.start();
    await until(() => reports() >= 4);
    await profiler.stop();
    await flush();
    const lines = output().split('\n').filter(Boolean);
    expect(lines).toHaveLength(2); // one status line, one summary
  });

  it('rejects bad options with a clear error', () => {
    expect(() => consoleReporter({ stream: {} as never })).toThrowError(/plugin "console" options: "stream.write" is required/);
    expect(() => consoleReporter({ refreshMs: -1 })).toThrowError(/"refreshMs" must be >= 0/);
    expect(() => consoleReporter({ maxModules: 1.5 })).toThrowError(/"maxModules" must be integer/);
    expect(() => consoleReporter({ colour: true } as never)).toThrowError(/Did you mean "color"\?/);
  });
});
