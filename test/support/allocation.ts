import { PerformanceObserver, performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sleep } from '@loadlight/core/testing';

/** Node's gc(), switched on at run time (vitest's workers do not start with --expose-gc). */
export function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Bytes allocated in V8's young generation while `run` runs, after a full GC, or null when a GC
 * ran meanwhile (the difference would mean nothing). A closure, object or boxed number made per
 * call shows up here.
 */
async function youngBytesDuring(gc: () => void, run: () => void): Promise<number | null> {
  const gcStarts: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcStarts.push(entry.startTime);
  });
  observer.observe({ entryTypes: ['gc'] });
  const newSpaceUsed = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;
  gc();
  const from = performance.now();
  const before = newSpaceUsed();
  run();
  const after = newSpaceUsed();
  const to = performance.now();
  await sleep(50); // gc entries are delivered asynchronously
  observer.disconnect();
  return gcStarts.some((t) => t >= from && t <= to) ? null : after - before;
}

/** `youngBytesDuring`, retried when a GC got in the way. */
export async function allocatedBytes(gc: () => void, run: () => void): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const bytes = await youngBytesDuring(gc, run);
    if (bytes !== null) return bytes;
  }
  throw new Error('a GC ran during every measurement');
}
