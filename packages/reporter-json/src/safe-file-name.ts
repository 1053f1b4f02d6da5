import { createHash } from 'node:crypto';

/** Longest name returned; leaves room for `.json` and the temp-file affixes within 255 bytes. */
export const MAX_FILE_NAME_LENGTH = 100;

const HASH_LENGTH = 8;
const SAFE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
// Windows refuses these as file names, with or without an extension.
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

function isSafe(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= MAX_FILE_NAME_LENGTH &&
    SAFE.test(name) &&
    !name.includes('..') &&
    !name.endsWith('.') &&
    !RESERVED.test(name)
  );
}

/**
 * Turns any session id into one safe path segment: only `[A-Za-z0-9._-]`, no leading dot or
 * dash, no `..`, at most 100 characters, never a Windows device name. A safe id is returned
 * unchanged; any other gets a short hash of the original appended, so that two ids that clean
 * up to the same text still give two files.
 *
 * @example safeFileName('../../etc/passwd') // 'etc_passwd-833ba4aa'
 */
export function safeFileName(sessionId: string): string {
  const id = typeof sessionId === 'string' ? sessionId : String(sessionId);
  if (isSafe(id)) return id;
  // Hash the UTF-16 code units, not UTF-8: lone surrogates would otherwise all hash alike.
  const hash = createHash('sha256').update(Buffer.from(id, 'utf16le')).digest('hex').slice(0, HASH_LENGTH);
  const readable = id
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // keep "é" readable as "e"
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^[._-]+/, '')
    .slice(0, MAX_FILE_NAME_LENGTH - HASH_LENGTH - 2)
    .replace(/[._-]+$/, '');
  const name = `${readable || 'session'}-${hash}`;
  // `CON.x-1234abcd` is still a device name on Windows: the part before the first dot counts.
  return RESERVED.test(name) ? `_${name}` : name;
}
