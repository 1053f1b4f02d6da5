import { closeSync, openSync, readSync } from 'node:fs';

/**
 * On-CPU time of one thread of this process, from Linux's /proc: `schedstat` (ns) where the
 * kernel keeps it, else `stat` (utime + stime in clock ticks of 10 ms). The file stays open and
 * is re-read in place (about 1 us, against 20 us or more to open it each tick).
 */
export class ThreadClock {
  private fd: number | null = null;
  private kind: 'schedstat' | 'stat' = 'schedstat';
  private readonly buffer = Buffer.alloc(512);

  /** `tid`: a thread of this process, or 'self' for the calling thread (resolved when opened). */
  constructor(private readonly tid: number | 'self') {}

  /** CPU time in ms, or null when the thread is gone or /proc cannot be read. */
  readMs(): number | null {
    if (this.fd === null && !this.open()) return null;
    let length: number;
    try {
      length = readSync(this.fd!, this.buffer, 0, this.buffer.length, 0);
    } catch {
      this.close();
      return null;
    }
    const text = this.buffer.toString('latin1', 0, length);
    if (this.kind === 'schedstat') {
      const ns = Number(text.slice(0, text.indexOf(' ')));
      return Number.isFinite(ns) ? ns / 1e6 : null;
    }
    // Fields after the command name, which may hold spaces and parentheses.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    // USER_HZ is 100 on every Linux architecture Node.js runs on.
    return Number.isFinite(ticks) ? ticks * 10 : null;
  }

  private open(): boolean {
    if (process.platform !== 'linux') return false;
    const dir = this.tid === 'self' ? '/proc/thread-self' : `/proc/self/task/${this.tid}`;
    for (const kind of ['schedstat', 'stat'] as const) {
      try {
        this.fd = openSync(`${dir}/${kind}`, 'r');
        this.kind = kind;
        return true;
      } catch {
        // no schedstat (a kernel without CONFIG_SCHED_INFO): try stat
      }
    }
    return false;
  }

  close(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = null;
  }
}

/** Whether per-thread CPU time can be read here. */
export const threadCpuAvailable: boolean = (() => {
  const probe = new ThreadClock('self');
  const ok = probe.readMs() !== null;
  probe.close();
  return ok;
})();

/**
 * A clock of this thread's CPU time: exact on Linux; elsewhere the whole process's (an upper
 * bound, used only to cap what the modules are charged). `close()` releases its file.
 */
export function ownThreadClock(): { readMs(): number; close(): void } {
  if (threadCpuAvailable) {
    const clock = new ThreadClock('self');
    return {
      readMs: () => clock.readMs() ?? processCpuMs(),
      close: () => clock.close(),
    };
  }
  return { readMs: processCpuMs, close: () => undefined };
}

function processCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}
