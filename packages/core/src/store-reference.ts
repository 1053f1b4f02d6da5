// Test support (not exported from the package): the Store's window statistics in plain code.
import type { WindowStats } from './store.js';

/**
 * The statistics `Store.window()` gives, from the held rows alone with plain code (not the
 * Store's scan). `times` are the held rows' times, oldest first; `values` their values (null,
 * undefined or NaN: missing). A row at t is in the window when `now - seconds*1000 < t <= now`
 * (now: the newest row's time by default). The rate's time runs from the window's start, or from
 * `originT` when no held row is at or before that start; the slope is the least-squares fit with
 * t in minutes. Sorted as a Float64Array sorts (-0 before 0); sums run newest first, like the Store's.
 */
export function referenceWindow(
  times: ArrayLike<number>,
  values: ArrayLike<number | null | undefined>,
  originT: number,
  seconds: number,
  now?: number,
): WindowStats {
  const end = now ?? (times.length > 0 ? times[times.length - 1]! : 0);
  const from = end - seconds * 1000;
  const rows: Array<{ t: number; v: number }> = []; // newest first
  let earlier = false;
  for (let i = times.length - 1; i >= 0; i--) {
    const t = times[i]!;
    const v = values[i];
    if (t <= from) earlier = true;
    else if (t <= end && v !== null && v !== undefined && !Number.isNaN(v)) rows.push({ t, v });
  }
  const n = rows.length;
  if (n === 0) return { count: 0, mean: null, min: null, max: null, p95: null, last: null, sum: 0, ratePerMinute: null, slopePerMinute: null };
  const sorted = rows.map(({ v }) => v).sort((x, y) => x - y || (Object.is(x, -0) ? -1 : Object.is(y, -0) ? 1 : 0));
  let sum = 0;
  let st = 0;
  let stt = 0;
  let stv = 0;
  for (const { t, v } of rows) {
    sum += v;
    const minutes = (t - end) / 60_000;
    st += minutes;
    stt += minutes * minutes;
    stv += minutes * v;
  }
  const spanMs = end - (earlier ? from : Math.max(originT, from));
  const denominator = n * stt - st * st;
  return {
    count: n,
    mean: sum / n,
    min: sorted[0]!,
    max: sorted[n - 1]!,
    p95: sorted[Math.max(1, Math.ceil(0.95 * n)) - 1]!,
    last: rows[0]!.v,
    sum,
    ratePerMinute: spanMs > 0 ? (sum * 60_000) / spanMs : null,
    slopePerMinute: n >= 2 && denominator !== 0 ? (n * stv - st * sum) / denominator : null,
  };
}
