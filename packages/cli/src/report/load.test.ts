import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLoadlightError, sessionSeries, type SessionProfile } from '@loadlight/core';
import { checkSession, lineColumn, loadSessionFile, locateJsonError, parseSessionText, resolveSessionFile } from './load.js';
import { fixtureSession, ROWS } from './test-support.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-report-load-'));
let n = 0;
function file(content: string | Buffer, name = `s${n++}.json`): string {
  const f = path.join(dir, name);
  writeFileSync(f, content);
  return f;
}

/** The message of the SESSION_INVALID error `fn` throws (fails if it throws anything else). */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isLoadlightError(error), String(error)).toBe(true);
    expect((error as { code: string }).code).toBe('SESSION_INVALID');
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('locateJsonError', () => {
  it.each([
    ['{"a":', 5, 'a value'],
    ['{"a":}', 5, 'a value'],
    ['{a:1}', 1, 'a property name in double quotes'],
    ['{"a":1} x', 8, 'the end of the file'],
    ['[1,2,', 5, 'a value'],
    ['{"a" 1}', 5, '":" after the property name'],
    ['[1 2]', 3, '"," or "]" after the array element'],
    ['{"a":1 "b":2}', 7, '"," or "}" after the property value'],
    ['"abc', 4, 'the string to close'],
    ['"a\\x"', 2, 'a valid escape'],
    ['"\\u12G4"', 1, 'a \\u escape'],
    ['"a\nb"', 2, 'a raw control character'],
    ['01', 1, 'the end of the file'],
    ['-', 1, 'a digit'],
    ['[-x]', 2, 'a digit'],
    ['[12.', 4, 'a digit'],
    ['[1e+]', 4, 'a digit'],
    ['[1.e5]', 3, 'a digit'],
    ['[nul', 4, '"null"'],
    ['["\\u00', 6, 'the four hex digits'],
    ['["ab\\', 5, 'an escaped character'],
    ['[tru]', 1, 'a value'],
  ])('%j: offset %i, expects %s', (text, offset, expected) => {
    expect(() => JSON.parse(text)).toThrow();
    const found = locateJsonError(text);
    expect(found?.offset).toBe(offset);
    expect(found?.expected).toContain(expected);
  });

  it('agrees with JSON.parse on any text: null exactly when it parses', () => {
    const jsonish = fc.oneof(
      fc.json(),
      fc.string({ unit: fc.constantFrom(...'{}[]":,0123456789-.eE+ \n\ttruefalsn\\u'.split('')) }),
      fc.json().chain((json) => fc.nat(json.length).map((cut) => json.slice(0, cut))),
    );
    fc.assert(
      fc.property(jsonish, (text) => {
        let parses = true;
        try {
          JSON.parse(text);
        } catch {
          parses = false;
        }
        expect(locateJsonError(text) === null).toBe(parses);
      }),
      { numRuns: 2000 },
    );
  });

  it('copes with deep nesting without recursion', () => {
    expect(locateJsonError('['.repeat(200_000))?.offset).toBe(200_000);
    expect(locateJsonError(`${'['.repeat(200_000)}${']'.repeat(200_000)}`)).toBeNull();
  });

  it('lineColumn counts from 1', () => {
    expect(lineColumn('ab\ncd\nef', 7)).toEqual({ line: 3, column: 2 });
    expect(lineColumn('abc', 0)).toEqual({ line: 1, column: 1 });
  });
});

/** A session core's writer wrote (dense, sparse and runs series, computed metrics); a new copy each call. */
const written = fixtureSession().session;
const minimal = (): Record<string, any> => structuredClone(written);

/** What a version 1 loadlight wrote for the same session: every series dense, computed ones included, no `since`. */
function asVersion1(session: SessionProfile): Record<string, any> {
  const old = structuredClone(session) as Record<string, any>;
  const values: Record<string, Array<number | null>> = {};
  for (const [name, entry] of Object.entries(old.catalogue as SessionProfile['catalogue'])) {
    if (!entry.derivedFrom) values[name] = sessionSeries(session, name);
    delete entry.formula;
  }
  return { ...old, schemaVersion: 1, samples: { t: session.samples.t, values } };
}

describe('loadSessionFile', () => {
  it('reads a valid session, its series in each of the three forms', () => {
    const values = written.samples.values;
    expect(Array.isArray(values['fix.cpu.percent'])).toBe(true);
    expect(values['fix.queue.wait_ms']).toEqual({ at: [4, 13], v: [12.5, 40] });
    expect(values['fix.jobs.count']).toEqual({ runs: [15, 5], v: [0, 3] });
    expect(Object.hasOwn(values, 'module.worker.calls_per_minute')).toBe(false);
    const session = loadSessionFile(file(JSON.stringify(minimal())));
    expect(session).toEqual(written);
  });

  it('refuses a missing file, a folder, an empty file, gzip and binary data, naming the file', () => {
    const missing = path.join(dir, 'nope.json');
    expect(refusal(() => loadSessionFile(missing))).toBe(`${missing}: cannot read the session file: no such file`);
    expect(refusal(() => loadSessionFile(dir))).toBe(`${dir}: is a folder, not a session file`);
    const empty = file('');
    expect(refusal(() => loadSessionFile(empty))).toBe(`${empty}: the file is empty: not a loadlight session`);
    const gz = file(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]));
    expect(refusal(() => loadSessionFile(gz))).toContain('gzip-compressed');
    const binary = file(Buffer.from([0x7b, 0x00, 0x01]));
    expect(refusal(() => loadSessionFile(binary))).toContain('a binary file');
  });

  it('refuses a file over the size limit before reading it', () => {
    const big = file(JSON.stringify(minimal()));
    expect(refusal(() => loadSessionFile(big, { maxBytes: 100 }))).toMatch(/over the 0 MB loadlight reads$/);
  });

  it('names the line and column of a syntax error, and says when the file is cut short', () => {
    const text = JSON.stringify(minimal(), null, 2);
    const pid = `"pid": ${written.pid}`;
    const broken = file(text.replace(pid, `${pid} 2`));
    const line = text.split('\n').findIndex((l) => l.includes(pid)) + 1;
    expect(refusal(() => loadSessionFile(broken))).toBe(
      `${broken}: not valid JSON at line ${line}, column ${2 + pid.length + 2}: expected "," or "}" after the property value, found "2"`,
    );
    const cut = file(text.slice(0, 300));
    expect(refusal(() => loadSessionFile(cut))).toMatch(/: not valid JSON: the file ends at line \d+, column \d+ where .* was expected \(cut short/);
  });

  it('accepts a byte-order mark', () => {
    expect(parseSessionText(`\ufeff${JSON.stringify(minimal())}`, 'f')).toMatchObject({ sessionId: written.sessionId });
  });

  it('refuses other JSON, an unknown schema version and schema errors, naming the JSON path and what was expected', () => {
    expect(refusal(() => checkSession([1], 'f.json'))).toBe('f.json: not a loadlight session: expected a JSON object, found an array');
    expect(refusal(() => checkSession({ name: 'package' }, 'f.json'))).toMatch(/^f.json: not a loadlight session: it has no "schemaVersion"/);
    expect(refusal(() => checkSession({ ...minimal(), schemaVersion: 3 }, 'f.json'))).toBe(
      'f.json: session schema version 3 is not supported: this loadlight reads "schemaVersion": 2',
    );
    expect(refusal(() => checkSession({ ...minimal(), schemaVersion: '2' }, 'f.json'))).toBe(
      'f.json: session schema version "2" is not supported: this loadlight reads "schemaVersion": 2',
    );
    const bad = minimal();
    bad.samples.t[1] = 'soon';
    delete bad.overhead;
    const message = refusal(() => checkSession(bad, 'f.json'));
    expect(message).toMatch(/^f.json is not a valid loadlight session:\n/);
    expect(message).toContain('"samples.t[1]" must be number');
    expect(message).toContain('"overhead" is required.');
  });

  it('refuses a version 1 session, saying it is of an older version', () => {
    const old = asVersion1(written);
    expect(old.samples.values['module.worker.calls_per_minute']).toHaveLength(ROWS);
    const f = file(JSON.stringify(old));
    expect(refusal(() => loadSessionFile(f)).startsWith(
      `${f} is a loadlight session of schema version 1, written by an older loadlight: this loadlight reads schema version 2 `,
    )).toBe(true);
  });

  it('refuses a dense series whose length does not match the sample times', () => {
    const bad = minimal();
    bad.samples.values['fix.cpu.percent'] = [1];
    expect(refusal(() => checkSession(bad, 'f.json'))).toContain(
      `"samples.values["fix.cpu.percent"]" has 1 values, expected ${ROWS} (one per time in "samples.t")`,
    );
  });

  it.each<[string, string, unknown, string]>([
    ['rows out of order', 'fix.queue.wait_ms', { at: [13, 4], v: [40, 12.5] }, `"samples.values["fix.queue.wait_ms"].at[1]" is 4: expected rows in ascending order, each below ${ROWS} (the number of times in "samples.t").`],
    ['a row past the last time', 'fix.queue.wait_ms', { at: [4, ROWS], v: [12.5, 40] }, `"samples.values["fix.queue.wait_ms"].at[1]" is ${ROWS}: expected rows in ascending order, each below ${ROWS}`],
    ['fewer values than rows', 'fix.queue.wait_ms', { at: [4, 13], v: [12.5] }, '"samples.values["fix.queue.wait_ms"]" has 2 rows in "at" and 1 values in "v": expected as many.'],
    ['a null value', 'fix.queue.wait_ms', { at: [4, 13], v: [12.5, null] }, '"samples.values["fix.queue.wait_ms"].v[1]" must be number, got null.'],
    ['runs short of the times', 'fix.jobs.count', { runs: [15, 4], v: [0, 3] }, `"samples.values["fix.jobs.count"]" has runs of 19 rows in all, expected ${ROWS} (the number of times in "samples.t").`],
    ['an empty run', 'fix.jobs.count', { runs: [15, 0, 5], v: [0, 1, 3] }, '"samples.values["fix.jobs.count"].runs[1]" must be >= 1, got number 0.'],
    ['fewer values than runs', 'fix.jobs.count', { runs: [15, 5], v: [0] }, '"samples.values["fix.jobs.count"]" has 2 runs and 1 values: expected as many.'],
    ['both forms at once', 'fix.jobs.count', { runs: [ROWS], at: [1], v: [0] }, 'unknown option "at" in "samples.values["fix.jobs.count"]"'],
  ])('refuses a malformed sparse or runs series: %s', (_, name, series, expected) => {
    const bad = minimal();
    bad.samples.values[name] = series;
    const message = refusal(() => checkSession(bad, 'f.json'));
    expect(message).toMatch(/^f.json is not a valid loadlight session:\n/);
    expect(message).toContain(expected);
  });

  it('never throws anything but SESSION_INVALID for any JSON value or any change to a session', () => {
    const mutate = fc
      .tuple(fc.constantFrom(...Object.keys(minimal())), fc.jsonValue())
      .map(([key, value]) => JSON.stringify({ ...minimal(), [key]: value }));
    fc.assert(
      fc.property(fc.oneof(fc.json(), mutate, fc.string()), (text) => {
        try {
          checkSession(parseSessionText(text, 'f.json'), 'f.json');
        } catch (error) {
          expect(isLoadlightError(error), String((error as Error)?.stack ?? error)).toBe(true);
          expect((error as Error).message.startsWith('f.json')).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('resolveSessionFile', () => {
  it('takes the newest .json of a folder, and refuses a folder without one', () => {
    const folder = path.join(dir, 'sessions');
    mkdirSync(folder);
    expect(refusal(() => resolveSessionFile(folder))).toBe(`${folder}: the folder holds no session file (*.json)`);
    const older = file('{}', 'sessions/a.json');
    const newer = file('{}', 'sessions/b.json');
    utimesSync(older, new Date(), new Date(Date.now() + 60_000));
    expect(resolveSessionFile(folder)).toEqual({ file: older, picked: true });
    expect(resolveSessionFile(newer)).toEqual({ file: newer, picked: false });
  });
});
