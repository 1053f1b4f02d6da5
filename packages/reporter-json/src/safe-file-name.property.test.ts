// Property tests: a session id from a user can never make the JSON reporter write outside its
// `dir`, on POSIX or Windows path rules: not the session file, its trace, its journal or a temp
// file. End to end: a profiler with a hostile `sessionId` writes only inside the folder.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isLoadlightError, Profiler } from '@loadlight/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import json from './index.js';
import { JOURNAL_SUFFIX, OLD_JOURNAL_SUFFIX } from './journal-format.js';
import { MAX_FILE_NAME_LENGTH, safeFileName } from './safe-file-name.js';

const PURE_RUNS = 500;
const PROFILER_RUNS = 20;

/** Ids an attacker or a careless config could give. */
const hostileId = fc.oneof(
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 250 }) },
  {
    weight: 3,
    arbitrary: fc
      .array(
        fc.constantFrom(
          '..', '.', '/', '\\', '../', '..\\', '/etc/passwd', 'C:\\Windows\\', 'C:', '\\\\server\\share\\', '\u0000', 'CON', 'con.txt', 'NUL', 'com1', 'LPT9.log', 'COM¹',
          'aux.json', '\u2215', '\u2044', '\uff0f', '\uff3c', '\u29f5', '\ufe68', '\u2024\u2024', '\uff0e\uff0e', '%2e%2e%2f', 'é', '日本', '\ud800', ' ', '.json', '~', '$HOME', '\r\n',
        ),
        { maxLength: 12 },
      )
      .map((parts) => parts.join('')),
  },
  { weight: 1, arbitrary: fc.integer({ min: 90, max: 1000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 300 }).map((n) => '../'.repeat(n)) },
);

const WIN_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;

/** Every file the reporter can write for a session id, relative to its dir. */
function filesFor(name: string): string[] {
  return [`${name}.json`, `${name}.trace.json`, `.${name}.json.4194304.ffffffff.tmp`, `${name}${JOURNAL_SUFFIX}`, `${name}${OLD_JOURNAL_SUFFIX}`];
}

describe('session ids as file names: property tests', () => {
  it('every file of any session id stays directly inside the folder, under POSIX and Windows rules', () => {
    const posixDir = '/var/lib/app/perf/samples';
    const winDir = 'C:\\app\\perf\\samples';
    fc.assert(
      fc.property(hostileId, (id) => {
        const name = safeFileName(id);
        expect(name.length).toBeGreaterThan(0);
        expect(name.length).toBeLessThanOrEqual(MAX_FILE_NAME_LENGTH);
        expect(name).toMatch(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/);
        // Windows: the part before the first dot is no device name; no trailing dot or space
        expect(WIN_RESERVED.test(name.split('.')[0]!)).toBe(false);
        expect(name).not.toMatch(/[. ]$/);
        for (const file of filesFor(name)) {
          expect(Buffer.byteLength(file)).toBeLessThanOrEqual(255);
          expect(path.posix.dirname(path.posix.resolve(posixDir, file))).toBe(posixDir);
          expect(path.win32.dirname(path.win32.resolve(winDir, file))).toBe(winDir);
          expect(path.posix.normalize(file)).toBe(file);
          expect(path.win32.normalize(file)).toBe(file);
        }
      }),
      { numRuns: PURE_RUNS },
    );
  });

  it('ids that differ give different files (a hash keeps cleaned-up ids apart)', () => {
    fc.assert(
      fc.property(hostileId, hostileId, (a, b) => {
        fc.pre(a !== b);
        expect(safeFileName(a)).not.toBe(safeFileName(b));
      }),
      { numRuns: PURE_RUNS },
    );
  });
});

describe('the json reporter with a hostile sessionId (end to end)', () => {
  const sandbox = mkdtempSync(path.join(os.tmpdir(), 'loadlight-json-ids-'));
  const home = process.cwd();
  // should a path ever resolve from the working folder, it lands in the sandbox, where the test sees it
  beforeAll(() => process.chdir(sandbox));
  afterAll(() => {
    process.chdir(home);
    rmSync(sandbox, { recursive: true, force: true });
  });

  const tree = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const full = path.join(dir, name);
      return lstatSync(full).isDirectory() ? [full, ...tree(full)] : [full];
    });

  it('writes the session, and nothing else anywhere, inside the folder chosen; a refused id is a CONFIG_INVALID error', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(hostileId, fc.constantFrom('samples', 'a/b', './x/../y'), async (sessionId, dir) => {
        const base = path.join(sandbox, `run-${run++}`);
        mkdirSync(base);
        const reporter = json({ dir, quiet: true, trace: true });
        let profiler: Profiler;
        try {
          // a relative `dir` is resolved from the config's base folder
          profiler = new Profiler({ sessionId, plugins: [], reporters: [reporter], rules: [], sampleIntervalMs: 10 }, { baseDir: base, handleExit: false, warn: () => {} });
        } catch (error) {
          // the config schema bounds ids to 1..200 characters
          expect(isLoadlightError(error) && error.code === 'CONFIG_INVALID').toBe(true);
          expect(sessionId.length === 0 || sessionId.length > 200).toBe(true);
          return;
        }
        try {
          await profiler.start();
        } finally {
          await profiler.stop();
        }
        const chosen = path.resolve(base, dir);
        expect(reporter.lastFile).toBe(path.join(chosen, `${safeFileName(sessionId)}.json`));
        for (const file of tree(base)) {
          const inside = file === chosen || file.startsWith(`${chosen}${path.sep}`) || chosen.startsWith(`${file}${path.sep}`);
          expect(inside, `${file} for id ${JSON.stringify(sessionId).slice(0, 80)}`).toBe(true);
        }
        expect(readdirSync(sandbox).filter((name) => !name.startsWith('run-'))).toEqual([]);
      }),
      { numRuns: PROFILER_RUNS },
    );
  }, 60_000);
});
