import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { definePlugin, Profiler, sessionSeries, validateSession, type Plugin } from '@loadlight/core';
import { until } from '@loadlight/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import json, { safeFileName } from './index.js';

const running: Profiler[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(running.splice(0).map((p) => p.stop().catch(() => undefined)));
});

const tempDir = () => mkdtempSync(path.join(os.tmpdir(), 'loadlight-json-'));

const counter = () => {
  let n = 0;
  return definePlugin({
    name: 'counter',
    metrics: { 'counter.value': { unit: 'count', kind: 'gauge', description: 'a number that grows' } },
    apply(profiler) {
      profiler.hooks.collect.tapPromise('counter', async (w) => w.set('counter.value', ++n));
    },
  });
};

function make(reporters: Plugin[], extra: Record<string, unknown> = {}, baseDir?: string) {
  const warnings: string[] = [];
  const profiler = new Profiler(
    { plugins: [counter()], reporters, rules: [], sampleIntervalMs: 20, ...extra },
    { handleExit: false, warn: (m) => warnings.push(m), ...(baseDir ? { baseDir } : {}) },
  );
  running.push(profiler);
  return { profiler, warnings };
}

async function runSession(profiler: Profiler, samples = 3) {
  await profiler.start();
  await until(() => profiler.store.size >= samples, `${samples} samples`);
  return profiler.stop();
}

describe('json reporter', () => {
  it('writes a valid session file named after the session', async () => {
    const dir = tempDir();
    const reporter = json({ dir, quiet: true });
    expect(reporter.name).toBe('json');
    expect(reporter.lastFile).toBeNull();
    const { profiler } = make([reporter]);
    const session = await runSession(profiler);

    const file = path.join(dir, `${safeFileName(profiler.sessionId)}.json`);
    expect(reporter.lastFile).toBe(file);
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    validateSession(parsed, file);
    expect(parsed).toEqual(JSON.parse(JSON.stringify(session)));
    const values = sessionSeries(parsed, 'counter.value');
    expect(values.length).toBeGreaterThanOrEqual(3);
    expect(values.every((v) => typeof v === 'number')).toBe(true);
    expect(readdirSync(dir)).toEqual([path.basename(file)]);
  });

  it('resolves a relative dir from the config directory, default perf/samples', async () => {
    const base = tempDir();
    const custom = json({ dir: 'out/sessions', quiet: true });
    const first = make([custom], {}, base);
    await runSession(first.profiler, 1);
    expect(path.dirname(custom.lastFile!)).toBe(path.join(base, 'out', 'sessions'));

    const byDefault = json({ quiet: true });
    const second = make([byDefault], {}, base);
    await runSession(second.profiler, 1);
    expect(path.dirname(byDefault.lastFile!)).toBe(path.join(base, 'perf', 'samples'));
  });

  it('keeps a hostile session id inside the directory', async () => {
    const dir = tempDir();
    const reporter = json({ dir, quiet: true });
    const { profiler } = make([reporter], { sessionId: '../../escape/me' });
    await runSession(profiler, 1);
    expect(path.dirname(reporter.lastFile!)).toBe(dir);
    expect(readdirSync(dir)).toEqual([path.basename(reporter.lastFile!)]);
  });

  it('writes byte for byte what JSON.stringify writes, compact and pretty', async () => {
    const dir = tempDir();
    for (const pretty of [false, true]) {
      const reporter = json({ dir, pretty, quiet: true });
      const session = await runSession(make([reporter], { sessionId: `exact-${pretty}` }).profiler, 3);
      expect(readFileSync(reporter.lastFile!, 'utf8')).toBe(`${JSON.stringify(session, null, pretty ? 2 : undefined)}\n`);
    }
  });

  it('indents with pretty and stays compact without', async () => {
    const dir = tempDir();
    const pretty = json({ dir, pretty: true, quiet: true });
    await runSession(make([pretty], { sessionId: 'pretty' }).profiler, 1);
    expect(readFileSync(pretty.lastFile!, 'utf8')).toContain('\n  "schemaVersion": 2');
    const compact = json({ dir, quiet: true });
    await runSession(make([compact], { sessionId: 'compact' }).profiler, 1);
    expect(readFileSync(compact.lastFile!, 'utf8').trimEnd()).not.toContain('\n');
  });

  it('announces the file on stderr unless quiet', async () => {
    const dir = tempDir();
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const loud = json({ dir });
    await runSession(make([loud], { sessionId: 'loud' }).profiler, 1);
    const quiet = json({ dir, quiet: true });
    await runSession(make([quiet], { sessionId: 'quiet' }).profiler, 1);
    vi.restoreAllMocks();
    const announced = lines.filter((l) => l.startsWith('[loadlight] session written to '));
    expect(announced).toHaveLength(1);
    expect(announced[0]).toContain('loud.json');
  });

  it('removes its exit listener once the session is exported', async () => {
    const dir = tempDir();
    const before = process.listenerCount('exit');
    const { profiler } = make([json({ dir, quiet: true })]);
    await profiler.start();
    expect(process.listenerCount('exit')).toBe(before + 1);
    await profiler.stop();
    expect(process.listenerCount('exit')).toBe(before);
  });

  it('serves two profilers without mixing them', async () => {
    const dir = tempDir();
    const reporter = json({ dir, quiet: true });
    const a = make([reporter], { sessionId: 'one' }).profiler;
    const b = make([reporter], { sessionId: 'two' }).profiler;
    await Promise.all([runSession(a, 2), runSession(b, 2)]);
    expect(readdirSync(dir).sort()).toEqual(['one.json', 'two.json']);
  });

  it('records a fault, and the session is still returned, when the file cannot be written', async () => {
    const dir = tempDir();
    const blocked = path.join(dir, 'blocked');
    writeFileSync(blocked, 'a file where the directory should be');
    const reporter = json({ dir: blocked, quiet: true });
    const { profiler, warnings } = make([reporter]);
    const session = await runSession(profiler, 1);
    expect(session.samples.t.length).toBeGreaterThanOrEqual(1);
    expect(reporter.lastFile).toBeNull();
    const fault = profiler.snapshot().faults.find((f) => f.plugin === 'json' && f.hook === 'export');
    expect(fault).toBeDefined();
    // The journal could not be opened there either: its own fault.
    expect(profiler.snapshot().faults.find((f) => f.plugin === 'json' && f.hook === 'journal')?.message).toMatch(/could not open the journal/);
    expect(fault?.message).toMatch(/could not write the session to .*blocked/);
    expect(warnings.join('\n')).toContain('could not write the session');
    expect(readdirSync(dir)).toEqual(['blocked']);
  });

  it('rejects bad options with a clear error', () => {
    expect(() => json({ dri: 'x' } as never)).toThrowError(/unknown option "dri".*Did you mean "dir"\?/);
    expect(() => json({ pretty: 'yes' } as never)).toThrowError(/"pretty" must be boolean/);
    expect(() => json({ dir: '' })).toThrowError(/"dir"/);
    try {
      json({ quiet: 1 } as never);
      expect.unreachable();
    } catch (error) {
      expect((error as { code?: string }).code).toBe('PLUGIN_OPTIONS_INVALID');
      expect((error as Error).message).toMatch(/^plugin "json" options: /);
    }
  });
});
