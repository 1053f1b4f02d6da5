import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

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
 * Writes `data` to `file` so that readers see the old content or the whole new content, never
 * a part: temp file, fsync, rename, fsync of the directory. Creates the directory when needed.
 */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = tempPathFor(file);
  let renamed = false;
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(data, 'utf8');
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
export function writeFileAtomicSync(file: string, data: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = tempPathFor(file);
  let renamed = false;
  try {
    const fd = openSync(temp, 'wx', 0o644);
    try {
      const bytes = Buffer.from(data, 'utf8');
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
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
