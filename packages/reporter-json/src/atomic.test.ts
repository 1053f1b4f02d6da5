import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileAtomicSync } from './atomic.js';

const tempDir = () => mkdtempSync(path.join(os.tmpdir(), 'loadlight-atomic-'));

describe('writeFileAtomic', () => {
  it('writes, creates the directory, overwrites and leaves no temp file', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'deep', 'er', 'a.json');
    await writeFileAtomic(file, '{"v":1}');
    await writeFileAtomic(file, '{"v":2}');
    expect(readFileSync(file, 'utf8')).toBe('{"v":2}');
    expect(readdirSync(path.dirname(file))).toEqual(['a.json']);
  });

  it('never shows a reader a partial file', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'big.json');
    const payload = (i: number) => JSON.stringify({ i, data: 'x'.repeat(2_000_000 + i) });
    await writeFileAtomic(file, payload(0));
    let writing = true;
    let reads = 0;
    const reader = (async () => {
      while (writing) {
        const parsed = JSON.parse(await readFile(file, 'utf8')) as { i: number; data: string };
        expect(parsed.data.length).toBe(2_000_000 + parsed.i);
        reads++;
      }
    })();
    for (let i = 1; i <= 15; i++) await writeFileAtomic(file, payload(i));
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(readdirSync(dir)).toEqual(['big.json']);
  });

  it('keeps one complete version when writes race', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'race.json');
    const versions = Array.from({ length: 8 }, (_, i) => JSON.stringify({ i, pad: String(i).repeat(100_000) }));
    await Promise.all(versions.map((v) => writeFileAtomic(file, v)));
    expect(versions).toContain(readFileSync(file, 'utf8'));
    expect(readdirSync(dir)).toEqual(['race.json']);
  });

  it('fails cleanly, removing its temp file, when the target cannot be replaced', async () => {
    const dir = tempDir();
    const target = path.join(dir, 'taken');
    // A non-empty directory where the file should go: rename fails after the temp file exists.
    writeFileSync(path.join(tempDirAt(target), 'x'), 'x');
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
  });

  it('writes bytes, and chunks in order as an iterable yields them', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'chunks.json');
    await writeFileAtomic(file, Buffer.from('{"bytes":true}'));
    expect(readFileSync(file, 'utf8')).toBe('{"bytes":true}');
    let produced = 0;
    function* chunks() {
      for (let i = 0; i < 50; i++) {
        produced++;
        yield Buffer.from(`${i},`.repeat(10_000));
      }
    }
    await writeFileAtomic(file, chunks());
    expect(produced).toBe(50);
    expect(readFileSync(file, 'utf8')).toBe(Array.from({ length: 50 }, (_, i) => `${i},`.repeat(10_000)).join(''));
    expect(readdirSync(dir)).toEqual(['chunks.json']);
  });

  it('keeps the old file, and no temp file, when producing a chunk fails', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'kept.json');
    await writeFileAtomic(file, 'old');
    function* failing() {
      yield Buffer.from('new part');
      throw new TypeError('cannot serialize');
    }
    await expect(writeFileAtomic(file, failing())).rejects.toThrow('cannot serialize');
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['kept.json']);
  });

  it('fails when the directory is a file', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'plain'), 'x');
    await expect(writeFileAtomic(path.join(dir, 'plain', 'a.json'), 'data')).rejects.toThrow();
  });
});

describe('writeFileAtomicSync', () => {
  it('writes and overwrites with no temp file left', () => {
    const dir = tempDir();
    const file = path.join(dir, 'sub', 's.json');
    writeFileAtomicSync(file, 'one');
    writeFileAtomicSync(file, 'two – ünïcode');
    expect(readFileSync(file, 'utf8')).toBe('two – ünïcode');
    expect(readdirSync(path.dirname(file))).toEqual(['s.json']);
  });

  it('writes chunks, and keeps the old file when producing one fails', () => {
    const dir = tempDir();
    const file = path.join(dir, 'c.json');
    writeFileAtomicSync(file, [Buffer.from('a'), new Uint8Array([98]), Buffer.from('c')]);
    expect(readFileSync(file, 'utf8')).toBe('abc');
    function* failing() {
      yield Buffer.from('x');
      throw new TypeError('cannot serialize');
    }
    expect(() => writeFileAtomicSync(file, failing())).toThrow('cannot serialize');
    expect(readFileSync(file, 'utf8')).toBe('abc');
    expect(readdirSync(dir)).toEqual(['c.json']);
  });

  it('removes its temp file when the rename fails', () => {
    const dir = tempDir();
    const target = path.join(dir, 'taken');
    writeFileSync(path.join(tempDirAt(target), 'x'), 'x');
    expect(() => writeFileAtomicSync(target, 'data')).toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
  });
});

function tempDirAt(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
