import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { definePlugin, isLoadlightError, sessionSeries, validateSession, type Plugin, type SessionProfile } from '@loadlight/core';
import fc from 'fast-check';
import { createTestProfiler, sleep, stopTestProfilers, until } from '@loadlight/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import json, { journalFiles, nodeJournalIO, readJournalHeader, rebuildSession, safeFileName, type JournalIO } from './index.js';

afterEach(stopTestProfilers);

const tempDir = () => mkdtempSync(path.join(os.tmpdir(), 'loadlight-journal-'));

const counter = (): Plugin => {
  let n = 0;
  return definePlugin({
    name: 'counter',
    metrics: { 'counter.value': { unit: 'count', kind: 'gauge', description: 'a number that grows' } },
    apply(profiler) {
      profiler.hooks.collect.tapPromise('counter', async (w) => w.set('counter.value', ++n));
    },
  });
};

/** Declares a metric per module as they "appear" (every 5th tick), and writes a noisy latency for each. */
const lateModules = (): Plugin => {
  let tick = 0;
  const names: string[] = [];
  return {
    name: 'late',
    apply(profiler) {
      profiler.hooks.collect.tapPromise('late', async (w) => {
        if (tick++ % 5 === 0) {
          const name = `module.m${names.length}.latency_max_ms`;
          profiler.declareMetric(name, { unit: 'ms', kind: 'gauge', description: 'slowest call', module: { name: `m${names.length}`, field: 'latency_max_ms' } }, 'late');
          names.push(name);
        }
        names.forEach((name, i) => w.set(name, tick % (i + 2) === 0 ? null : Math.round(Math.random() * 1e6) / 1e3));
      });
    },
  };
};

const RULES = {
  rules: [
    {
      name: 'counting',
      description: 'a message that changes',
      conditions: { all: [{ fact: 'counter', path: '$.value', operator: 'greaterThan', value: 0 }] },
      event: { type: 'recommendation', params: { id: 'counting', priority: 'low', message: 'counter at {{counter.value}}' } },
    },
    {
      name: 'steady',
      description: 'a message that stays',
      conditions: { all: [{ fact: 'counter', path: '$.value', operator: 'greaterThan', value: 0 }] },
      event: { type: 'recommendation', params: { id: 'steady', priority: 'medium', message: 'the counter counts' } },
    },
    {
      name: 'high',
      description: 'an alert',
      conditions: { all: [{ fact: 'counter', path: '$.value', operator: 'greaterThan', value: 3 }] },
      event: { type: 'alert', params: { id: 'counter-high', severity: 'warning', message: 'counter above 3', for: '0s' } },
    },
    {
      name: 'level',
      description: 'a level',
      conditions: { all: [{ fact: 'counter', path: '$.value', operator: 'greaterThan', value: 5 }] },
      event: { type: 'load-level', params: { level: 'yellow' } },
    },
  ],
};

function make(dir: string, config: Record<string, unknown> = {}, internals: { journalIO?: JournalIO } = {}, plugins: Plugin[] = [counter()]) {
  const reporter = json({ dir, quiet: true, ...((config.reporter as object) ?? {}) }, internals);
  delete config.reporter;
  const { profiler, warnings } = createTestProfiler(plugins, { reporters: [reporter], sampleIntervalMs: 20, ...config });
  return { profiler, warnings, reporter };
}

/** The real file system, but a removed journal is kept aside (`<file>.kept`), to compare it with the session. */
function keepingIO(): JournalIO {
  return {
    ...nodeJournalIO,
    rm: async (file) => {
      if (existsSync(file)) renameSync(file, `${file}.kept`);
    },
  };
}

const segmentsOf = (dir: string, base: string, suffix = '') => {
  const { old, current } = journalFiles(dir, base);
  return [old + suffix, current + suffix].filter((f) => existsSync(f));
};

/** What must be the same in a session and the one rebuilt from its journal. */
function comparable(session: SessionProfile) {
  const series = Object.fromEntries(Object.keys(session.catalogue).map((name) => [name, sessionSeries(session, name)]));
  return {
    sessionId: session.sessionId,
    startedAt: session.startedAt,
    pid: session.pid,
    host: session.host,
    config: session.config,
    catalogue: session.catalogue,
    t: session.samples.t,
    since: session.samples.since,
    series,
    statistics: session.statistics,
    modules: session.modules,
    levels: session.levels,
    alerts: session.alerts,
    // A recommendation's evidence is journaled with its message (when that changes), not at every evaluation.
    recommendations: session.recommendations.map(({ evidence, ...rest }) => ({ ...rest, rule: evidence.rule })),
    faults: session.faults,
    actions: session.actions,
  };
}

describe('the journal', () => {
  it('is written while running, one line per sample, and removed once the session file is written', async () => {
    const dir = tempDir();
    const { profiler } = make(dir);
    await profiler.start();
    const { current } = journalFiles(dir, safeFileName(profiler.sessionId));
    await until(() => profiler.store.size >= 5, '5 samples');
    await until(() => existsSync(current) && readFileSync(current, 'utf8').split('\n').filter((l) => l.startsWith('[')).length >= 5, 'rows in the journal');
    const lines = readFileSync(current, 'utf8').split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ h: { journal: 1, sessionId: profiler.sessionId, pid: process.pid } });
    await profiler.stop();
    expect(readdirSync(dir)).toEqual([`${safeFileName(profiler.sessionId)}.json`]);
  });

  it('is not kept with journal: false', async () => {
    const dir = tempDir();
    const { profiler } = make(dir, { reporter: { journal: false } });
    await profiler.start();
    await until(() => profiler.store.size >= 3, '3 samples');
    await sleep(50);
    expect(readdirSync(dir)).toEqual([]);
    await profiler.stop();
    expect(readdirSync(dir)).toEqual([`${safeFileName(profiler.sessionId)}.json`]);
  });

  it('rejects a journal option that is not a boolean', () => {
    expect(() => json({ journal: 'yes' as unknown as boolean })).toThrow(/journal/);
  });

  it('rebuilds the session the reporter wrote: rows, metrics declared late, recommendations, alerts, levels, faults, actions', async () => {
    const dir = tempDir();
    const rules = path.join(dir, 'rules.json');
    writeFileSync(rules, JSON.stringify(RULES));
    let ticks = 0;
    const flaky: Plugin = {
      name: 'flaky',
      apply(p) {
        p.hooks.collect.tapPromise('flaky', async () => {
          if (++ticks === 3) throw new Error('once');
        });
      },
    };
    const { profiler } = make(dir, { rules: [rules], windowSeconds: 0.1 }, { journalIO: keepingIO() }, [counter(), lateModules(), flaky]);
    profiler.actions.register('lighten', () => ({ done: true }), { description: 'does nothing much' });
    await profiler.start();
    await until(() => profiler.store.size >= 5, '5 samples');
    await profiler.actions.run('lighten', { source: 'test' });
    await until(() => profiler.store.size >= 80, '80 samples'); // more than a second: the state line follows
    const session = await profiler.stop();
    expect(session.faults.map((f) => [f.plugin, f.count])).toEqual([['flaky', 1]]);
    expect(session.actions).toHaveLength(1);
    const base = safeFileName(profiler.sessionId);
    const segments = segmentsOf(dir, base, '.kept');
    expect(segments.length).toBe(1);
    const recovered = rebuildSession(segments);
    validateSession(recovered.session);
    expect(recovered).toMatchObject({ skipped: 0, torn: false, rows: session.samples.t.length });
    expect(session.recommendations.map((r) => r.count)).toEqual([expect.any(Number), expect.any(Number)]);
    expect(session.alerts.length).toBeGreaterThan(0);
    expect(Object.keys(session.catalogue).length).toBeGreaterThanOrEqual(9);
    expect(comparable(recovered.session)).toEqual(comparable(session));
    expect(recovered.session.recovered).toMatchObject({ rows: session.samples.t.length, skippedLines: 0, tornLastLine: false });
  });

  it('writes faults and actions in a state line when they changed (a fault counted again too), not otherwise, without a snapshot', async () => {
    const dir = tempDir();
    let failNext = false;
    const flaky: Plugin = {
      name: 'flaky',
      apply(p) {
        p.hooks.collect.tapPromise('flaky', async () => {
          if (failNext) {
            failNext = false;
            throw new Error('now and then');
          }
        });
      },
    };
    const { profiler } = make(dir, {}, { journalIO: keepingIO() }, [counter(), flaky]);
    profiler.actions.register('lighten', () => ({ done: true }), { description: 'does nothing much' });
    await profiler.start();
    const { current } = journalFiles(dir, safeFileName(profiler.sessionId));
    type State = { t: number; f?: Array<{ plugin: string; count: number }>; x?: Array<{ id: string }> };
    const states = (): State[] =>
      existsSync(current) ? readFileSync(current, 'utf8').split('\n').filter((l) => l.startsWith('{"s"')).map((l) => (JSON.parse(l) as { s: State }).s) : [];
    const stateCount = (n: number, what: string) => until(() => states().length >= n, what, 10_000);
    // Snapshots built while nothing but rows changes (the profiler builds none itself: no report taps).
    let snapshots = 0;
    const snapshot = profiler.snapshot.bind(profiler);
    profiler.snapshot = () => (snapshots++, snapshot());

    await stateCount(2, 'two state lines');
    expect(states().every((s) => s.f === undefined && s.x === undefined)).toBe(true);
    expect(snapshots).toBe(0);

    const revision = profiler.faultsRevision;
    failNext = true;
    await until(() => states().some((s) => s.f), 'a state line with the fault', 10_000);
    expect(profiler.faultsRevision).toBe(revision + 1);
    let at = states().findIndex((s) => s.f);
    expect(states()[at]!.f!.map((f) => [f.plugin, f.count])).toEqual([['flaky', 1]]);
    expect(snapshots).toBe(1);
    await stateCount(at + 2, 'the next state line');
    expect(states()[at + 1]!.f).toBeUndefined();

    failNext = true; // the same fault again: only its count changes
    await until(() => states().filter((s) => s.f).length === 2, 'a state line with the fault counted again', 10_000);
    at = states().findLastIndex((s) => s.f);
    expect(states()[at]!.f!.map((f) => [f.plugin, f.count])).toEqual([['flaky', 2]]);

    await profiler.actions.run('lighten', { source: 'test' });
    await until(() => states().some((s) => s.x), 'a state line with the action', 10_000);
    at = states().findIndex((s) => s.x);
    expect(states()[at]!.x!.map((a) => a.id)).toEqual(['lighten']);
    expect(states()[at]!.f).toBeUndefined();
    await stateCount(at + 2, 'the next state line');
    expect(states()[at + 1]!.x).toBeUndefined();
    expect(snapshots).toBe(2);

    const session = await profiler.stop();
    const recovered = rebuildSession(segmentsOf(dir, safeFileName(profiler.sessionId), '.kept'));
    expect(recovered.session.faults).toEqual(session.faults);
    expect(recovered.session.actions).toEqual(session.actions);
  }, 30_000);

  it("writes a tick's lines in one write: its row, what its evaluation added, the state line when due", async () => {
    const dir = tempDir();
    const writes: string[] = [];
    const decoder = new TextDecoder();
    const io: JournalIO = { ...keepingIO(), write: (fd, data) => (writes.push(decoder.decode(data)), nodeJournalIO.write(fd, data)) };
    const rulesFile = path.join(dir, 'rules.json');
    writeFileSync(rulesFile, JSON.stringify(RULES));
    const { profiler } = make(dir, { rules: [rulesFile] }, { journalIO: io });
    await profiler.start();
    const lines = (kind: string) => writes.filter((w) => w.split('\n').some((l) => l.startsWith(kind)));
    // the `counting` message changes at every evaluation: an evaluated line each tick
    await until(() => lines('{"s"').length >= 2 && lines('{"e"').length >= 10, 'two state lines and ten evaluated lines', 10_000);
    await profiler.stop();
    const hasRow = (w: string) => w.split('\n').some((l) => l.startsWith('['));
    // Alone only after an evaluation that waited to learn a new shape's order: the first, the alert raised, the level.
    expect(lines('{"e"').filter((w) => !hasRow(w)).length).toBeLessThanOrEqual(3);
    expect(lines('{"s"').every(hasRow)).toBe(true);
  }, 30_000);

  it('keeps at most two segments, maxSamples rows each; the rebuilt session holds the newest maxSamples rows', async () => {
    const dir = tempDir();
    const { profiler } = make(dir, { maxSamples: 10, sampleIntervalMs: 10 }, { journalIO: keepingIO() }, [counter(), lateModules()]);
    await profiler.start();
    const base = safeFileName(profiler.sessionId);
    let most = 0;
    while ((profiler.store.latest('counter.value') ?? 0) < 45) {
      most = Math.max(most, readdirSync(dir).length);
      const rows = readdirSync(dir).map((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter((l) => l.startsWith('[')).length);
      for (const n of rows) expect(n).toBeLessThanOrEqual(10);
      await sleep(5);
    }
    expect(most).toBe(2);
    const session = await profiler.stop();
    const recovered = rebuildSession(segmentsOf(dir, base, '.kept'));
    validateSession(recovered.session);
    expect(session.samples.t.length).toBe(10);
    expect(recovered.rows).toBeGreaterThanOrEqual(10);
    expect(comparable(recovered.session)).toEqual(comparable(session));
  });

  it('tolerates a torn last line and skips (and counts) a corrupt line in the middle', async () => {
    const dir = tempDir();
    const { profiler } = make(dir, {}, { journalIO: keepingIO() });
    await profiler.start();
    await until(() => profiler.store.size >= 10, '10 samples');
    const session = await profiler.stop();
    const [file] = segmentsOf(dir, safeFileName(profiler.sessionId), '.kept');
    const lines = readFileSync(file!, 'utf8').split('\n');
    // A state line in the middle garbled (rows are deltas: garbling one would shift later values).
    lines.splice(3, 0, '{"s":{"t":12, garbled');
    writeFileSync(file!, lines.join('\n'));
    appendFileSync(file!, '[1796000000000,0,4'); // cut short by a crash
    const recovered = rebuildSession([file!]);
    validateSession(recovered.session);
    expect(recovered.torn).toBe(true);
    expect(recovered.skipped).toBe(1);
    expect(recovered.session.samples.t).toEqual(session.samples.t);
    expect(sessionSeries(recovered.session, 'counter.value')).toEqual(sessionSeries(session, 'counter.value'));
    expect(recovered.session.recovered).toMatchObject({ skippedLines: 1, tornLastLine: true });
  });

  it('any damage (cuts, flipped bytes, lines lost, doubled, swapped or made up): a valid session or a clear error, never a crash', async () => {
    const dir = tempDir();
    const rules = path.join(dir, 'rules.json');
    writeFileSync(rules, JSON.stringify(RULES));
    const { profiler } = make(dir, { rules: [rules], windowSeconds: 0.1, maxSamples: 12 }, { journalIO: keepingIO() }, [counter(), lateModules()]);
    await profiler.start();
    await until(() => profiler.store.size >= 12 && (profiler.store.latest('counter.value') ?? 0) >= 20, '20 samples');
    const session = await profiler.stop();
    const segments = segmentsOf(dir, safeFileName(profiler.sessionId), '.kept');
    expect(segments).toHaveLength(2);
    const texts = segments.map((f) => readFileSync(f, 'utf8'));
    const damaged = [path.join(dir, 'a.journal.old.jsonl'), path.join(dir, 'a.journal.jsonl')];
    const line = fc.oneof(
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify({ h: v })),
      fc.jsonValue().map((v) => JSON.stringify({ m: [0, v] })),
      fc.jsonValue().map((v) => JSON.stringify({ e: v })),
      fc.jsonValue().map((v) => JSON.stringify({ s: v })),
      fc.array(fc.oneof(fc.double(), fc.integer({ min: -1, max: 20 }), fc.constant(null)), { maxLength: 9 }).map((a) => JSON.stringify([Date.parse(session.endedAt) + 1, ...a])),
    );
    const damage = fc.oneof(
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), to: fc.integer({ min: 32, max: 126 }) }),
      fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('double' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('swap' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: line }),
    );
    const apply = (text: string, d: { kind: string; at: number; to?: number; text?: string }) => {
      const lines = text.split('\n');
      const i = d.at % lines.length;
      switch (d.kind) {
        case 'cut':
          return text.slice(0, d.at % (text.length + 1));
        case 'flip': {
          const at = d.at % Math.max(1, text.length);
          return text.slice(0, at) + String.fromCharCode(d.to!) + text.slice(at + 1);
        }
        case 'drop':
          lines.splice(i, 1);
          break;
        case 'double':
          lines.splice(i, 0, lines[i]!);
          break;
        case 'swap':
          [lines[i], lines[(i + 1) % lines.length]] = [lines[(i + 1) % lines.length]!, lines[i]!];
          break;
        default:
          lines.splice(i, 0, d.text!);
      }
      return lines.join('\n');
    };
    let valid = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 1 }), damage), { minLength: 1, maxLength: 4 }), (damages) => {
        const out = texts.slice();
        for (const [segment, d] of damages) out[segment] = apply(out[segment]!, d);
        out.forEach((text, k) => writeFileSync(damaged[k]!, text));
        let rebuilt: SessionProfile;
        try {
          rebuilt = rebuildSession(damaged).session;
        } catch (error) {
          expect(isLoadlightError(error) && error.code === 'SESSION_INVALID', String(error)).toBe(true);
          refused++;
          return;
        }
        try {
          validateSession(rebuilt);
          valid++;
        } catch (error) {
          // A made-up line that is well-formed JSON of the wrong shape: a clear error, never a crash.
          expect(isLoadlightError(error) && error.code === 'SESSION_INVALID', String(error)).toBe(true);
          refused++;
        }
      }),
      { numRuns: 300 },
    );
    expect(valid).toBeGreaterThan(150);
    // A cut alone (a crash at any byte) always leaves a valid session of the rows before it.
    for (let at = 0; at <= texts[1]!.length; at += Math.max(1, Math.floor(texts[1]!.length / 97))) {
      writeFileSync(damaged[0]!, texts[0]!);
      writeFileSync(damaged[1]!, texts[1]!.slice(0, at));
      const recovered = rebuildSession(damaged);
      validateSession(recovered.session);
      expect(recovered.skipped).toBe(0);
      const rows = [texts[0]!, texts[1]!.slice(0, at)].flatMap((text) => text.split('\n').filter((l) => l.startsWith('[') && l.endsWith(']')));
      expect(recovered.session.samples.t).toEqual(rows.map((l) => JSON.parse(l)[0] as number).slice(-12));
    }
  });

  it('refuses a file that is no journal', () => {
    const dir = tempDir();
    const file = path.join(dir, 'x.journal.jsonl');
    writeFileSync(file, 'hello\n[1,2,3]\n');
    expect(() => rebuildSession([file])).toThrow(/no readable journal header/);
    expect(readJournalHeader(file)).toBeNull();
  });

  it('finds the header after a first one cut short by a failed write', async () => {
    const dir = tempDir();
    const { profiler } = make(dir, {}, { journalIO: keepingIO() });
    await profiler.start();
    await until(() => profiler.store.size >= 3, '3 samples');
    await profiler.stop();
    const [file] = segmentsOf(dir, safeFileName(profiler.sessionId), '.kept');
    const text = readFileSync(file!, 'utf8');
    writeFileSync(file!, `${text.slice(0, 200)}\n${text}`);
    expect(readJournalHeader(file!)).toMatchObject({ sessionId: profiler.sessionId, pid: process.pid });
    const recovered = rebuildSession([file!]);
    expect(recovered.skipped).toBe(1);
    validateSession(recovered.session);
  });

  it('reads a header longer than one read whole, a character split between two reads included', async () => {
    const dir = tempDir();
    const { profiler } = make(dir, {}, { journalIO: keepingIO() });
    await profiler.start();
    await until(() => profiler.store.size >= 2, '2 samples');
    await profiler.stop();
    const [file] = segmentsOf(dir, safeFileName(profiler.sessionId), '.kept');
    const lines = readFileSync(file!, 'utf8').split('\n');
    const header = JSON.parse(lines[0]!) as { h: { catalogue: Array<{ description: string }> } };
    // 80 KB of two-byte characters; one of them starts at byte 65,535, the last of the first read.
    const marker = '@@description@@';
    header.h.catalogue[0]!.description = marker;
    const before = Buffer.byteLength(JSON.stringify(header).split(marker)[0]!);
    const description = (before % 2 === 0 ? 'x' : '') + 'µ'.repeat(40_000);
    header.h.catalogue[0]!.description = description;
    writeFileSync(file!, [JSON.stringify(header), ...lines.slice(1)].join('\n'));
    const read = readJournalHeader(file!) as unknown as { catalogue: Array<{ description: string }> } | null;
    expect(read?.catalogue[0]!.description).toBe(description);
  });

  it('leaves the journal of an earlier session with the same id alone, and says so', async () => {
    const dir = tempDir();
    const earlier = journalFiles(dir, 'fixed').current;
    writeFileSync(earlier, '{"h":{}}\n');
    const { profiler, warnings } = make(dir, { sessionId: 'fixed' });
    await profiler.start();
    await until(() => profiler.store.size >= 2, '2 samples');
    // the journal is opened asynchronously: on a busy machine it may appear after the first samples
    const expected = [`fixed.${process.pid}.journal.jsonl`, 'fixed.journal.jsonl'];
    await until(() => JSON.stringify(readdirSync(dir).sort()) === JSON.stringify(expected), `the files ${expected.join(', ')}`);
    expect(warnings.join('\n')).toMatch(/journal of an earlier session of this id: run "loadlight recover/);
    await profiler.stop();
    expect(readFileSync(earlier, 'utf8')).toBe('{"h":{}}\n');
    expect(readdirSync(dir).sort()).toEqual(['fixed.journal.jsonl', 'fixed.json']);
  });
});

describe('reporter faults', () => {
  it('a write that throws: counted as a fault of "json", one warning, sampling goes on, the journal resumes', async () => {
    const dir = tempDir();
    let failing = true;
    const io: JournalIO = {
      ...nodeJournalIO,
      write: (fd, data) => {
        if (failing) throw new Error('injected write failure');
        return nodeJournalIO.write(fd, data);
      },
    };
    const { profiler, warnings } = make(dir, {}, { journalIO: { ...io, rm: keepingIO().rm } });
    await profiler.start();
    await until(() => profiler.store.size >= 30, '30 samples');
    failing = false;
    const resumedAt = profiler.store.size;
    // Within a second or two the journal resumes with a header and rows.
    const { current } = journalFiles(dir, safeFileName(profiler.sessionId));
    const rows = () => (existsSync(current) ? readFileSync(current, 'utf8').split('\n').filter((l) => l.startsWith('[')).length : 0);
    await until(() => rows() >= 41, 'the journal to resume');
    const session = await profiler.stop();
    const fault = session.faults.find((f) => f.plugin === 'json' && f.hook === 'journal');
    expect(fault?.message).toMatch(/could not write the journal .*injected write failure/);
    expect(warnings.filter((w) => w.includes('injected write failure'))).toHaveLength(1);
    expect(session.samples.t.length).toBeGreaterThanOrEqual(resumedAt + 40);
    expect(existsSync(path.join(dir, `${safeFileName(profiler.sessionId)}.json`))).toBe(true);
    // The journal resumed with a header: what it holds from then on is rebuilt exactly.
    const recovered = rebuildSession(segmentsOf(dir, safeFileName(profiler.sessionId), '.kept'));
    validateSession(recovered.session);
    const t = recovered.session.samples.t;
    expect(t.length).toBeGreaterThan(40);
    expect(session.samples.t.slice(-t.length)).toEqual(t);
  });

  it('slow writes never hold up the tick; what reached the journal before the stop is exact', async () => {
    const dir = tempDir();
    let writes = 0;
    const io: JournalIO = {
      ...keepingIO(),
      write: async (fd, data) => {
        await sleep(150);
        await nodeJournalIO.write(fd, data);
        writes++;
      },
    };
    const { profiler } = make(dir, { sampleIntervalMs: 20 }, { journalIO: io });
    await profiler.start();
    await until(() => profiler.store.size >= 50, '50 samples');
    // Had a tick waited for its write, there would be a finished write per sample: lines queue instead.
    expect(writes).toBeLessThan(25);
    const session = await profiler.stop();
    expect(session.faults).toEqual([]);
    // Removed once the session was written: what was still queued then was dropped, the rest is exact.
    const t = rebuildSession(segmentsOf(dir, safeFileName(profiler.sessionId), '.kept')).session.samples.t;
    expect(t.length).toBeGreaterThan(session.samples.t.length - 30);
    expect(session.samples.t.slice(0, t.length)).toEqual(t);
  });

  it.skipIf(!existsSync('/dev/full'))('a full disk (the journal on /dev/full): a fault of "json" with ENOSPC, one warning, the session is still written', async () => {
    const dir = tempDir();
    symlinkSync('/dev/full', path.join(dir, 'full.journal.jsonl'));
    const { profiler, warnings } = make(dir, { sessionId: 'full' });
    await profiler.start();
    await until(() => profiler.store.size >= 70, '70 samples'); // more than a second: it retried
    const session = await profiler.stop();
    const fault = session.faults.find((f) => f.plugin === 'json' && f.hook === 'journal');
    expect(fault?.message).toMatch(/ENOSPC/);
    expect(fault!.count).toBeGreaterThanOrEqual(2);
    expect(warnings.filter((w) => w.includes('ENOSPC'))).toHaveLength(1);
    const written: unknown = JSON.parse(readFileSync(path.join(dir, 'full.json'), 'utf8'));
    validateSession(written);
    expect((written as SessionProfile).samples.t).toEqual(session.samples.t);
  });

  it('a session file that cannot be written: a fault of "json" in export, and the journal stays to recover it', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'stuck.json')); // a folder where the file should go: the rename fails
    const { profiler, warnings } = make(dir, { sessionId: 'stuck' });
    await profiler.start();
    await until(() => profiler.store.size >= 10, '10 samples');
    const session = await profiler.stop();
    expect(session.faults.find((f) => f.plugin === 'json' && f.hook === 'export')).toBeDefined();
    const warning = warnings.filter((w) => w.includes('could not write the session'));
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatch(/its journal stays: run "loadlight recover /);
    const segments = segmentsOf(dir, 'stuck');
    expect(segments).toHaveLength(1);
    const recovered = rebuildSession(segments);
    validateSession(recovered.session);
    expect(recovered.torn).toBe(false);
    expect(recovered.session.samples.t).toEqual(session.samples.t);
    expect(sessionSeries(recovered.session, 'counter.value')).toEqual(sessionSeries(session, 'counter.value'));
  });
});
