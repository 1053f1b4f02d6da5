// The bot's log: one line per frame, appended to a file.
import { open } from 'node:fs/promises';

export class BotLog {
  static async open(file) {
    return new BotLog(await open(file, 'a'), file);
  }

  constructor(handle, file) {
    this.handle = handle;
    this.file = file;
    this.lines = 0;
  }

  /** Appends one line; resolves when the write is done. */
  async write(line) {
    this.lines++;
    await this.handle.write(`${new Date().toISOString()} ${line}\n`);
  }

  async close() {
    await this.handle.close();
  }
}
