/** Test helpers of this package (the general ones are in `@loadlight/core/testing`). */

/** A clock the test moves by hand. */
export function manualClock(startMs = 0): { now: () => number; advance: (ms: number) => void; set: (ms: number) => void } {
  let nowMs = startMs;
  return { now: () => nowMs, advance: (ms) => void (nowMs += ms), set: (ms) => void (nowMs = ms) };
}

/**
 * The integral of a per-second rate over the session's samples: the bytes it stands for.
 * Each value covers the time since the previous sample.
 */
export function integrate(t: number[], perSecond: Array<number | null>): number {
  let total = 0;
  for (let i = 1; i < t.length; i++) total += (perSecond[i] ?? 0) * ((t[i]! - t[i - 1]!) / 1000);
  return total;
}
