import { closeSync, openSync, readSync } from 'node:fs';
import os from 'node:os';
import { describeError, type SampleWriter } from '@loadlight/core';
import { MB } from './metrics.js';

/** Cumulative CPU time of the whole host, in any one unit (jiffies or ms). */
export interface CpuTimes {
  busy: number;
  total: number;
}

/**
 * Parses the aggregate `cpu` line of /proc/stat:
 * `cpu  user nice system idle iowait irq softirq steal guest guest_nice`.
 */
export function parseProcStat(text: string): CpuTimes | null {
  if (!text.startsWith('cpu ')) return null;
  // Read at every tick: the fields are scanned in place, without split() or regular expressions.
  let end = text.indexOf('\n');
  if (end < 0) end = text.length;
  const fields = [0, 0, 0, 0, 0, 0, 0, 0]; // user nice system idle iowait irq softirq steal
  let count = 0;
  for (let i = 4; i < end; ) {
    while (i < end && isBlank(text.charCodeAt(i))) i++;
    if (i >= end) break;
    let value = 0;
    for (; i < end && !isBlank(text.charCodeAt(i)); i++) {
      const digit = text.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) return null;
      value = value * 10 + digit;
    }
    if (count < fields.length) fields[count] = value;
    count++;
  }
  if (count < 4) return null;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields as [number, number, number, number, number, number, number, number];
  // guest and guest_nice are already counted in user and nice; waiting for IO is idle time.
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

function isBlank(code: number): boolean {
  return code === 32 || code === 9 || code === 13;
}

/** The same from os.cpus(), for platforms without /proc/stat. */
export function osCpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const cpuBusy = times.user + times.nice + times.sys + times.irq;
    busy += cpuBusy;
    total += cpuBusy + times.idle;
  }
  return { busy, total };
}

/** Busy percent of the time between two readings; null when the counters did not move. */
export function cpuPercentBetween(previous: CpuTimes, next: CpuTimes): number | null {
  const total = next.total - previous.total;
  if (!(total > 0)) return null;
  return Math.min(100, Math.max(0, ((next.busy - previous.busy) / total) * 100));
}

/** Memory in bytes, as systeminformation's mem() reports it: `active` = total minus available. */
export interface MemoryBytes {
  total: number;
  active: number;
}

type MeminfoKey = 'MemTotal' | 'MemAvailable' | 'MemFree' | 'Buffers' | 'Cached' | 'Slab';

/** Each key's label, at the start of the text and after a newline. */
const MEMINFO_LABELS = Object.fromEntries(
  (['MemTotal', 'MemAvailable', 'MemFree', 'Buffers', 'Cached', 'Slab'] as const).map((key) => [key, [`${key}:`, `\n${key}:`]]),
) as Record<MeminfoKey, [string, string]>;

/**
 * The value of a `Key:   1234 kB` line of /proc/meminfo, in bytes (null when missing). Read at
 * every tick: found with indexOf, no regex.
 */
function meminfoBytes(text: string, key: MeminfoKey): number | null {
  const [label, afterNewline] = MEMINFO_LABELS[key];
  let at = text.startsWith(label) ? 0 : text.indexOf(afterNewline);
  if (at < 0) return null;
  if (at > 0) at++;
  let i = at + label.length;
  const start = i;
  while (i < text.length && isBlank(text.charCodeAt(i))) i++;
  if (i === start) return null;
  let value = 0;
  let digits = 0;
  for (; i < text.length; i++, digits++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  return digits > 0 ? value * 1024 : null;
}

/**
 * Parses /proc/meminfo the way systeminformation's mem() does: active = MemTotal - MemAvailable,
 * or, on kernels without MemAvailable (before 3.14), MemTotal - (MemFree + Buffers + Cached + Slab).
 */
export function parseMeminfo(text: string): MemoryBytes | null {
  const total = meminfoBytes(text, 'MemTotal');
  if (total === null) return null;
  let available = meminfoBytes(text, 'MemAvailable');
  if (available === null) {
    const free = meminfoBytes(text, 'MemFree');
    if (free === null) return null;
    available = free + (meminfoBytes(text, 'Buffers') ?? 0) + (meminfoBytes(text, 'Cached') ?? 0) + (meminfoBytes(text, 'Slab') ?? 0);
  }
  return { total, active: total - available };
}

/**
 * A /proc file kept open and re-read from offset 0 at each tick. /proc files are made by the
 * kernel from memory (no disk), so a synchronous read is safe here, and it costs about 7 us
 * against about 200-300 us for fs.promises.readFile or systeminformation's mem().
 */
class ProcFile {
  private fd: number;
  private readonly buffer: Buffer;

  constructor(path: string, bytes: number) {
    this.fd = openSync(path, 'r');
    this.buffer = Buffer.allocUnsafe(bytes);
  }

  /** The first `bytes` of the file (enough for the lines read from it). */
  read(): string {
    const length = readSync(this.fd, this.buffer, 0, this.buffer.length, 0);
    return this.buffer.toString('latin1', 0, length);
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}

interface MemoryReading {
  usedMb: number;
  usedPercent: number;
}

type MemFn = () => Promise<MemoryBytes>;

/**
 * Outside Linux and Windows, systeminformation's mem() starts child processes (vm_stat, sysctl):
 * too costly at every tick, so memory is re-read at most this often and repeated in between.
 */
const SPAWNING_MEMORY_REFRESH_MS = 15_000;

/**
 * Host CPU, memory and load average, measured between ticks. On Linux from /proc/stat and
 * /proc/meminfo (systeminformation's currentLoad() runs `cat /proc/stat` through execSync at
 * every call, and its mem() costs ~40x a direct read for the same number); on Windows from os;
 * elsewhere CPU from os.cpus() and memory from systeminformation.
 */
export class HostSampler {
  private readonly platform: NodeJS.Platform;
  private previousCpu: CpuTimes | null = null;
  private procStat: ProcFile | null = null;
  private procMeminfo: ProcFile | null = null;
  private mem: MemFn | null = null;
  private memoryError: string | null = null;
  private cachedMemory: { at: number; value: MemoryReading | null } | null = null;
  private reading = false;

  constructor(platform: NodeJS.Platform = process.platform) {
    this.platform = platform;
  }

  /** Metrics this platform cannot give, with the reason. */
  unavailable(): Record<string, string> {
    if (this.platform !== 'win32') return {};
    const reason = 'Windows has no load average (os.loadavg() always returns zeros)';
    return { 'system.load.avg1': reason, 'system.load.avg5': reason, 'system.load.avg15': reason };
  }

  async start(): Promise<void> {
    this.previousCpu = null;
    this.cachedMemory = null;
    this.memoryError = null;
    if (this.platform === 'linux') {
      // Without /proc/stat, os.cpus() gives the same counters less completely (no steal, no iowait).
      this.procStat = tryOpen('/proc/stat', 512);
      try {
        this.procMeminfo = new ProcFile('/proc/meminfo', 4096);
      } catch (error) {
        this.memoryError = `/proc/meminfo cannot be read: ${describeError(error)}`;
      }
      return;
    }
    if (this.platform === 'win32' || this.mem) return;
    try {
      // Loaded on demand: it is large (~30 ms to load) and only needed here.
      const si = await import('systeminformation');
      const mem = (si as { default?: { mem?: MemFn } }).default?.mem ?? si.mem;
      this.mem = mem as MemFn;
    } catch (error) {
      this.memoryError = `systeminformation could not be loaded: ${describeError(error)}`;
    }
  }

  async collect(w: SampleWriter): Promise<void> {
    // A read that outlived the collect time-out is still running: skip rather than pile up.
    if (this.reading) return;
    this.reading = true;
    try {
      w.set('system.cpu.percent', this.readCpuPercent());
      const memory = await this.readMemory();
      w.set('system.memory.used_mb', memory?.usedMb ?? null);
      w.set('system.memory.used_percent', memory?.usedPercent ?? null);
      if (this.platform !== 'win32') {
        const [avg1, avg5, avg15] = os.loadavg();
        w.set('system.load.avg1', avg1 ?? null);
        w.set('system.load.avg5', avg5 ?? null);
        w.set('system.load.avg15', avg15 ?? null);
      }
    } finally {
      this.reading = false;
    }
  }

  stop(): void {
    this.procStat?.close();
    this.procStat = null;
    this.procMeminfo?.close();
    this.procMeminfo = null;
    this.previousCpu = null;
    this.cachedMemory = null;
  }

  /** Why memory cannot be measured here, or null. */
  get memoryProblem(): string | null {
    return this.memoryError;
  }

  private readCpuPercent(): number | null {
    let times: CpuTimes | null;
    if (this.procStat) {
      times = parseProcStat(this.procStat.read());
      if (!times) throw new Error('/proc/stat has no aggregate "cpu" line');
    } else {
      times = osCpuTimes();
    }
    const previous = this.previousCpu;
    this.previousCpu = times;
    // The first tick has no interval to measure over.
    return previous ? cpuPercentBetween(previous, times) : null;
  }

  private async readMemory(): Promise<MemoryReading | null> {
    if (this.platform === 'linux') {
      if (!this.procMeminfo) return null;
      const bytes = parseMeminfo(this.procMeminfo.read());
      if (!bytes) throw new Error('/proc/meminfo has no MemTotal or MemAvailable line');
      return toReading(bytes.active, bytes.total);
    }
    if (this.platform === 'win32') {
      // Windows' free memory counts the standby cache as available, so this is "in use".
      const total = os.totalmem();
      return toReading(total - os.freemem(), total);
    }
    if (!this.mem) return null;
    const cached = this.cachedMemory;
    const now = Date.now();
    if (cached && now - cached.at < SPAWNING_MEMORY_REFRESH_MS) return cached.value;
    const data = await this.mem();
    const value = toReading(data.active, data.total);
    this.cachedMemory = { at: now, value };
    return value;
  }
}

function tryOpen(path: string, bytes: number): ProcFile | null {
  try {
    return new ProcFile(path, bytes);
  } catch {
    return null;
  }
}

function toReading(usedBytes: number, totalBytes: number): MemoryReading | null {
  if (!(totalBytes > 0) || !(usedBytes >= 0)) return null;
  return { usedMb: usedBytes / MB, usedPercent: (usedBytes / totalBytes) * 100 };
}
