import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { definePlugin, Profiler, sessionSeries, validateSession, type SessionProfile } from '@loadlight/core';
import { until } from '@loadlight/core/testing';
import json, { journalFiles, nodeJournalIO, safeFileName } from '@loadlight/reporter-json';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recoverCommand } from './recover.js';

const packagesDir = fileURLToPath(new URL('../../', import.meta.url));
const entry = (name: string) => path.join(packagesDir, name, 'dist', 'index.js');
const cliBin = path.join(packagesDir, 'cli', 'bin', 'loadlight.js');

beforeAll(() => {
  for (const file of [entry('core'), entry('reporter-json'), entry('plugin-modules'), path.join(packagesDir, 'cli', 'dist', 'main.js')]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" first`);
  }
});

const running: Profiler[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop().catch(() => undefined)));
});

const tempDir = () => mkdtempSync(path.join(os.tmpdir(), 'loadlight-recover-'));

function capture(): Writable & { text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return Object.assign(stream, { text: () => text });
}

async function recover(args: string[]) {
  const out = capture();
  const err = capture();
  const code = await recoverCommand(args, out, err);
  return { code, out: out.text(), err: err.text() };
}

const INTERVAL_MS = 100;

/** A profiled program: 6 modules called all the time, a counter, the JSON reporter; it prints each committed sample to `side`. */
function program(dir: string, side: string, sessionId: string, maxSamples: number): string {
  return `
import { openSync, writeSync } from 'node:fs';
import { Profiler, definePlugin } from ${JSON.stringify(pathToFileURL(entry('core')).href)};
import json from ${JSON.stringify(pathToFileURL(entry('reporter-json')).href)};
import modules, { profileModule } from ${JSON.stringify(pathToFileURL(entry('plugin-modules')).href)};
let n = 0;
const counter = definePlugin({
  name: 'counter',
  metrics: { 'counter.value': { unit: 'count', kind: 'gauge', description: 'grows' } },
  apply(p) { p.hooks.collect.tapPromise('counter', async (w) => w.set('counter.value', ++n)); },
});
const profiler = new Profiler({
  plugins: [counter, modules()], reporters: [json({ dir: ${JSON.stringify(dir)}, quiet: true })], rules: [],
  sampleIntervalMs: ${INTERVAL_MS}, maxSamples: ${maxSamples}, sessionId: ${JSON.stringify(sessionId)},
});
// Each committed sample, written synchronously before the journal sees it (taps run in order).
const side = openSync(${JSON.stringify(side)}, 'a');
profiler.hooks.sample.tap('side', (s) => writeSync(side, s.t + ' ' + s.get('counter.value') + ' ' + Date.now() + '\\n'));
await profiler.start();
const work = Array.from({ length: 6 }, (_, i) => profileModule('work.m' + i, new Function('x', 'let s = 0; for (let j = 0; j < ' + (i + 1) * 2000 + '; j++) s += j % (x + ' + i + '); return s;')));
setInterval(() => { for (const f of work) f(7); }, 5);
process.stdout.write('started\\n');
`;
}

interface Kill {
  id: string;
  side: string;
  maxSamples: number;
  started: boolean;
  killedAt: number;
}

/** Runs one program and kills it with SIGKILL `delay` ms after it started (`early`: after it was spawned). */
function runAndKill(dir: string, i: number, early: boolean, delay: number): Promise<Kill> {
  const id = `kill-${String(i).padStart(2, '0')}`;
  const side = path.join(dir, '..', `${path.basename(dir)}-${id}.side`);
  const script = path.join(dir, '..', `${path.basename(dir)}-${id}.mjs`);
  const maxSamples = i % 2 === 0 ? 12 : 3600; // 12: the journal's segments rotate
  writeFileSync(script, program(dir, side, id, maxSamples));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let started = false;
    let stderr = '';
    let killedAt = 0;
    const kill = () => {
      killedAt = Date.now();
      child.kill('SIGKILL');
    };
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (started || !d.toString().includes('started')) return;
      started = true;
      if (!early) setTimeout(kill, delay);
    });
    if (early) setTimeout(kill, delay);
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${id} did not start in time; stderr:\n${stderr}`));
    }, 30_000);
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`${id} ended by itself (${signal ?? _code}); stderr:\n${stderr}`));
      else resolve({ id, side, maxSamples, started, killedAt });
    });
  });
}

/** The samples the program committed: sample time -> counter value, and when it was committed. */
function committed(side: string): Map<number, { value: number; at: number }> {
  const out = new Map<number, { value: number; at: number }>();
  if (!existsSync(side)) return out;
  for (const line of readFileSync(side, 'utf8').split('\n')) {
    const m = /^(\d+) (\d+) (\d+)$/.exec(line);
    if (m) out.set(Number(m[1]), { value: Number(m[2]), at: Number(m[3]) });
  }
  return out;
}

describe('loadlight recover after kill -9', () => {
  it('rebuilds a valid session holding every sample older than one interval, for programs killed at random moments', async () => {
    const dir = tempDir();
    const KILLS = 24;
    const PARALLEL = 4;
    const began = Date.now();
    const kills: Kill[] = [];
    // Every sixth is killed 50-400 ms after it was spawned (before or while the profiler starts),
    // every sixth 0-2.5 s after it started sampling (maybe before its first sample), the others
    // 0.15-2.5 s after it started.
    const delay = (i: number) => (i % 6 === 5 ? 50 + Math.random() * 350 : i % 6 === 4 ? Math.random() * 2500 : 150 + Math.random() * 2350);
    const plan = Array.from({ length: KILLS }, (_, i) => ({ i, early: i % 6 === 5, delay: delay(i) }));
    for (let k = 0; k < plan.length; k += PARALLEL) {
      kills.push(...(await Promise.all(plan.slice(k, k + PARALLEL).map((p) => runAndKill(dir, p.i, p.early, p.delay)))));
    }
    const result = await recover([dir]);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);

    let withSamples = 0;
    let checked = 0;
    for (const kill of kills) {
      const samples = committed(kill.side);
      const file = path.join(dir, `${kill.id}.json`);
      // The committed samples older than one interval before the kill, of the newest maxSamples:
      // each must be in the recovered session.
      const expected = [...samples.keys()]
        .sort((a, b) => a - b)
        .slice(-kill.maxSamples)
        .filter((time) => samples.get(time)!.at < kill.killedAt - INTERVAL_MS);
      if (expected.length === 0) {
        // Killed before its first sample, or within an interval of it: what was journaled is recovered, valid.
        if (existsSync(file)) validateSession(JSON.parse(readFileSync(file, 'utf8')), file);
        continue;
      }
      withSamples++;
      expect(existsSync(file), `${kill.id}: no session recovered; recover said:\n${result.out}`).toBe(true);
      const session: unknown = JSON.parse(readFileSync(file, 'utf8'));
      validateSession(session, file);
      expect(session.recovered).toBeDefined();
      const t = session.samples.t;
      const values = sessionSeries(session, 'counter.value');
      // Nothing that was not committed, and each row with its own values.
      t.forEach((time, k) => {
        expect(samples.get(time)?.value, `${kill.id}: row at ${time}`).toBe(values[k]);
      });
      // Every committed sample older than one interval before the kill, of the newest maxSamples.
      const kept = new Set(t);
      for (const time of expected) {
        expect(kept.has(time), `${kill.id}: sample at ${time} (killed at ${kill.killedAt}) is missing`).toBe(true);
        checked++;
      }
      // Metrics declared at run time (the modules, once called) are in the catalogue.
      if (t.length >= 3) expect(Object.keys(session.catalogue)).toContain('module.work.m5.calls');
    }
    // No journal left behind but the empty ones of programs killed between opening their journal
    // and writing its header: recover leaves those while they are new (their session may be
    // starting), and removes them once they are old.
    const left = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
    for (const name of left) {
      expect(readFileSync(path.join(dir, name), 'utf8'), `${name} was left and is not empty; recover said:\n${result.out}`).toBe('');
      expect(result.out).toContain(`skipped ${name}: empty, its session may be starting`);
      expect(kills.some((k) => `${k.id}.journal.jsonl` === name), `${name}: one of the programs' journals`).toBe(true);
      const old = new Date(Date.now() - 60_000);
      utimesSync(path.join(dir, name), old, old);
    }
    if (left.length > 0) {
      const again = await recover([dir]);
      expect(again.code, again.err).toBe(0);
      for (const name of left) expect(again.out).toContain(`removed ${name}: empty`);
      expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl'))).toEqual([]);
    }
    expect(withSamples).toBeGreaterThanOrEqual(14);
    expect(checked).toBeGreaterThan(100);
    process.stdout.write(`[recover kill test] ${kills.length} kills (${withSamples} after samples), ${checked} samples checked, ${((Date.now() - began) / 1000).toFixed(1)} s\n`);
  }, 120_000);
});

/** A journal left by a "dead" session: made by a real profiler in this process, kept aside at its removal, its pid replaced. */
async function deadJournal(dir: string, sessionId: string, edit: (header: Record<string, any>) => void = () => undefined) {
  const io = { ...nodeJournalIO, rm: async (file: string) => (existsSync(file) ? renameSync(file, `${file}.kept`) : undefined) };
  const counter = definePlugin({
    name: 'counter',
    metrics: { 'counter.value': { unit: 'count', kind: 'gauge', description: 'grows' } },
    apply(p) {
      let n = 0;
      p.hooks.collect.tapPromise('counter', async (w) => w.set('counter.value', ++n));
    },
  });
  const profiler = new Profiler({ plugins: [counter], reporters: [json({ dir, quiet: true }, { journalIO: io })], rules: [], sampleIntervalMs: 20, sessionId }, { handleExit: false, warn: () => undefined });
  running.push(profiler);
  await profiler.start();
  await until(() => profiler.store.size >= 5, '5 samples');
  const session = await profiler.stop();
  rmSync(path.join(dir, `${safeFileName(sessionId)}.json`));
  const { current } = journalFiles(dir, safeFileName(sessionId));
  const lines = readFileSync(`${current}.kept`, 'utf8').split('\n');
  const first = JSON.parse(lines[0]!);
  first.h.pid = deadPid();
  edit(first.h);
  lines[0] = JSON.stringify(first);
  writeFileSync(current, lines.join('\n'));
  rmSync(`${current}.kept`);
  return { file: current, session, pid: first.h.pid as number };
}

/** The pid of a process that ended. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('loadlight recover', () => {
  it('prints its help', async () => {
    const result = await recover(['--help']);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^Usage: loadlight recover <dir>/);
  });

  it('exits 1 with a clear error for a missing folder, a file, no argument or two (no stack trace)', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'a-file'), 'x');
    const cases: Array<[string[], RegExp]> = [
      [['recover', path.join(dir, 'missing')], /loadlight recover: cannot read .*missing: no such folder/],
      [['recover', path.join(dir, 'a-file')], /loadlight recover: .*a-file is not a folder/],
      [['recover'], /loadlight recover: expects the folder of the journals/],
      [['recover', dir, dir], /loadlight recover: expects one folder, got 2/],
      [['recover', '--nope', dir], /loadlight recover: Unknown option '--nope'/],
    ];
    for (const [args, message] of cases) {
      const run = spawnSync(process.execPath, [cliBin, ...args], { encoding: 'utf8' });
      expect(run.status, args.join(' ')).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    const help = spawnSync(process.execPath, [cliBin, '--help'], { encoding: 'utf8' });
    expect(help.stdout).toMatch(/recover <dir> \[--force\]/);
  });

  it('says so when there is nothing to recover', async () => {
    const result = await recover([tempDir()]);
    expect(result).toMatchObject({ code: 0, out: expect.stringMatching(/no journals in .*: nothing to recover/) });
  });

  it('writes the folder it was given on one printable line', async () => {
    const dir = path.join(tempDir(), 'a\nb\u001b[31m');
    mkdirSync(dir);
    expect((await recover([dir])).out).toMatch(/^no journals in .*a\\u000ab\\u001b\[31m: nothing to recover\n$/);
    writeFileSync(path.join(dir, 'x.json'), '');
    expect((await recover([path.join(dir, 'x.json')])).err).toMatch(/^loadlight recover: .*a\\u000ab\\u001b\[31m\/x\.json is not a folder/);
  });

  it('skips the journal of a session still running, and leaves it alone', async () => {
    const dir = tempDir();
    const profiler = new Profiler({ plugins: [], reporters: [json({ dir, quiet: true })], rules: [], sampleIntervalMs: 20, sessionId: 'live' }, { handleExit: false });
    running.push(profiler);
    await profiler.start();
    await until(() => existsSync(journalFiles(dir, 'live').current), 'the journal');
    const result = await recover([dir]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/skipped live\.journal\.jsonl: session live is still running \(pid \d+\)/);
    expect(readdirSync(dir)).toEqual(['live.journal.jsonl']);
  });

  it('recovers a dead session: valid, marked recovered, the journal removed; again finds nothing', async () => {
    const dir = tempDir();
    const { session, pid } = await deadJournal(dir, 'dead');
    const result = await recover([dir]);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toMatch(new RegExp(`recovered dead \\(pid ${pid}\\): ${session.samples.t.length} samples from .* -> .*dead\\.json in [\\d.]+ s; journal removed`));
    expect(readdirSync(dir)).toEqual(['dead.json']);
    const recovered = JSON.parse(readFileSync(path.join(dir, 'dead.json'), 'utf8')) as SessionProfile;
    validateSession(recovered);
    expect(recovered.recovered).toMatchObject({ journal: 'dead.journal.jsonl', rows: session.samples.t.length, skippedLines: 0, tornLastLine: false });
    expect(recovered.pid).toBe(pid);
    expect(recovered.samples.t).toEqual(session.samples.t);
    expect((await recover([dir])).out).toMatch(/no journals/);
  });

  it('treats a pid reused by a later process as dead', async () => {
    const dir = tempDir();
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await new Promise((resolve) => sleeper.once('spawn', resolve));
      await deadJournal(dir, 'reused', (h) => {
        h.pid = sleeper.pid;
        h.startedAt -= 60_000; // the session began a minute before that process did
      });
      const result = await recover([dir]);
      expect(result.out).toMatch(/recovered reused/);
    } finally {
      sleeper.kill();
    }
  });

  // A pid another user owns answers EPERM to `kill(pid, 0)`: pid 1 (root's) seen by another user.
  // As root, `loadlight recover` runs as nobody for this; a test run by pid 1's owner, not root, cannot.
  const pid1Owner = existsSync('/proc/1/stat') ? statSync('/proc/1').uid : null;
  const asOtherUser = pid1Owner === null ? null : pid1Owner !== process.getuid!() ? 'in-process' : process.getuid!() === 0 ? 'as nobody' : null;
  it.skipIf(asOtherUser === null)(`checks the start time of a pid owned by another user (EPERM) too: reused, it is dead (${asOtherUser})`, async () => {
    const dir = tempDir();
    const bootMs = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]) * 1000;
    // pid 1 started at boot: a session that began before the boot cannot be its.
    await deadJournal(dir, 'before-boot', (h) => {
      h.pid = 1;
      h.startedAt = bootMs - 60_000;
    });
    // A session that began after pid 1 did may be its: still running.
    await deadJournal(dir, 'pid-one', (h) => {
      h.pid = 1;
    });
    let result: { code: number | null; out: string; err: string };
    if (asOtherUser === 'in-process') {
      expect(() => process.kill(1, 0)).toThrow(expect.objectContaining({ code: 'EPERM' }));
      result = await recover([dir]);
    } else {
      const nobody = { uid: 65534, gid: 65534, encoding: 'utf8' as const };
      const probe = spawnSync(process.execPath, ['-e', 'try { process.kill(1, 0); console.log("signalled") } catch (e) { console.log(e.code) }'], nobody);
      expect(probe.stdout.trim(), probe.stderr).toBe('EPERM');
      chmodSync(dir, 0o777);
      const run = spawnSync(process.execPath, [cliBin, 'recover', dir], nobody);
      result = { code: run.status, out: run.stdout, err: run.stderr };
    }
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/recovered before-boot \(pid 1\)/);
    expect(result.out).toMatch(/skipped pid-one\.journal\.jsonl: session pid-one is still running \(pid 1\)/);
    expect(readdirSync(dir).sort()).toEqual(['before-boot.json', 'pid-one.journal.jsonl']);
    validateSession(JSON.parse(readFileSync(path.join(dir, 'before-boot.json'), 'utf8')));
  });

  it('skips a journal from another host unless --force', async () => {
    const dir = tempDir();
    await deadJournal(dir, 'elsewhere', (h) => {
      h.host.hostname = 'another-host';
    });
    const skipped = await recover([dir]);
    expect(skipped.out).toMatch(/skipped elsewhere\.journal\.jsonl: written on host "another-host"/);
    expect(existsSync(path.join(dir, 'elsewhere.journal.jsonl'))).toBe(true);
    const forced = await recover([dir, '--force']);
    expect(forced.out).toMatch(/recovered elsewhere/);
    expect(readdirSync(dir)).toEqual(['elsewhere.json']);
  });

  it('never overwrites another session of the same id: writes <id>.recovered.json, then refuses', async () => {
    const dir = tempDir();
    await deadJournal(dir, 'same');
    writeFileSync(path.join(dir, 'same.json'), JSON.stringify({ sessionId: 'same', startedAt: '2020-01-01T00:00:00.000Z', pid: 1 }));
    const first = await recover([dir]);
    expect(first.out).toMatch(/-> .*same\.recovered\.json/);
    expect(JSON.parse(readFileSync(path.join(dir, 'same.json'), 'utf8')).pid).toBe(1);
    await deadJournal(dir, 'same');
    writeFileSync(path.join(dir, 'same.json'), JSON.stringify({ sessionId: 'same', startedAt: '2020-01-01T00:00:00.000Z', pid: 1 }));
    writeFileSync(path.join(dir, 'same.recovered.json'), '{"sessionId":"other"}');
    const refused = await recover([dir]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/same\.journal\.jsonl: .*refusing to overwrite them/);
    expect(existsSync(path.join(dir, 'same.journal.jsonl'))).toBe(true);
    expect(readFileSync(path.join(dir, 'same.recovered.json'), 'utf8')).toBe('{"sessionId":"other"}');
    expect(JSON.parse(readFileSync(path.join(dir, 'same.json'), 'utf8')).pid).toBe(1);
  });

  it('removes the journal of a session whose file was written before the process died', async () => {
    const dir = tempDir();
    await deadJournal(dir, 'written');
    await recover([dir]);
    const file = path.join(dir, 'written.json');
    const before = readFileSync(file, 'utf8');
    // The same journal again (the process died between writing the session and removing it).
    mkdirSync(path.join(dir, 'again'));
    const { file: journal } = await deadJournal(path.join(dir, 'again'), 'written');
    renameSync(journal, path.join(dir, 'written.journal.jsonl'));
    const session = JSON.parse(before) as SessionProfile;
    const lines = readFileSync(path.join(dir, 'written.journal.jsonl'), 'utf8').split('\n');
    const header = JSON.parse(lines[0]!);
    Object.assign(header.h, { pid: session.pid, startedAt: Date.parse(session.startedAt) });
    lines[0] = JSON.stringify(header);
    writeFileSync(path.join(dir, 'written.journal.jsonl'), lines.join('\n'));
    const result = await recover([dir]);
    expect(result.out).toMatch(/session written was already written to .*written\.json; journal removed/);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(existsSync(path.join(dir, 'written.journal.jsonl'))).toBe(false);
  });

  it('removes an empty journal (its program died before writing a sample) unless it is new', async () => {
    const dir = tempDir();
    const empty = path.join(dir, 'empty.journal.jsonl');
    writeFileSync(empty, '');
    let result = await recover([dir]);
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(/skipped empty\.journal\.jsonl: empty, its session may be starting/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(empty, old, old);
    result = await recover([dir]);
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(/removed empty\.journal\.jsonl: empty/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('exits 1 for a file that is no journal, and leaves it; recovers the others', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'junk.journal.jsonl'), 'not json\n');
    await deadJournal(dir, 'good');
    const result = await recover([dir]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/junk\.journal\.jsonl: not a loadlight journal/);
    expect(result.out).toMatch(/recovered good/);
    expect(readdirSync(dir).sort()).toEqual(['good.json', 'junk.journal.jsonl']);
  });
});
