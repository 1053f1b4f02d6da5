import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_FILE_NAME_LENGTH, safeFileName } from './safe-file-name.js';

const SHAPE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const DIR = path.resolve('/var/loadlight/samples');

// Strings of any code point, lone surrogates and NUL included, plus path-like pieces.
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.array(fc.constantFrom('..', '.', '/', '\\', 'CON', 'nul', 'a', 'é', '\u0000', ':', ' ', '日本', '\uD800'), { maxLength: 40 }).map((parts) => parts.join('')),
);

function staysInside(name: string): boolean {
  const file = path.resolve(DIR, `${name}.json`);
  return path.dirname(file) === DIR && path.basename(file) === `${name}.json`;
}

describe('safeFileName', () => {
  it.each([
    ['2024-05-01T10-00-00-000Z-4242'],
    ['bot.run_7'],
    ['A'],
  ])('keeps the safe id %j as it is', (id) => {
    expect(safeFileName(id)).toBe(id);
  });

  it.each([
    ['../../etc/passwd', /^etc_passwd-833ba4aa$/],
    ['a/b', /^a_b-[0-9a-f]{8}$/],
    ['a\\b', /^a_b-[0-9a-f]{8}$/],
    ['CON', /^CON-[0-9a-f]{8}$/],
    ['con.txt', /^_con.txt-[0-9a-f]{8}$/],
    ['LPT1', /^LPT1-[0-9a-f]{8}$/],
    ['CON..CON', /^_CON.CON-[0-9a-f]{8}$/],
    ['', /^session-[0-9a-f]{8}$/],
    ['..', /^session-[0-9a-f]{8}$/],
    ['.hidden', /^hidden-[0-9a-f]{8}$/],
    ['-rf', /^rf-[0-9a-f]{8}$/],
    ['trailing.', /^trailing-[0-9a-f]{8}$/],
    ['café crème', /^cafe_creme-[0-9a-f]{8}$/],
    ['日本語', /^session-[0-9a-f]{8}$/],
    ['a\u0000b', /^a_b-[0-9a-f]{8}$/],
  ])('makes %j safe', (id, expected) => {
    expect(safeFileName(id)).toMatch(expected);
  });

  it('bounds the length and keeps long ids apart', () => {
    const a = safeFileName('x'.repeat(500));
    const b = safeFileName(`${'x'.repeat(499)}y`);
    expect(a.length).toBeLessThanOrEqual(MAX_FILE_NAME_LENGTH);
    expect(b.length).toBeLessThanOrEqual(MAX_FILE_NAME_LENGTH);
    expect(a).not.toBe(b);
  });

  it('gives distinct files to ids that clean up alike', () => {
    expect(safeFileName('a/b')).not.toBe(safeFileName('a:b'));
    expect(safeFileName('\uD800')).not.toBe(safeFileName('\uDC00'));
  });

  it('always returns one safe segment inside the directory', () => {
    fc.assert(
      fc.property(hostile, (id) => {
        const name = safeFileName(id);
        expect(name).toMatch(SHAPE);
        expect(name.length).toBeGreaterThan(0);
        expect(name.length).toBeLessThanOrEqual(MAX_FILE_NAME_LENGTH);
        expect(name).not.toContain('..');
        expect(name).not.toMatch(/[/\\]/);
        expect(staysInside(name)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(hostile, (id) => {
        const once = safeFileName(id);
        expect(safeFileName(once)).toBe(once);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps distinct ids distinct', () => {
    fc.assert(
      fc.property(fc.uniqueArray(hostile, { minLength: 2, maxLength: 50 }), (ids) => {
        expect(new Set(ids.map(safeFileName)).size).toBe(ids.length);
      }),
      { numRuns: 300 },
    );
  });
});
