import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LoadlightError, SESSION_SCHEMA_VERSION as SESSION_VERSION, validateSession, type SessionProfile } from '@loadlight/core';

/**
 * Session files larger than this are refused before reading: JSON.parse needs several times the
 * file's size in memory, and V8 cannot hold a string over ~512 MB. A full ring of the default
 * 3600 samples takes a few MB; tens of MB for many modules.
 */
export const MAX_SESSION_BYTES = 256 * 1024 * 1024;

function fail(file: string, message: string, cause?: unknown): never {
  throw new LoadlightError('SESSION_INVALID', `${file}: ${message}`, { file, cause });
}

const SYSTEM_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
};

function systemReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return (code && SYSTEM_ERRORS[code]) || (error instanceof Error ? error.message : String(error));
}

/**
 * Whether a file name in the JSON reporter's `dir` is a session: `*.json`, not its
 * `<id>.trace.json` beside a session, nor a journal (`*.journal.jsonl`, `*.journal.old.jsonl`)
 * or an atomic write's temp file (`.<name>.<pid>.<hex>.tmp`).
 */
export function isSessionFileName(name: string): boolean {
  return name.endsWith('.json') && !name.endsWith('.trace.json');
}

/**
 * The session file to read: `target` itself, or for a folder its newest session file (the JSON
 * reporter's `dir`). Throws SESSION_INVALID naming the path when there is none.
 */
export function resolveSessionFile(target: string): { file: string; picked: boolean } {
  let stats;
  try {
    stats = statSync(target);
  } catch (error) {
    fail(target, `cannot read the session file: ${systemReason(error)}`, error);
  }
  if (!stats.isDirectory()) return { file: target, picked: false };
  let newest: { file: string; mtime: number } | null = null;
  let names: string[];
  try {
    names = readdirSync(target);
  } catch (error) {
    fail(target, `cannot list the folder: ${systemReason(error)}`, error);
  }
  for (const name of names) {
    if (!isSessionFileName(name)) continue;
    const file = path.join(target, name);
    try {
      const s = statSync(file);
      if (s.isFile() && (!newest || s.mtimeMs > newest.mtime)) newest = { file, mtime: s.mtimeMs };
    } catch {
      // removed while we looked
    }
  }
  if (!newest) fail(target, 'the folder holds no session file (*.json)');
  return { file: newest.file, picked: true };
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** A character as a message shows it. */
function shown(char: string | undefined): string {
  if (char === undefined) return 'the end of the file';
  const code = char.charCodeAt(0);
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).padStart(4, '0').toUpperCase()}`;
  return JSON.stringify(char);
}

/**
 * Where and why `text` is not JSON: the offset of the first character JSON.parse cannot accept
 * and what was expected there. Called only after JSON.parse failed (its messages carry no
 * position in most cases); iterative, so that deep nesting cannot overflow the stack.
 * Returns null if it finds nothing wrong (then JSON.parse's own message is used).
 */
export function locateJsonError(text: string): { offset: number; expected: string } | null {
  let i = 0;
  const n = text.length;
  // What each open container expects next.
  const stack: Array<'array' | 'object'> = [];
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const string = (): { offset: number; expected: string } | null => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return null;
      }
      if (c < 0x20) return { offset: i, expected: 'the string to close with " (a raw control character or line break is not allowed in a string)' };
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            // cut short inside the escape: the file ends where the digits should be
            return /^[0-9a-fA-F]*$/.test(hex) && i + 6 > n ? { offset: n, expected: 'the four hex digits of a \\u escape' } : { offset: i, expected: 'a \\u escape with four hex digits' };
          }
          i += 6;
        } else if (e === undefined) {
          return { offset: n, expected: 'an escaped character after \\' };
        } else if ('"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          return { offset: i, expected: 'a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)' };
        }
        continue;
      }
      i++;
    }
    return { offset: n, expected: 'the string to close with "' };
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|-/y;
  /** `"name" :` of an object member, up to its value. */
  const key = (): { offset: number; expected: string } | null => {
    ws();
    if (text[i] !== '"') return { offset: i, expected: 'a property name in double quotes' };
    const bad = string();
    if (bad) return bad;
    ws();
    if (text[i] !== ':') return { offset: i, expected: '":" after the property name' };
    i++;
    return null;
  };
  // needValue: a value must come next (at the start, after ":", "," in an array, or "[").
  let needValue = true;
  for (;;) {
    ws();
    if (needValue) {
      const c = text[i];
      if (c === '"') {
        const bad = string();
        if (bad) return bad;
        needValue = false;
      } else if (c === '{') {
        i++;
        ws();
        if (text[i] === '}') {
          i++;
          needValue = false;
        } else {
          stack.push('object');
          const bad = key();
          if (bad) return bad;
        }
      } else if (c === '[') {
        i++;
        ws();
        if (text[i] === ']') {
          i++;
          needValue = false;
        } else {
          stack.push('array');
        }
      } else {
        const word = ['true', 'false', 'null'].find((w) => text.startsWith(w, i));
        NUMBER.lastIndex = i;
        const match = word ? null : NUMBER.exec(text);
        if (word) i += word.length;
        else if (match) {
          i += match[0].length;
          // a number cut short (`-`, `12.`, `1e+`): a digit must follow
          if (match[0] === '-') return { offset: i, expected: 'a digit' };
          const partial = /^(?:\.|[eE][+-]?)/.exec(text.slice(i, i + 2));
          if (partial) return { offset: i + partial[0].length, expected: 'a digit' };
        } else {
          const rest = text.slice(i);
          // `tr` or `nul` at the very end: the file was cut inside the word
          if (rest.length > 0 && ['true', 'false', 'null'].some((w) => w.startsWith(rest))) return { offset: n, expected: `"${['true', 'false', 'null'].find((w) => w.startsWith(rest))}"` };
          return { offset: i, expected: 'a value (a string, number, object, array, true, false or null)' };
        }
        needValue = false;
      }
      continue;
    }
    const top = stack[stack.length - 1];
    if (!top) break;
    const close = top === 'object' ? '}' : ']';
    if (text[i] === close) {
      i++;
      stack.pop();
      continue;
    }
    if (text[i] !== ',') return { offset: i, expected: `"," or "${close}" after the ${top === 'object' ? 'property value' : 'array element'}` };
    i++;
    if (top === 'object') {
      const bad = key();
      if (bad) return bad;
    }
    needValue = true;
  }
  if (i < n) return { offset: i, expected: 'the end of the file after the JSON value' };
  return null;
}

/** Parses a session file's text; throws SESSION_INVALID with the line and column on a syntax error. */
export function parseSessionText(text: string, file: string): unknown {
  // A byte-order mark is not JSON, but editors add it.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') fail(file, 'the file is empty: not a loadlight session');
  try {
    return JSON.parse(body);
  } catch (error) {
    const where = locateJsonError(body);
    if (!where) fail(file, `not valid JSON: ${(error as Error).message}`, error);
    const { line, column } = lineColumn(body, where.offset);
    if (where.offset >= body.length) {
      fail(
        file,
        `not valid JSON: the file ends at line ${line}, column ${column} where ${where.expected} was expected ` +
          `(cut short: was it copied or written only in part?)`,
        error,
      );
    }
    fail(file, `not valid JSON at line ${line}, column ${column}: expected ${where.expected}, found ${shown(body[where.offset])}`, error);
  }
}

/**
 * Checks a parsed value as a session profile (the schema version this loadlight writes); throws SESSION_INVALID naming the file,
 * the JSON path of each problem and what was expected.
 */
export function checkSession(data: unknown, file: string): asserts data is SessionProfile {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    fail(file, `not a loadlight session: expected a JSON object, found ${data === null ? 'null' : Array.isArray(data) ? 'an array' : typeof data}`);
  }
  const record = data as Record<string, unknown>;
  if (!Object.hasOwn(record, 'schemaVersion')) {
    fail(file, `not a loadlight session: it has no "schemaVersion" (a session written by @loadlight/reporter-json starts with "schemaVersion": ${SESSION_VERSION})`);
  }
  // An older version gets validateSession's own message, which says it is older.
  if (record.schemaVersion !== SESSION_VERSION && record.schemaVersion !== 1) {
    const version = JSON.stringify(record.schemaVersion) ?? String(record.schemaVersion);
    fail(file, `session schema version ${version.length > 40 ? `${version.slice(0, 37)}...` : version} is not supported: this loadlight reads "schemaVersion": ${SESSION_VERSION}`);
  }
  try {
    validateSession(data, file);
  } catch (error) {
    if (error instanceof LoadlightError) throw new LoadlightError('SESSION_INVALID', error.message, { file, cause: error });
    throw error;
  }
}

/**
 * Reads, parses and checks a session file. Every problem (missing, unreadable, too large, empty,
 * not JSON, truncated, another schema version, schema errors) throws SESSION_INVALID naming the
 * file and the place.
 */
export function loadSessionFile(file: string, options: { maxBytes?: number } = {}): SessionProfile {
  const maxBytes = options.maxBytes ?? MAX_SESSION_BYTES;
  let size: number;
  try {
    const stats = statSync(file);
    if (stats.isDirectory()) fail(file, 'is a folder, not a session file');
    size = stats.size;
  } catch (error) {
    if (error instanceof LoadlightError) throw error;
    fail(file, `cannot read the session file: ${systemReason(error)}`, error);
  }
  if (size > maxBytes) {
    fail(file, `the file is ${(size / 1024 / 1024).toFixed(0)} MB, over the ${(maxBytes / 1024 / 1024).toFixed(0)} MB loadlight reads`);
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    fail(file, `cannot read the session file: ${systemReason(error)}`, error);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) fail(file, 'the file is gzip-compressed: decompress it first (gunzip)');
  const text = bytes.toString('utf8');
  if (text.includes('\u0000')) fail(file, `a binary file (a NUL byte at offset ${bytes.indexOf(0)}), not a loadlight session`);
  const data = parseSessionText(text, file);
  checkSession(data, file);
  return data;
}
