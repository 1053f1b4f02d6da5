import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { isLoadlightError } from '@loadlight/core';
import { createTestProfiler, moreSamples, present, stopTestProfilers, until } from '@loadlight/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import system, { watchProcess } from './index.js';

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill();
  await stopTestProfilers();
});

function spawnNode(code: string): ChildProcess {
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  children.push(child);
  if (child.pid === undefined) throw new Error('could not spawn node');
  return child;
}

const busyFor = (ms: number) => `const end = Date.now() + ${ms}; let x = 0; while (Date.now() < end) x += Math.sqrt(x + 1);`;

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    expect(isLoadlightError(error)).toBe(true);
    return error as { code: string; message: string };
  }
  throw new Error('expected an error');
}

describe('watchProcess', () => {
  it('measures a real child, then writes null with one warning after it exits', async () => {
    const { profiler, warnings } = createTestProfiler([]);
    await profiler.start();
    const child = spawnNode(busyFor(2000));
    const exited = once(child, 'exit');
    const unwatch = watchProcess(child.pid!, 'busy_child', profiler);
    expect(typeof unwatch).toBe('function');

    const info = profiler.store.info('module.busy_child.cpu_percent');
    expect(info).toMatchObject({ plugin: 'system', unit: 'percent', kind: 'gauge', module: { name: 'busy_child', field: 'cpu_percent' } });
    expect(profiler.store.info('module.busy_child.memory_mb')).toMatchObject({ unit: 'mb', module: { name: 'busy_child', field: 'memory_mb' } });

    await until(
      () => present(profiler, 'module.busy_child.cpu_percent').some((v) => v > 0) && present(profiler, 'module.busy_child.memory_mb').some((v) => v > 0),
      'cpu and memory of the child',
    );
    // A busy node process uses about one core: well above zero, not above what a process can use.
    expect(Math.max(...present(profiler, 'module.busy_child.cpu_percent'))).toBeGreaterThan(10);
    for (const v of present(profiler, 'module.busy_child.cpu_percent')) expect(v).toBeLessThanOrEqual(100 * 8);
    expect(Math.max(...present(profiler, 'module.busy_child.memory_mb'))).toBeGreaterThan(5);

    await exited;
    await moreSamples(profiler, 4);
    expect(profiler.store.latest('module.busy_child.cpu_percent')).toBeNull();
    expect(profiler.store.latest('module.busy_child.memory_mb')).toBeNull();
    const about = warnings.filter((m) => m.includes('busy_child'));
    expect(about).toHaveLength(1);
    expect(about[0]).toMatch(/watched process "busy_child" \(pid \d+\) is not running/);
    const session = await profiler.stop();
    expect(session.faults).toEqual([]);
    expect(session.modules.find((m) => m.name === 'busy_child')?.cpuPercent).toBeGreaterThan(0);
  });

  it('watches the processes given in the options, under normalised names', async () => {
    const child = spawnNode(busyFor(3000));
    const { profiler } = createTestProfiler([system({ host: false, eventLoop: false, gc: false, processes: [{ pid: child.pid!, name: ' OCR Worker ' }] })]);
    await profiler.start();
    await until(() => present(profiler, 'module.ocr_worker.memory_mb').length > 0, 'memory of the worker');
    expect(profiler.store.info('module.ocr_worker.cpu_percent')?.module).toEqual({ name: 'ocr_worker', field: 'cpu_percent' });
  });

  it('stops writing after unwatch, without a warning', async () => {
    const { profiler, warnings } = createTestProfiler([]);
    await profiler.start();
    const child = spawnNode(busyFor(3000));
    const unwatch = watchProcess(child.pid!, 'short', profiler);
    await until(() => present(profiler, 'module.short.memory_mb').length > 0, 'first reading');
    unwatch();
    unwatch(); // twice is harmless
    const size = profiler.store.size;
    child.kill();
    await once(child, 'exit');
    await moreSamples(profiler, 3);
    expect(profiler.store.series('module.short.memory_mb').slice(size + 1).every((v) => v === null)).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('moves a name to a new pid when watched again (a restarted worker)', async () => {
    const { profiler, warnings } = createTestProfiler([]);
    await profiler.start();
    const first = spawnNode(busyFor(3000));
    watchProcess(first.pid!, 'worker', profiler);
    await until(() => present(profiler, 'module.worker.memory_mb').length > 0, 'first worker');
    const second = spawnNode(busyFor(3000));
    watchProcess(second.pid!, 'worker', profiler);
    first.kill();
    await once(first, 'exit');
    const size = profiler.store.size;
    await moreSamples(profiler, 4);
    // Still measured (the second worker), and the first one's exit is not reported.
    expect(profiler.store.series('module.worker.memory_mb').slice(size + 1).some((v) => v !== null && v > 0)).toBe(true);
    expect(warnings).toEqual([]);
    expect(profiler.store.info('module.worker.cpu_percent')?.description).toContain(`pid ${second.pid}`);
  });

  it('reads several processes in one go and keeps the others when one exits', async () => {
    const { profiler, warnings } = createTestProfiler([]);
    await profiler.start();
    const quick = spawnNode('setTimeout(() => {}, 300)');
    const slow = spawnNode(busyFor(4000));
    watchProcess(quick.pid!, 'quick', profiler);
    watchProcess(slow.pid!, 'slow', profiler);
    await once(quick, 'exit');
    await moreSamples(profiler, 4);
    expect(profiler.store.latest('module.quick.memory_mb')).toBeNull();
    expect(profiler.store.latest('module.slow.memory_mb')).toBeGreaterThan(0);
    expect(warnings.filter((m) => m.includes('"quick"'))).toHaveLength(1);
    expect(warnings.filter((m) => m.includes('"slow"'))).toHaveLength(0);
  });

  it('treats a pid that is not running as exited, without throwing', async () => {
    const gone = spawnNode('');
    await once(gone, 'exit');
    const { profiler, warnings } = createTestProfiler([]);
    await profiler.start();
    expect(() => watchProcess(gone.pid!, 'ghost', profiler)).not.toThrow();
    await moreSamples(profiler, 3);
    expect(profiler.store.series('module.ghost.cpu_percent').every((v) => v === null)).toBe(true);
    expect(warnings.filter((m) => m.includes('ghost'))).toHaveLength(1);
    const session = await profiler.stop();
    expect(session.faults).toEqual([]);
  });

  it('gives clear errors for a bad pid, a bad name, or no profiler', () => {
    const { profiler } = createTestProfiler([]);
    const badPid = errorOf(() => watchProcess(0, 'worker', profiler));
    expect(badPid.code).toBe('PLUGIN_OPTIONS_INVALID');
    expect(badPid.message).toMatchInlineSnapshot(`"watchProcess(0, "worker"): the pid must be a whole number of at least 1."`);
    expect(errorOf(() => watchProcess(1.5, 'worker', profiler)).message).toMatchInlineSnapshot(`"watchProcess(1.5, "worker"): the pid must be a whole number of at least 1."`);
    const badName = errorOf(() => watchProcess(4242, 'ocr/worker', profiler));
    expect(badName.code).toBe('PLUGIN_OPTIONS_INVALID');
    expect(badName.message).toMatchInlineSnapshot(`"watchProcess(4242, "ocr/worker"): the name must hold only letters, digits, "_" and "-" (spaces and dots become "_"), because it names the metrics module.<name>.cpu_percent and module.<name>.memory_mb; got "ocr/worker"."`);
    expect(errorOf(() => watchProcess(4242, '  ', profiler)).message).toMatchInlineSnapshot(`"watchProcess(4242, "  "): the name must not be empty, got "  "."`);
    const noProfiler = errorOf(() => watchProcess(4242, 'worker'));
    expect(noProfiler.code).toBe('PROFILER_STATE');
    expect(noProfiler.message).toMatchInlineSnapshot(`"watchProcess(4242, "worker"): no profiler to report to. Pass one as the third argument, or call startProfiling() first."`);
  });
});
