import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { describeError, type SampleWriter } from '@loadlight/core';
import type { HostMetric } from './metrics.js';

/** Two cumulative counters of one device or interface (bytes read and written, received and sent). */
export interface CounterPair {
  name: string;
  first: number;
  second: number;
}

/** /proc/diskstats counts in 512-byte sectors whatever the device's own sector size. */
const SECTOR_BYTES = 512;

/** Up to this many fields of a /proc line are located (diskstats has 20, net/dev 16, the cpu line 11). */
const MAX_FIELDS = 24;
const fieldStart = new Int32Array(MAX_FIELDS);
const fieldEnd = new Int32Array(MAX_FIELDS);

function isBlank(code: number): boolean {
  return code === 32 || code === 9 || code === 13;
}

/**
 * Locates the blank-separated fields of `text[from, to)` in `fieldStart` / `fieldEnd` (the first
 * MAX_FIELDS); returns how many. The parsers read /proc at every tick: no split, no regex.
 */
function scanFields(text: string, from: number, to: number): number {
  let n = 0;
  let i = from;
  while (n < MAX_FIELDS) {
    while (i < to && isBlank(text.charCodeAt(i))) i++;
    if (i >= to) break;
    fieldStart[n] = i;
    while (i < to && !isBlank(text.charCodeAt(i))) i++;
    fieldEnd[n++] = i;
  }
  return n;
}

/** The unsigned decimal integer that is field `k`, NaN when it is not one (/proc counters are). */
function integerField(text: string, k: number): number {
  const end = fieldEnd[k]!;
  let value = 0;
  for (let i = fieldStart[k]!; i < end; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return value;
}

function lineEnd(text: string, start: number): number {
  const end = text.indexOf('\n', start);
  return end < 0 ? text.length : end;
}

/**
 * Parses /proc/diskstats: `major minor name reads merged sectors_read ms writes merged
 * sectors_written ...`. Gives bytes read (`first`) and written (`second`) per device, of the
 * devices `keep` accepts (all by default).
 */
export function parseDiskstats(text: string, keep?: (name: string) => boolean): CounterPair[] {
  const out: CounterPair[] = [];
  for (let start = 0, end = 0; start < text.length; start = end + 1) {
    end = lineEnd(text, start);
    if (scanFields(text, start, end) < 10) continue;
    const sectorsRead = integerField(text, 5);
    const sectorsWritten = integerField(text, 9);
    if (!Number.isFinite(sectorsRead) || !Number.isFinite(sectorsWritten)) continue;
    const name = text.slice(fieldStart[2], fieldEnd[2]);
    if (keep && !keep(name)) continue;
    out.push({ name, first: sectorsRead * SECTOR_BYTES, second: sectorsWritten * SECTOR_BYTES });
  }
  return out;
}

/**
 * Parses /proc/net/dev (two header lines, then `name: rx_bytes packets errs drop fifo frame
 * compressed multicast tx_bytes ...`). Gives bytes received (`first`) and sent (`second`) per
 * interface `keep` accepts (all by default).
 */
export function parseNetDev(text: string, keep?: (name: string) => boolean): CounterPair[] {
  const out: CounterPair[] = [];
  for (let start = 0, end = 0; start < text.length; start = end + 1) {
    end = lineEnd(text, start);
    const colon = text.indexOf(':', start);
    if (colon < 0 || colon > end) continue;
    if (scanFields(text, colon + 1, end) < 9) continue;
    const rx = integerField(text, 0);
    const tx = integerField(text, 8);
    if (!Number.isFinite(rx) || !Number.isFinite(tx)) continue;
    const name = text.slice(start, colon).trim();
    if (!name || (keep && !keep(name))) continue;
    out.push({ name, first: rx, second: tx });
  }
  return out;
}

/** Cumulative host CPU time (any unit) and the part of it spent idle with IO outstanding. */
export interface IowaitTimes {
  iowait: number;
  total: number;
}

/**
 * Parses the aggregate `cpu` line of /proc/stat:
 * `cpu  user nice system idle iowait irq softirq steal guest guest_nice`.
 */
export function parseIowait(text: string): IowaitTimes | null {
  if (!text.startsWith('cpu ')) return null;
  const n = scanFields(text, 4, lineEnd(text, 0));
  if (n < 5) return null;
  // guest and guest_nice are already counted in user and nice.
  let total = 0;
  for (let k = 0; k < n; k++) {
    const value = integerField(text, k);
    if (!Number.isFinite(value)) return null;
    if (k < 8) total += value; // user nice system idle iowait irq softirq steal
  }
  return { iowait: integerField(text, 4), total };
}

/** Iowait percent of the CPU time between two readings; null when the counters did not move. */
export function iowaitPercentBetween(previous: IowaitTimes, next: IowaitTimes): number | null {
  const total = next.total - previous.total;
  if (!(total > 0)) return null;
  return Math.min(100, Math.max(0, ((next.iowait - previous.iowait) / total) * 100));
}

/**
 * The whole physical disks in /sys/block: those with a `device` entry (loop, RAM, zram,
 * device-mapper and md devices have none; their IO reaches a physical disk anyway, so counting
 * only these counts every byte once). Null when /sys/block cannot be read.
 */
export function physicalDisks(sysBlockDir = '/sys/block'): Set<string> | null {
  try {
    return new Set(readdirSync(sysBlockDir).filter((name) => existsSync(`${sysBlockDir}/${name}/device`)));
  } catch {
    return null;
  }
}

const VIRTUAL_DISK = /^(loop|ram|zram|dm-|md|nbd|sr|fd)\d/;

/**
 * Without /sys/block: the whole disks among /proc/diskstats names, by name alone (no virtual
 * devices; no partitions, such as `sda1` of `sda` or `nvme0n1p2` of `nvme0n1`).
 */
export function wholeDisksByName(names: readonly string[]): Set<string> {
  const candidates = names.filter((name) => !VIRTUAL_DISK.test(name));
  return new Set(candidates.filter((name) => !candidates.some((disk) => disk !== name && name.startsWith(disk) && /^p?\d+$/.test(name.slice(disk.length)))));
}

const IFF_LOOPBACK = 0x8;

/** Whether a Linux network interface is a loopback one (its flags in /sys/class/net), else by name. */
export function isLoopbackInterface(name: string, sysClassNetDir = '/sys/class/net'): boolean {
  try {
    return (Number.parseInt(readFileSync(`${sysClassNetDir}/${name}/flags`, 'latin1').trim(), 16) & IFF_LOOPBACK) !== 0;
  } catch {
    return /^lo\d*$/.test(name);
  }
}

/**
 * How far named counters moved between two readings. A name seen for the first time is a
 * baseline, and a counter that went back (a device removed and added again, a wrap) is skipped
 * for that reading, so a change in the set of devices never shows as a burst.
 */
export class CounterDeltas {
  private last = new Map<string, CounterPair>();
  /** The map before `last`, cleared and reused for the next reading. */
  private spare = new Map<string, CounterPair>();
  private primed = false;

  /** The summed increases since the previous call; null on the first call. */
  step(readings: readonly CounterPair[]): { first: number; second: number } | null {
    const next = this.spare;
    next.clear();
    let first = 0;
    let second = 0;
    for (const reading of readings) {
      next.set(reading.name, reading);
      const before = this.last.get(reading.name);
      if (!before) continue;
      const dFirst = reading.first - before.first;
      const dSecond = reading.second - before.second;
      if (dFirst >= 0) first += dFirst;
      if (dSecond >= 0) second += dSecond;
    }
    this.spare = this.last;
    this.last = next;
    if (!this.primed) {
      this.primed = true;
      return null;
    }
    return { first, second };
  }

  reset(): void {
    this.last.clear();
    this.primed = false;
  }
}

/**
 * A /proc file kept open and re-read from offset 0 at each tick. /proc files are made by the
 * kernel from memory (no disk), so a synchronous read costs microseconds, where
 * systeminformation starts a shell (`cat /proc/diskstats`, `lsblk`) at every call.
 */
export class ProcFile {
  private fd: number;
  private buffer: Buffer;

  constructor(path: string, initialBytes = 4096) {
    this.fd = openSync(path, 'r');
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  /** The file from its start, up to `maxBytes` (the whole file by default). */
  read(maxBytes = Number.POSITIVE_INFINITY): string {
    let length = 0;
    for (;;) {
      if (length === this.buffer.length) {
        if (length >= maxBytes) break;
        const grown = Buffer.allocUnsafe(this.buffer.length * 2);
        this.buffer.copy(grown, 0, 0, length);
        this.buffer = grown;
      }
      const want = Math.min(this.buffer.length, maxBytes) - length;
      if (want <= 0) break;
      const n = readSync(this.fd, this.buffer, length, want, length);
      length += n;
      // /proc files are seq_files: a read fills the buffer unless the file ended, so a short
      // read is the end (and saves a second system call per tick).
      if (n < want) break;
    }
    return this.buffer.toString('latin1', 0, length);
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}

function tryOpen(path: string, bytes: number): { file: ProcFile } | { error: string } {
  try {
    return { file: new ProcFile(path, bytes) };
  } catch (error) {
    return { error: `${path} cannot be read: ${describeError(error)}` };
  }
}

/** What systeminformation gives here (loaded only outside Linux). */
interface SystemInformation {
  fsStats(): Promise<{ rx: number; wx: number } | null>;
  networkStats(interfaces?: string): Promise<Array<{ iface: string; rx_bytes: number; tx_bytes: number }>>;
}

const DISK_METRICS: HostMetric[] = ['io.disk.read_bytes_per_second', 'io.disk.write_bytes_per_second'];
const NET_METRICS: HostMetric[] = ['io.net.rx_bytes_per_second', 'io.net.tx_bytes_per_second'];

/**
 * Outside Linux, systeminformation starts a process per read (ioreg and netstat on macOS,
 * PowerShell on Windows): too costly at every tick, so the counters are re-read at most this
 * often, in the background, and the rate between the last two reads is repeated in between.
 */
export const SPAWNING_REFRESH_MS = 15_000;

export interface HostIoSamplerOptions {
  platform?: NodeJS.Platform;
  /** A monotonic clock in ms (tests pass their own). */
  now?: () => number;
  /** Least time between two systeminformation reads outside Linux. */
  refreshMs?: number;
  /** Where a failed background read is reported (the plugin records a fault). */
  onError?: (error: unknown) => void;
}

interface Rates {
  first: number | null;
  second: number | null;
}

const NO_RATES: Rates = Object.freeze({ first: null, second: null });

function ratesOf(delta: { first: number; second: number } | null, elapsedMs: number): Rates {
  if (!delta || !(elapsedMs > 0)) return NO_RATES;
  return { first: (delta.first / elapsedMs) * 1000, second: (delta.second / elapsedMs) * 1000 };
}

/**
 * The host's disk and network throughput and CPU iowait, as rates between two ticks. On Linux
 * from /proc (kept open, read synchronously: no process is started); elsewhere from
 * systeminformation, re-read in the background at most every `refreshMs`.
 */
export class HostIoSampler {
  private readonly platform: NodeJS.Platform;
  private readonly procfs: boolean;
  private readonly now: () => number;
  private readonly refreshMs: number;
  private readonly onError: (error: unknown) => void;

  private diskstats: ProcFile | null = null;
  private netDev: ProcFile | null = null;
  private procStat: ProcFile | null = null;
  private disks: Set<string> | null = null;
  private readonly loopback = new Map<string, boolean>();
  private readonly disk = new CounterDeltas();
  private readonly net = new CounterDeltas();
  private previousIowait: IowaitTimes | null = null;
  private lastCollectMs: number | null = null;

  private si: SystemInformation | null = null;
  private refreshing = false;
  /** Bumped by stop(): a background read that ends after it is dropped. */
  private generation = 0;
  private lastRefreshMs: number | null = null;
  private diskRates: Rates = NO_RATES;
  private netRates: Rates = NO_RATES;

  constructor(options: HostIoSamplerOptions = {}) {
    this.platform = options.platform ?? process.platform;
    this.procfs = this.platform === 'linux' || this.platform === 'android';
    this.now = options.now ?? (() => performance.now());
    this.refreshMs = options.refreshMs ?? SPAWNING_REFRESH_MS;
    this.onError = options.onError ?? (() => {});
  }

  /** Metrics this platform cannot give, with the reason. */
  unavailable(): Partial<Record<HostMetric, string>> {
    const out: Partial<Record<HostMetric, string>> = {};
    if (!this.procfs) {
      out['io.cpu.iowait_percent'] = `CPU iowait is a Linux counter (/proc/stat); ${this.platform} does not report it`;
      if (this.platform !== 'darwin') {
        const reason = `systeminformation fsStats() gives no disk counters on ${this.platform}`;
        for (const name of DISK_METRICS) out[name] = reason;
      }
    }
    return out;
  }

  /** Opens the sources; returns the metrics that turned out unmeasurable here, with the reason. */
  async start(): Promise<Partial<Record<HostMetric, string>>> {
    this.stop();
    const problems: Partial<Record<HostMetric, string>> = {};
    if (this.procfs) {
      const diskstats = tryOpen('/proc/diskstats', 8192);
      if ('file' in diskstats) this.diskstats = diskstats.file;
      else for (const name of DISK_METRICS) problems[name] = diskstats.error;
      this.disks = physicalDisks();
      const netDev = tryOpen('/proc/net/dev', 4096);
      if ('file' in netDev) this.netDev = netDev.file;
      else for (const name of NET_METRICS) problems[name] = netDev.error;
      const procStat = tryOpen('/proc/stat', 512);
      if ('file' in procStat) this.procStat = procStat.file;
      else problems['io.cpu.iowait_percent'] = procStat.error;
      return problems;
    }
    try {
      // Loaded on demand: it is large (~30 ms to load) and only needed here.
      const module = (await import('systeminformation')) as unknown as SystemInformation & { default?: SystemInformation };
      this.si = module.default ?? module;
    } catch (error) {
      const reason = `systeminformation could not be loaded: ${describeError(error)}`;
      for (const name of [...DISK_METRICS, ...NET_METRICS]) problems[name] = reason;
    }
    return problems;
  }

  collect(w: SampleWriter): void {
    if (this.procfs) this.collectProc(w);
    else this.collectSi(w);
  }

  stop(): void {
    this.generation++;
    for (const file of [this.diskstats, this.netDev, this.procStat]) file?.close();
    this.diskstats = this.netDev = this.procStat = null;
    this.disk.reset();
    this.net.reset();
    this.previousIowait = null;
    this.lastCollectMs = null;
    this.lastRefreshMs = null;
    this.diskRates = this.netRates = NO_RATES;
  }

  private collectProc(w: SampleWriter): void {
    const nowMs = this.now();
    // The first tick has no interval to measure over: it is the baseline.
    const elapsedMs = this.lastCollectMs === null ? 0 : nowMs - this.lastCollectMs;
    this.lastCollectMs = nowMs;
    if (this.diskstats) {
      const text = this.diskstats.read();
      const disks = this.disks;
      let counters: CounterPair[];
      if (disks) {
        counters = parseDiskstats(text, (name) => disks.has(name));
      } else {
        // No /sys/block: whole disks told by their names, from the one parse.
        const all = parseDiskstats(text);
        const whole = wholeDisksByName(all.map((d) => d.name));
        counters = all.filter((d) => whole.has(d.name));
      }
      const rates = ratesOf(this.disk.step(counters), elapsedMs);
      w.set('io.disk.read_bytes_per_second', rates.first);
      w.set('io.disk.write_bytes_per_second', rates.second);
    }
    if (this.netDev) {
      const interfaces = parseNetDev(this.netDev.read(), this.counted);
      const rates = ratesOf(this.net.step(interfaces), elapsedMs);
      w.set('io.net.rx_bytes_per_second', rates.first);
      w.set('io.net.tx_bytes_per_second', rates.second);
    }
    if (this.procStat) {
      const times = parseIowait(this.procStat.read(512));
      if (!times) throw new Error('/proc/stat has no aggregate "cpu" line');
      const previous = this.previousIowait;
      this.previousIowait = times;
      w.set('io.cpu.iowait_percent', previous ? iowaitPercentBetween(previous, times) : null);
    }
  }

  /** The interfaces whose traffic counts: every one but loopback. */
  private readonly counted = (name: string): boolean => !this.isLoopback(name);

  private isLoopback(name: string): boolean {
    let loopback = this.loopback.get(name);
    if (loopback === undefined) this.loopback.set(name, (loopback = isLoopbackInterface(name)));
    return loopback;
  }

  private collectSi(w: SampleWriter): void {
    const si = this.si;
    if (!si) return;
    const nowMs = this.now();
    if (!this.refreshing && (this.lastRefreshMs === null || nowMs - this.lastRefreshMs >= this.refreshMs)) {
      // Never awaited here: a spawned read can outlast the collect time-out.
      this.refreshing = true;
      this.refresh(si, nowMs)
        .catch(this.onError)
        .finally(() => {
          this.refreshing = false;
        });
    }
    if (this.platform === 'darwin') {
      w.set('io.disk.read_bytes_per_second', this.diskRates.first);
      w.set('io.disk.write_bytes_per_second', this.diskRates.second);
    }
    w.set('io.net.rx_bytes_per_second', this.netRates.first);
    w.set('io.net.tx_bytes_per_second', this.netRates.second);
  }

  private async refresh(si: SystemInformation, atMs: number): Promise<void> {
    const generation = this.generation;
    const elapsedMs = this.lastRefreshMs === null ? 0 : atMs - this.lastRefreshMs;
    this.lastRefreshMs = atMs;
    const [fs, interfaces] = await Promise.all([this.platform === 'darwin' ? si.fsStats() : null, si.networkStats('*')]);
    if (generation !== this.generation) return;
    if (fs && Number.isFinite(fs.rx) && Number.isFinite(fs.wx)) {
      this.diskRates = ratesOf(this.disk.step([{ name: 'all', first: fs.rx, second: fs.wx }]), elapsedMs);
    }
    const internal = internalInterfaces();
    const counted = (Array.isArray(interfaces) ? interfaces : [])
      .filter((i) => !internal.has(i.iface) && !/^lo\d*$/.test(i.iface) && Number.isFinite(i.rx_bytes) && Number.isFinite(i.tx_bytes))
      .map((i) => ({ name: i.iface, first: i.rx_bytes, second: i.tx_bytes }));
    this.netRates = ratesOf(this.net.step(counted), elapsedMs);
  }
}

/** Interfaces the OS marks internal (loopback), by name. */
function internalInterfaces(): Set<string> {
  const out = new Set<string>();
  for (const [name, addresses] of Object.entries(os.networkInterfaces())) {
    if (addresses?.some((address) => address.internal)) out.add(name);
  }
  return out;
}
