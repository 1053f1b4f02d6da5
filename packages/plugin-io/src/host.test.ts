import { spawnSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecordingWriter, sleep, until } from '@loadlight/core/testing';
import si from 'systeminformation';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  CounterDeltas,
  HostIoSampler,
  iowaitPercentBetween,
  isLoopbackInterface,
  parseDiskstats,
  parseIowait,
  parseNetDev,
  physicalDisks,
  ProcFile,
  wholeDisksByName,
} from './host.js';
import { manualClock } from './test-utils.js';

const MB = 1024 * 1024;
const linux = process.platform === 'linux';

// On the repository's own file system (gitignored), not os.tmpdir(): /tmp may be a RAM disk.
const repoRoot = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const scratchRoot = path.join(repoRoot, 'test', '.tmp');
mkdirSync(scratchRoot, { recursive: true });
const scratch = mkdtempSync(path.join(scratchRoot, 'plugin-io-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const samplers: HostIoSampler[] = [];
afterEach(() => {
  for (const sampler of samplers.splice(0)) sampler.stop();
});

async function startSampler(options: ConstructorParameters<typeof HostIoSampler>[0] = {}) {
  const sampler = new HostIoSampler(options);
  samplers.push(sampler);
  const problems = await sampler.start();
  const collect = () => {
    const w = new RecordingWriter();
    sampler.collect(w);
    return Object.fromEntries(w.values);
  };
  return { sampler, problems, collect };
}

/** Writes `bytes` to a new file and forces them to the disk. */
function writeAndSync(file: string, bytes: number): void {
  const chunk = Buffer.alloc(MB, 7);
  const fd = openSync(file, 'w');
  try {
    for (let written = 0; written < bytes; written += chunk.length) writeSync(fd, chunk);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

describe('/proc parsers', () => {
  it('reads bytes read and written per device from /proc/diskstats (512-byte sectors)', () => {
    const text = [
      '   7       0 loop0 10 0 80 0 0 0 0 0 0 0 0 0 0 0 0 0 0',
      ' 254       0 vda 15870 5667 1310922 11973 5431 15221 1729360 3655 0 2712 16146 4316 28 476680 487 432 29',
      ' 254       1 vda1 100 0 2000 0 50 0 4000 0 0 0 0',
      'short line',
    ].join('\n');
    expect(parseDiskstats(text)).toEqual([
      { name: 'loop0', first: 80 * 512, second: 0 },
      { name: 'vda', first: 1310922 * 512, second: 1729360 * 512 },
      { name: 'vda1', first: 2000 * 512, second: 4000 * 512 },
    ]);
  });

  it('reads bytes received and sent per interface from /proc/net/dev', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0',
      '  eth0: 196287458    5896    0    0    0     0          0         0   475913    3722    0    0    0     0       0          0',
    ].join('\n');
    expect(parseNetDev(text)).toEqual([
      { name: 'lo', first: 3193, second: 3193 },
      { name: 'eth0', first: 196287458, second: 475913 },
    ]);
  });

  it('reads iowait and the total from the aggregate cpu line of /proc/stat', () => {
    const text = 'cpu  100 5 50 800 20 3 2 10 7 0\ncpu0 50 2 25 400 10 1 1 5 3 0\n';
    // total = user + nice + system + idle + iowait + irq + softirq + steal (guest is inside user)
    expect(parseIowait(text)).toEqual({ iowait: 20, total: 990 });
    expect(parseIowait('cpu0 1 2 3 4 5\n')).toBeNull();
    expect(parseIowait('cpu  1 x 3 4 5\n')).toBeNull();
    expect(iowaitPercentBetween({ iowait: 20, total: 990 }, { iowait: 45, total: 1090 })).toBe(25);
    expect(iowaitPercentBetween({ iowait: 20, total: 990 }, { iowait: 20, total: 990 })).toBeNull();
  });

  it('finds whole disks by name when /sys/block cannot be read', () => {
    const names = ['loop0', 'ram0', 'zram0', 'dm-0', 'md0', 'sr0', 'sda', 'sda1', 'sda2', 'nvme0n1', 'nvme0n1p1', 'mmcblk0', 'mmcblk0p1', 'vda'];
    expect([...wholeDisksByName(names)].sort()).toEqual(['mmcblk0', 'nvme0n1', 'sda', 'vda']);
  });

  it('takes the physical disks from /sys/block: those with a device entry', () => {
    const sys = mkdtempSync(path.join(scratch, 'sys-block-'));
    for (const name of ['sda', 'nvme0n1', 'loop0', 'dm-0']) mkdirSync(path.join(sys, name));
    for (const name of ['sda', 'nvme0n1']) mkdirSync(path.join(sys, name, 'device'));
    expect([...physicalDisks(sys)!].sort()).toEqual(['nvme0n1', 'sda']);
    expect(physicalDisks(path.join(sys, 'missing'))).toBeNull();
  });

  it('knows a loopback interface by its flags, else by its name', () => {
    const sys = mkdtempSync(path.join(scratch, 'sys-net-'));
    for (const [name, flags] of [
      ['lo', '0x9'],
      ['eth0', '0x1003'],
      ['weird', '0x49'],
    ] as const) {
      mkdirSync(path.join(sys, name));
      writeFileSync(path.join(sys, name, 'flags'), `${flags}\n`);
    }
    expect(isLoopbackInterface('lo', sys)).toBe(true);
    expect(isLoopbackInterface('eth0', sys)).toBe(false);
    expect(isLoopbackInterface('weird', sys)).toBe(true);
    expect(isLoopbackInterface('lo0', sys)).toBe(true); // no flags file: by name
    expect(isLoopbackInterface('en0', sys)).toBe(false);
  });
});

describe('CounterDeltas', () => {
  it('sums increases over names seen twice; new names are a baseline, a counter that went back is skipped', () => {
    const deltas = new CounterDeltas();
    expect(deltas.step([{ name: 'a', first: 100, second: 10 }])).toBeNull();
    expect(deltas.step([{ name: 'a', first: 150, second: 30 }, { name: 'b', first: 1e9, second: 1e9 }])).toEqual({ first: 50, second: 20 });
    // b reset (re-added device): skipped; a moved on
    expect(deltas.step([{ name: 'a', first: 160, second: 30 }, { name: 'b', first: 5, second: 1e9 + 7 }])).toEqual({ first: 10, second: 7 });
    // a gone: nothing from it
    expect(deltas.step([{ name: 'b', first: 9, second: 1e9 + 7 }])).toEqual({ first: 4, second: 0 });
    deltas.reset();
    expect(deltas.step([{ name: 'b', first: 100, second: 100 }])).toBeNull();
  });
});

describe.runIf(linux)('ProcFile', () => {
  it('reads a whole /proc file larger than its buffer, again and again, or only its head', () => {
    // /proc/self/mountinfo: a seq_file of several KB, stable while the test runs
    const file = new ProcFile('/proc/self/mountinfo', 64);
    try {
      const expected = readFileSync('/proc/self/mountinfo', 'latin1');
      expect(expected.length).toBeGreaterThan(64);
      expect(file.read()).toBe(expected);
      expect(file.read()).toBe(expected);
      expect(file.read(100)).toBe(expected.slice(0, 100));
    } finally {
      file.close();
    }
  });
});

describe.runIf(linux)('HostIoSampler on Linux (/proc)', () => {
  it('needs nothing it cannot have, and gives null on the first tick (no interval yet)', async () => {
    const { sampler, problems, collect } = await startSampler();
    expect(sampler.unavailable()).toEqual({});
    expect(problems).toEqual({});
    expect(collect()).toEqual({
      'io.disk.read_bytes_per_second': null,
      'io.disk.write_bytes_per_second': null,
      'io.net.rx_bytes_per_second': null,
      'io.net.tx_bytes_per_second': null,
      'io.cpu.iowait_percent': null,
    });
  });

  it('sees bytes written and forced to disk (write + fsync)', async () => {
    const clock = manualClock();
    const { collect } = await startSampler({ now: clock.now });
    collect();
    writeAndSync(path.join(scratch, 'written.bin'), 8 * MB);
    clock.advance(1000); // one second on the sampler's clock: the rate is the bytes moved
    const values = collect();
    // other processes may write too: at least what this test wrote (the journal adds more)
    expect(values['io.disk.write_bytes_per_second']).toBeGreaterThanOrEqual(8 * MB);
    expect(values['io.disk.read_bytes_per_second']).toBeGreaterThanOrEqual(0);
  });

  it('sees bytes read from the disk itself (O_DIRECT, past the page cache) when the file system allows it', async () => {
    const file = path.join(scratch, 'read.bin');
    writeAndSync(file, 8 * MB);
    const clock = manualClock();
    const { collect } = await startSampler({ now: clock.now });
    collect();
    // A plain read would come from the page cache and never reach the disk: dd with
    // iflag=direct reads the device. Where O_DIRECT is refused (tmpfs, some overlays), skip.
    const dd = spawnSync('dd', [`if=${file}`, 'of=/dev/null', 'bs=1M', 'iflag=direct'], { encoding: 'utf8' });
    clock.advance(1000);
    const values = collect();
    if (dd.status !== 0) {
      console.warn(`O_DIRECT read not possible here, read bytes not checked: ${dd.stderr.trim()}`);
      return;
    }
    expect(values['io.disk.read_bytes_per_second']).toBeGreaterThanOrEqual(8 * MB);
  });

  it('does not count loopback traffic', async () => {
    const loBytes = () => parseNetDev(readFileSync('/proc/net/dev', 'latin1')).find((i) => i.name === 'lo');
    const clock = manualClock();
    const { collect } = await startSampler({ now: clock.now });
    const before = loBytes();
    collect();
    const sentBytes = await sendOverLoopback(128 * MB);
    clock.advance(1000);
    const values = collect();
    const after = loBytes();
    // the traffic did go through lo, so counting lo would have shown it
    expect(after!.first - before!.first).toBeGreaterThanOrEqual(sentBytes);
    expect(after!.second - before!.second).toBeGreaterThanOrEqual(sentBytes);
    // what other interfaces moved meanwhile (background traffic) is far less
    expect(values['io.net.rx_bytes_per_second']).toBeLessThan(sentBytes / 4);
    expect(values['io.net.tx_bytes_per_second']).toBeLessThan(sentBytes / 4);
  });

  it('gives a plausible CPU iowait share', async () => {
    const { collect } = await startSampler();
    collect();
    await sleep(100); // /proc/stat counts in 10 ms ticks
    writeAndSync(path.join(scratch, 'iowait.bin'), 2 * MB);
    await sleep(100);
    const iowait = collect()['io.cpu.iowait_percent'];
    expect(iowait).toBeGreaterThanOrEqual(0);
    expect(iowait).toBeLessThanOrEqual(100);
  });

  it('counts at least what systeminformation counts for the mounted disks and the non-loopback interfaces', async () => {
    const fs = await si.fsStats();
    const interfaces = await si.networkStats('*');
    const disks = physicalDisks() ?? new Set<string>();
    const ourDisks = parseDiskstats(readFileSync('/proc/diskstats', 'latin1')).filter((d) => disks.has(d.name));
    const ourNet = parseNetDev(readFileSync('/proc/net/dev', 'latin1')).filter((i) => !isLoopbackInterface(i.name));
    const sum = (list: Array<{ first: number; second: number }>, key: 'first' | 'second') => list.reduce((total, x) => total + x[key], 0);
    // read a moment later: ours may only be larger. Physical disks hold the mounted file systems
    // (plus swap and unmounted partitions), so they count at least as much.
    expect(sum(ourDisks, 'first')).toBeGreaterThanOrEqual(fs.rx);
    expect(sum(ourDisks, 'second')).toBeGreaterThanOrEqual(fs.wx);
    const theirs = interfaces.filter((i) => i.iface !== 'lo');
    const theirRx = theirs.reduce((total, i) => total + i.rx_bytes, 0);
    const theirTx = theirs.reduce((total, i) => total + i.tx_bytes, 0);
    expect(sum(ourNet, 'first')).toBeGreaterThanOrEqual(theirRx);
    expect(sum(ourNet, 'first') - theirRx).toBeLessThan(64 * MB);
    expect(sum(ourNet, 'second')).toBeGreaterThanOrEqual(theirTx);
    expect(sum(ourNet, 'second') - theirTx).toBeLessThan(64 * MB);
  });
});

// The other platforms' code paths, run on this machine: systeminformation works everywhere.
describe('HostIoSampler elsewhere (systeminformation, re-read in the background)', () => {
  /** Collects every 50 ms until the rates are measured (two background reads apart). */
  async function untilMeasured(collect: () => Record<string, number | null>, name: string) {
    let values: Record<string, number | null> = {};
    await until(() => {
      values = collect();
      return typeof values[name] === 'number';
    }, `${name} from systeminformation`);
    return values;
  }

  it.runIf(linux)('macOS path: disk and network from systeminformation, no iowait', async () => {
    const { sampler, problems, collect } = await startSampler({ platform: 'darwin', refreshMs: 0 });
    expect(problems).toEqual({});
    expect(sampler.unavailable()).toEqual({ 'io.cpu.iowait_percent': 'CPU iowait is a Linux counter (/proc/stat); darwin does not report it' });
    const values = await untilMeasured(collect, 'io.net.rx_bytes_per_second');
    for (const name of ['io.net.rx_bytes_per_second', 'io.net.tx_bytes_per_second']) expect(values[name]).toBeGreaterThanOrEqual(0);
    const disk = await untilMeasured(collect, 'io.disk.write_bytes_per_second');
    expect(disk['io.disk.read_bytes_per_second']).toBeGreaterThanOrEqual(0);
    expect(disk['io.disk.write_bytes_per_second']).toBeGreaterThanOrEqual(0);
    expect(values).not.toHaveProperty('io.cpu.iowait_percent');
  });

  it.runIf(linux)('Windows path: network only; disk and iowait unavailable, with the reason', async () => {
    const { sampler, collect } = await startSampler({ platform: 'win32', refreshMs: 0 });
    expect(sampler.unavailable()).toEqual({
      'io.cpu.iowait_percent': 'CPU iowait is a Linux counter (/proc/stat); win32 does not report it',
      'io.disk.read_bytes_per_second': 'systeminformation fsStats() gives no disk counters on win32',
      'io.disk.write_bytes_per_second': 'systeminformation fsStats() gives no disk counters on win32',
    });
    const values = await untilMeasured(collect, 'io.net.tx_bytes_per_second');
    expect(Object.keys(values).sort()).toEqual(['io.net.rx_bytes_per_second', 'io.net.tx_bytes_per_second']);
  });

  it('re-reads at most every refreshMs, and repeats the last rate in between', async () => {
    const clock = manualClock(0);
    const { collect } = await startSampler({ platform: 'win32', now: clock.now, refreshMs: 10_000 });
    collect(); // first background read at 0
    await sleep(300);
    clock.set(10_000);
    const measured = await untilMeasured(collect, 'io.net.rx_bytes_per_second'); // second read at 10 s
    clock.set(15_000); // not due: the same rate, no new read
    expect(collect()).toEqual(measured);
  });
});

/** Sends `bytes` from a client to a server over 127.0.0.1; resolves with what the server received. */
async function sendOverLoopback(bytes: number): Promise<number> {
  let received = 0;
  const server = createServer((socket) => {
    socket.on('data', (data) => (received += data.length));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
  const chunk = Buffer.alloc(MB, 1);
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!client.write(chunk)) await new Promise((resolve) => client.once('drain', resolve));
  }
  await new Promise<void>((resolve) => client.end(resolve));
  await until(() => received >= bytes, 'the loopback data to arrive');
  await new Promise((resolve) => server.close(resolve));
  return received;
}
