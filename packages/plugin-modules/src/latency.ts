/**
 * A log-linear latency histogram in a preallocated Uint32Array, cheaper than a native
 * `perf_hooks` histogram on the hot path (no call into C++) and 2.4 KB per busy module instead of
 * the ~360 KB a default HDR histogram reserves per module.
 *
 * Durations are bucketed by nanosecond: one bucket per ns below 32 ns, then 16 buckets per power
 * of two, so that a bucket's midpoint is within 3.2% (1/32) of any value in it. The top bucket
 * holds 2^39 ns (about 9 minutes) and above.
 */
export const BUCKETS = 592;
const MAX_EXPONENT = 39;

/** The bucket of a duration in ns. */
export function bucketOf(ns: number): number {
  if (ns < 16) return ns > 0 ? ns | 0 : 0;
  if (ns < 4294967296) {
    const n = ns >>> 0;
    const e = 31 - Math.clz32(n);
    return ((e - 3) << 4) + ((n >>> (e - 4)) & 15);
  }
  return bigBucketOf(ns);
}

function bigBucketOf(ns: number): number {
  const e = 32 + 31 - Math.clz32((ns / 4294967296) >>> 0);
  if (e > MAX_EXPONENT) return BUCKETS - 1;
  return ((e - 3) << 4) + (Math.floor(ns / 2 ** (e - 4)) & 15);
}

/** The value a bucket stands for, in ns: its whole ns below 32 ns, else its midpoint. */
export function bucketValueNs(index: number): number {
  if (index < 32) return index;
  const e = (index >> 4) + 3;
  const width = 2 ** (e - 4);
  return (16 + (index & 15)) * width + width / 2;
}

/**
 * Nearest-rank quantiles (0 < q <= 1) of the counts, in ns; `out` receives one value per q.
 * `from` is a bucket at or below the first count (the minimum's).
 */
export function quantilesNs(counts: Uint32Array, total: number, qs: readonly number[], out: number[], from = 0): void {
  let q = 0;
  let seen = 0;
  let rank = Math.max(1, Math.ceil(qs[0]! * total));
  for (let i = from; i < counts.length && q < qs.length; i++) {
    const c = counts[i]!;
    if (c === 0) continue;
    seen += c;
    while (q < qs.length && seen >= rank) {
      out[q] = bucketValueNs(i);
      q++;
      if (q < qs.length) rank = Math.max(1, Math.ceil(qs[q]! * total));
    }
  }
  // Fewer counts than `total` (cannot happen when the caller passes their sum): the top value.
  for (; q < qs.length; q++) out[q] = Number.NaN;
}

/**
 * A module's latency array while it has no calls in the current epoch (runtime.ts,
 * `ModuleSlot.buckets`): the first call of an epoch takes a zeroed one (wrap.ts, `countCall`), the
 * drain takes it away (engine.ts), so a module declared but never called, or idle, holds none.
 * Tested by length, not identity: the package's ESM and CJS builds (a perf.config.ts read through
 * jiti) share slots but not this constant.
 */
export const NO_BUCKETS = new Uint32Array(0);

/**
 * Zeroed arrays not in use, for the next epoch's busy modules: a slot holds one from its first call
 * in an epoch to the drain, a pending epoch from the drain to its write. The pool keeps as many as
 * were in use at the last drain (`sizeSpares`, at least `MIN_SPARE`), so that a program calling
 * the same modules every tick allocates none, and an idle module costs nothing. On `globalThis`:
 * arrays are taken by the build that wrapped a function and given back by the engine's build (the
 * package's ESM and CJS builds share slots and the engine).
 */
interface SparePool {
  readonly arrays: Uint32Array[];
  keep: number;
}
export const MIN_SPARE = 16;
const pool: SparePool = ((globalThis as Record<symbol, unknown>)[Symbol.for('loadlight.plugin-modules.spare-buckets.v1')] ??= {
  arrays: [],
  keep: MIN_SPARE,
} satisfies SparePool) as SparePool;

/** A zeroed latency array: a spare, else a new one. */
export function zeroedBuckets(): Uint32Array {
  return pool.arrays.pop() ?? new Uint32Array(BUCKETS);
}

/** Keeps `counts` (already zeroed) for reuse, if the pool has room. */
export function recycleBuckets(counts: Uint32Array): void {
  if (pool.arrays.length < pool.keep && counts.length === BUCKETS) pool.arrays.push(counts);
}

/** Sizes the pool for `inUse` arrays an epoch (at least `MIN_SPARE`), dropping spares beyond it. */
export function sizeSpares(inUse: number): void {
  pool.keep = Math.max(MIN_SPARE, inUse);
  if (pool.arrays.length > pool.keep) pool.arrays.length = pool.keep;
}

/** For tests: how many zeroed arrays wait for reuse. */
export function spareBuckets(): number {
  return pool.arrays.length;
}
