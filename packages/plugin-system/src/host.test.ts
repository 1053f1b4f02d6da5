import os from 'node:os';
import { readFileSync } from 'node:fs';
import si from 'systeminformation';
import { burnCpu, RecordingWriter, sleep } from '@loadlight/core/testing';
import { describe, expect, it } from 'vitest';
import { cpuPercentBetween, HostSampler, osCpuTimes, parseMeminfo, parseProcStat } from './host.js';

const MB = 1024 * 1024;

describe('/proc parsers', () => {
  it('reads the aggregate cpu line of /proc/stat', () => {
    const text = 'cpu  100 5 50 800 20 3 2 10 7 0\ncpu0 50 2 25 400 10 1 1 5 3 0\nintr 1 2 3\n';
    // busy = user + nice + system + irq + softirq + steal; idle + iowait are not busy; guest is inside user.
    expect(parseProcStat(text)).toEqual({ busy: 170, total: 990 });
    expect(parseProcStat('cpu  1 2 3 4\n')).toEqual({ busy: 6, total: 10 });
    expect(parseProcStat('cpu0 1 2 3 4\n')).toBeNull();
    expect(parseProcStat('cpu  1 x 3 4\n')).toBeNull();
  });

  it('computes busy percent between readings', () => {
    expect(cpuPercentBetween({ busy: 100, total: 1000 }, { busy: 150, total: 1100 })).toBe(50);
    expect(cpuPercentBetween({ busy: 100, total: 1000 }, { busy: 100, total: 1000 })).toBeNull();
  });

  it('reads /proc/meminfo as systeminformation does (total minus available)', () => {
    const text = 'MemTotal:       16000 kB\nMemFree:         2000 kB\nMemAvailable:    6000 kB\nBuffers:          500 kB\nCached:          3000 kB\n';
    expect(parseMeminfo(text)).toEqual({ total: 16000 * 1024, active: 10000 * 1024 });
    // Kernels before 3.14 have no MemAvailable: free + buffers + cached + slab.
    const old = 'MemTotal: 16000 kB\nMemFree: 2000 kB\nBuffers: 500 kB\nCached: 3000 kB\nSwapCached: 9 kB\nSlab: 500 kB\n';
    expect(parseMeminfo(old)).toEqual({ total: 16000 * 1024, active: 10000 * 1024 });
    expect(parseMeminfo('nothing here')).toBeNull();
  });

  it.runIf(process.platform === 'linux')('gives the same memory as systeminformation mem().active', async () => {
    const ours = parseMeminfo(readFileSync('/proc/meminfo', 'latin1'))!;
    const theirs = await si.mem();
    expect(ours.total).toBe(theirs.total);
    // Read a moment apart on a busy machine: allow 64 MB of drift.
    expect(Math.abs(ours.active - theirs.active) / MB).toBeLessThan(64);
  });

  it.runIf(process.platform === 'linux')('agrees with os.cpus() on where the host CPU time went', () => {
    const fromProc = parseProcStat(readFileSync('/proc/stat', 'latin1'))!;
    const fromOs = osCpuTimes();
    // /proc/stat counts in clock ticks (10 ms), os.cpus() in ms; os leaves out iowait, softirq and steal.
    expect(fromOs.total / (fromProc.total * 10)).toBeGreaterThan(0.8);
    expect(fromOs.total / (fromProc.total * 10)).toBeLessThanOrEqual(1.01);
  });
});

describe('HostSampler', () => {
  async function run(platform: NodeJS.Platform, ticks = 3) {
    const sampler = new HostSampler(platform);
    await sampler.start();
    const readings: Array<Record<string, number | null>> = [];
    for (let i = 0; i < ticks; i++) {
      const w = new RecordingWriter();
      await sampler.collect(w);
      readings.push(Object.fromEntries(w.values));
      burnCpu(30);
      await sleep(50);
    }
    sampler.stop();
    return { sampler, readings };
  }

  function expectPlausible(values: Record<string, number | null>) {
    expect(values['system.cpu.percent']).toBeGreaterThanOrEqual(0);
    expect(values['system.cpu.percent']).toBeLessThanOrEqual(100);
    expect(values['system.memory.used_mb']).toBeGreaterThan(0);
    expect(values['system.memory.used_mb']).toBeLessThanOrEqual(os.totalmem() / MB);
    expect(values['system.memory.used_percent']).toBeGreaterThan(0);
    expect(values['system.memory.used_percent']).toBeLessThanOrEqual(100);
  }

  it('measures this host', async () => {
    const { readings, sampler } = await run(process.platform);
    expect(readings[0]!['system.cpu.percent']).toBeNull();
    expectPlausible(readings[2]!);
    expect(sampler.memoryProblem).toBeNull();
  });

  // The other platforms' code paths, run on this machine: the sources they use exist everywhere.
  it('measures through os.cpus() and systeminformation where there is no /proc (darwin path)', async () => {
    const { readings } = await run('darwin');
    expectPlausible(readings[2]!);
    expect(readings[2]!['system.load.avg1']).toBeGreaterThanOrEqual(0);
  });

  it('marks the load average unavailable on Windows and reads memory from os', async () => {
    const { readings, sampler } = await run('win32');
    expect(Object.keys(sampler.unavailable()).sort()).toEqual(['system.load.avg1', 'system.load.avg15', 'system.load.avg5']);
    expect(readings[2]!).not.toHaveProperty('system.load.avg1');
    expectPlausible(readings[2]!);
  });
});
