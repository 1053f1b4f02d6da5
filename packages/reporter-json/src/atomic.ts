import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, write, writeSync } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';

/**
 * A temp file beside the target: same directory so that the rename stays on one file system
 * (and is atomic), a leading dot and a `.tmp` end so that globs for `*.json` never see it.
 */
function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Makes the rename itself durable; best effort, as not every platform can open a directory (Windows). */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The file is complete either way; only its name may not survive a power cut.
  }
}

function syncDirectorySync(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // As above.
  }
}

/**
 * What a file gets: a string (written as UTF-8), bytes, or chunks of bytes in order (any
 * iterable, such as `sessionJsonChunks()`: produced while the previous chunk is being written).
 */
export type FileData = string | Uint8Array | Iterable<Uint8Array>;

/** Writes all of `chunk` at the file's position (on libuv's thread pool), again after a short write. */
export async function writeAll(fd: number, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    offset += await new Promise<number>((resolve, reject) =>
      write(fd, chunk, offset, chunk.byteLength - offset, null, (error, written) => (error ? reject(error) : resolve(written))),
    );
  }
}

/** Writes chunk i (on libuv's thread pool) while chunk i + 1 is produced. */
async function writeChunks(handle: FileHandle, chunks: Iterable<Uint8Array>): Promise<void> {
  let pending: Promise<void> | null = null;
  try {
    for (const chunk of chunks) {
      if (pending) await pending;
      pending = writeAll(handle.fd, chunk);
    }
  } catch (error) {
    // Producing a chunk failed: let the write under way settle before giving up.
    await pending?.catch(() => undefined);
    throw error;
  }
  if (pending) await pending;
}

/** `writeAll`, synchronously. */
export function writeAllSync(fd: number, chunk: Uint8Array): void {
  let offset = 0;
  while (offset < chunk.byteLength) offset += writeSync(fd, chunk, offset, chunk.byteLength - offset);
}

/**
 * Writes `data` to `file` so that readers see the old content or the whole new content, never
 * a part: temp file, fsync, rename, fsync of the directory. Creates the directory when needed.
 */
export async function writeFileAtomic(file: string, data: FileData): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = tempPathFor(file);
  let renamed = false;
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) await handle.writeFile(data);
      else await writeChunks(handle, data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    renamed = true;
  } finally {
    if (!renamed) await rm(temp, { force: true });
  }
  await syncDirectory(dirname(file));
}

/** `writeFileAtomic` for places where nothing asynchronous runs any more (`process.on('exit')`). */
export function writeFileAtomicSync(file: string, data: FileData): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = tempPathFor(file);
  let renamed = false;
  try {
    const fd = openSync(temp, 'wx', 0o644);
    try {
      if (typeof data === 'string') writeAllSync(fd, Buffer.from(data, 'utf8'));
      else if (data instanceof Uint8Array) writeAllSync(fd, data);
      else for (const chunk of data) writeAllSync(fd, chunk);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
    renamed = true;
  } finally {
    if (!renamed) rmSync(temp, { force: true });
  }
  syncDirectorySync(dirname(file));
}

/** A path for messages: relative to the working directory when it lies inside it. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}
