import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeError, validateSession, type SessionProfile } from '@loadlight/core';
import {
  journalFiles,
  JOURNAL_SUFFIX,
  OLD_JOURNAL_SUFFIX,
  readJournalHeader,
  rebuildSession,
  safeFileName,
  sessionJsonChunks,
  writeFileAtomic,
  type JournalHeader,
} from '@loadlight/reporter-json';
import { parse, printableLine, shownPath, UsageError } from './args.js';

export const RECOVER_HELP = `Usage: loadlight recover <dir> [--force]

Turns the journals that sessions of dead processes left in <dir> (the JSON reporter's "dir",
such as perf/samples) into session files. While a program is profiled, the JSON reporter keeps
a journal beside its session file (<session>.journal.jsonl, one line per sample, fsync'd once a
second) and removes it once the session file is written; a journal is left only when the
process died first (kill -9, a crash of Node, a power cut).

For each journal: a session whose process still runs on this host is skipped; else the session
is rebuilt (the newest "maxSamples" rows, recommendations, alerts, faults, actions), checked
against the session schema, marked "recovered", written atomically to <dir>/<session id>.json,
and its journal removed. A torn last line (the usual end after kill -9) is dropped; unreadable
lines are skipped and counted. Nothing is written outside <dir>.

Options:
      --force   also recover journals whose process seems to run (its pid was reused) or that
                were written on another host (a shared folder)
  -h, --help    show this help

Exit code 1 when <dir> cannot be read or a journal could not be recovered.
`;

/** A journal in the folder: its segments, oldest first, by the name they share. */
interface JournalGroup {
  base: string;
  segments: string[];
}

/** The journals in `dir`, by name. */
function findJournals(dir: string): JournalGroup[] {
  const bases = new Set<string>();
  for (const name of readdirSync(dir)) {
    const suffix = name.endsWith(OLD_JOURNAL_SUFFIX) ? OLD_JOURNAL_SUFFIX : name.endsWith(JOURNAL_SUFFIX) ? JOURNAL_SUFFIX : null;
    if (suffix && name.length > suffix.length) bases.add(name.slice(0, -suffix.length));
  }
  return [...bases]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((base) => {
      const { old, current } = journalFiles(dir, base);
      return { base, segments: [old, current].filter(isFile) };
    })
    .filter((g) => g.segments.length > 0);
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** When process `pid` started (ms since the epoch), from /proc (Linux); null when unknown. */
function processStartMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]); // field 22, "starttime", in clock ticks after boot
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    if (!btime || !Number.isFinite(ticks)) return null;
    return (Number(btime[1]) + ticks / 100) * 1000; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/**
 * Whether the process that wrote the journal may still run: its pid exists (ours to signal or,
 * EPERM, another user's), and (where /proc tells) that process started before the session did.
 * A pid reused by a later process, whoever owns it, is dead.
 */
function sessionProcessAlive(header: Pick<JournalHeader, 'pid' | 'startedAt'>): boolean {
  if (header.pid === process.pid) return true;
  try {
    process.kill(header.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const started = processStartMs(header.pid);
  // The profiler starts after its process; a few seconds of slack for the clock's resolution.
  return started === null || started <= header.startedAt + 5000;
}

/** The parsed session in `file`, or null when it is missing or unreadable. */
function existingSession(file: string): Partial<SessionProfile> | null {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Partial<SessionProfile>) : {};
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? null : {};
  }
}

const sameSession = (a: Partial<SessionProfile>, b: SessionProfile) => a.sessionId === b.sessionId && a.startedAt === b.startedAt && a.pid === b.pid;

function removeJournal(group: JournalGroup): void {
  for (const file of group.segments) rmSync(file, { force: true });
}

const clock = (iso: string) => iso.slice(11, 19);

export async function recoverCommand(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const { values, positionals } = parse({
    args: argv,
    allowPositionals: true,
    options: { force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    out.write(RECOVER_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('expects the folder of the journals, such as "loadlight recover perf/samples"');
  if (positionals.length > 1) throw new UsageError(`expects one folder, got ${positionals.length}: ${positionals.map((p) => `"${p}"`).join(', ')}`);
  const dir = path.resolve(positionals[0]!);
  let groups: JournalGroup[];
  try {
    if (!statSync(dir).isDirectory()) {
      err.write(`loadlight recover: ${printableLine(positionals[0]!)} is not a folder: give the folder of the session files (the JSON reporter's "dir")\n`);
      return 1;
    }
    groups = findJournals(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such folder' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : describeError(error);
    err.write(`loadlight recover: cannot read ${printableLine(positionals[0]!)}: ${printableLine(reason)}\n`);
    return 1;
  }
  if (groups.length === 0) {
    out.write(`no journals in ${shownPath(dir)}: nothing to recover\n`);
    return 0;
  }
  let failed = 0;
  for (const group of groups) {
    const name = path.basename(group.segments[group.segments.length - 1]!);
    try {
      const outcome = await recoverOne(dir, group, name, values.force === true);
      out.write(`${printableLine(outcome)}\n`);
    } catch (error) {
      failed++;
      err.write(`loadlight recover: ${printableLine(name)}: ${printableLine(describeError(error))}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}

/** An empty journal younger than this may belong to a session that is starting: left alone. */
const EMPTY_JOURNAL_GRACE_MS = 10_000;

/** When a file holding nothing but whitespace was last written (ms since the epoch); null when it holds more. */
function blankSince(file: string): number | null {
  const { size, mtimeMs } = statSync(file);
  return size === 0 || (size < 4096 && readFileSync(file, 'utf8').trim() === '') ? mtimeMs : null;
}

/** Recovers one journal (`name`: its newest segment's); returns the line to print, throws with the reason it cannot. */
async function recoverOne(dir: string, group: JournalGroup, name: string, force: boolean): Promise<string> {
  let header: JournalHeader | null = null;
  for (const file of [...group.segments].reverse()) header ??= readJournalHeader(file);
  if (!header) {
    const written: number[] = [];
    for (const file of group.segments) {
      const since = blankSince(file);
      if (since === null) break;
      written.push(since);
    }
    if (written.length === group.segments.length) {
      // The program died between creating its journal and writing the header (or before the first fsync).
      const ageMs = Date.now() - Math.max(...written);
      if (ageMs < EMPTY_JOURNAL_GRACE_MS) return `skipped ${name}: empty, its session may be starting`;
      removeJournal(group);
      return `removed ${name}: empty (its program died before writing a sample)`;
    }
    throw new Error('not a loadlight journal (its first line is no journal header); left as it is');
  }
  const host = header.host?.hostname;
  if (!force && host !== os.hostname()) {
    return `skipped ${name}: written on host "${host}", where this cannot tell whether pid ${header.pid} still runs (use --force once it stopped)`;
  }
  if (!force && sessionProcessAlive(header)) {
    return `skipped ${name}: session ${header.sessionId} is still running (pid ${header.pid}); its reporter writes the session when it stops`;
  }
  const began = performance.now();
  const recovered = rebuildSession(group.segments, { journal: name });
  const session = recovered.session;
  validateSession(session, `the session rebuilt from ${name}`);
  const safe = safeFileName(session.sessionId);
  let target = path.join(dir, `${safe}.json`);
  const existing = existingSession(target);
  if (existing && sameSession(existing, session)) {
    // The process wrote its session, then died before removing the journal.
    removeJournal(group);
    return `${name}: session ${session.sessionId} was already written to ${shownPath(target)}; journal removed`;
  }
  if (existing) {
    // Another session of the same id (a fixed "sessionId" in the config) has that name.
    target = path.join(dir, `${safe}.recovered.json`);
    const other = existingSession(target);
    if (other && !sameSession(other, session)) {
      throw new Error(`${shownPath(path.join(dir, `${safe}.json`))} and ${shownPath(target)} hold other sessions: refusing to overwrite them; move one away and run again`);
    }
  }
  await writeFileAtomic(target, sessionJsonChunks(session));
  removeJournal(group);
  const t = session.samples.t;
  const span = t.length > 0 ? ` from ${clock(new Date(t[0]!).toISOString())} to ${clock(new Date(t[t.length - 1]!).toISOString())} UTC` : '';
  const notes: string[] = [];
  if (recovered.rows > t.length) notes.push(`the newest ${t.length} of ${recovered.rows} rows kept (maxSamples)`);
  if (recovered.torn) notes.push('its torn last line dropped');
  if (recovered.skipped > 0) notes.push(`${recovered.skipped} unreadable line${recovered.skipped === 1 ? '' : 's'} skipped`);
  const seconds = ((performance.now() - began) / 1000).toFixed(1);
  return (
    `recovered ${session.sessionId} (pid ${session.pid}): ${t.length} sample${t.length === 1 ? '' : 's'}${span}, ` +
    `${Object.keys(session.catalogue).length} metrics -> ${shownPath(target)} in ${seconds} s${notes.length ? ` (${notes.join('; ')})` : ''}; journal removed`
  );
}
