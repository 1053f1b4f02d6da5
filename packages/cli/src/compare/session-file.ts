import { readFileSync, statSync } from 'node:fs';
import { isLoadlightError, LoadlightError, validateSession, type SessionProfile } from '@loadlight/core';
import { MAX_SESSION_BYTES, parseSessionText } from '../report/load.js';

function fail(file: string, message: string, cause?: unknown): never {
  throw new LoadlightError('SESSION_INVALID', `${file}: ${message}`, { file, cause });
}

const SYSTEM_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a part of the path is not a folder',
  ENAMETOOLONG: 'the name is too long',
};

/**
 * Reads a session file for `compare`: every problem (missing, a folder, too large, compressed,
 * binary, empty, not JSON or cut short: `parseSessionText` gives the line and column; not a
 * session of the schema version core reads, schema errors) throws SESSION_INVALID naming the file.
 * The schema is core's own `validateSession`, so that compare reads whatever version core writes.
 */
export function readSessionFile(file: string): SessionProfile {
  let size: number;
  try {
    const stats = statSync(file);
    if (stats.isDirectory()) fail(file, 'is a folder, not a session file');
    size = stats.size;
  } catch (error) {
    if (isLoadlightError(error)) throw error;
    const code = (error as NodeJS.ErrnoException | null)?.code;
    fail(file, `cannot read the session file: ${(code && SYSTEM_ERRORS[code]) || (error instanceof Error ? error.message : String(error))}`, error);
  }
  if (size > MAX_SESSION_BYTES) fail(file, `the file is ${Math.round(size / 1024 / 1024)} MB, over the ${MAX_SESSION_BYTES / 1024 / 1024} MB compare reads`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    fail(file, `cannot read the session file: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) fail(file, 'the file is gzip-compressed: decompress it first (gunzip)');
  if (bytes.includes(0)) fail(file, `a binary file (a NUL byte at offset ${bytes.indexOf(0)}), not a loadlight session`);
  const data = parseSessionText(bytes.toString('utf8'), file);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    fail(file, `not a loadlight session: expected a JSON object, found ${data === null ? 'null' : Array.isArray(data) ? 'an array' : typeof data}`);
  }
  try {
    validateSession(data, file);
  } catch (error) {
    if (isLoadlightError(error)) throw new LoadlightError('SESSION_INVALID', error.message, { file, cause: error });
    throw error;
  }
  return data;
}
