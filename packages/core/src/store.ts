import { LoadlightError } from './errors.js';
import type { MetricAggregate, MetricFormula, MetricInfo, MetricStatistics, MetricUnit } from './types.js';

export interface WindowStats {
  /** Samples in the window that hold a value. */
  count: number;
  mean: number | null;
  min: number | null;
  max: number | null;
  p95: number | null;
  last: number | null;
  sum: number;
  /** Sum of the values per minute of the time the window covers (for counters). */
  ratePerMinute: number | null;
  /** Least-squares slope of the values per minute (for growth). */
  slopePerMinute: number | null;
}

const METRIC_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_][a-z0-9_-]*)+$/;

/** Checks a metric name: dotted, lower case, at least two parts (`system.cpu.percent`). */
export function isValidMetricName(name: string): boolean {
  return METRIC_NAME.test(name);
}

/** Index (0-based) of the nearest-rank quantile q of n ascending values. */
export function rankIndex(q: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil(q * n))) - 1;
}

/** Nearest-rank quantile of the first `n` values of an ascending array. */
function quantileSorted(sorted: Float64Array, n: number, q: number): number {
  return sorted[rankIndex(q, n)]!;
}

const SPAN_TOTAL = 0;
const SPAN_END = 1;
const SPAN_FROM = 2;
const SPAN_FIRST = 3;
const SPAN_FIRST_SLOT = 4;
const SPAN_COUNT = 5;
const SPAN_PREVIOUS = 6;
const ACC_SUM = 0;
const ACC_LAST = 1;
const ACC_ST = 2;
const ACC_STT = 3;
const ACC_STV = 4;
const ACC_SPAN = 5;

/** How the Store reads a metric (see `Store.planOf`). */
class ReadPlan {
  readonly unit: string;
  constructor(
    readonly info: MetricInfo,
    /** The number of metrics when it was made. */
    readonly metrics: number,
    /** The column read (a derived metric: its source's); -1: none. */
    readonly column: number,
    /** The formula's operation, null for a stored (or derived) metric. */
    readonly op: MetricFormula['op'] | null,
    /** A formula's operand columns (-1: none). */
    readonly of: number,
    readonly by: number,
  ) {
    this.unit = info.unit;
  }
}

/** Every `WindowStats` is made here: one object shape. */
function windowStats(
  count: number,
  mean: number | null,
  min: number | null,
  max: number | null,
  p95: number | null,
  last: number | null,
  sum: number,
  ratePerMinute: number | null,
  slopePerMinute: number | null,
): WindowStats {
  return { count, mean, min, max, p95, last, sum, ratePerMinute, slopePerMinute };
}
// A field that held a small integer and then null takes any value from then on. Without this,
// the first windows fix a field as "heap object" (null, fractions) and the first whole value
// that comes later (a slope of 0) de-optimises `window()` and every function it was inlined in.
windowStats(0, 0, 0, 0, 0, 0, 0, 0, 0);
windowStats(0, null, null, null, null, null, 0.5, null, null);

/** Statistics of a list of numbers (nulls and NaN skipped). */
export function statistics(values: ArrayLike<number | null>): MetricStatistics {
  const present = new Float64Array(values.length);
  let n = 0;
  let sum = 0;
  let last: number | null = null;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || Number.isNaN(v)) continue;
    present[n++] = v;
    sum += v;
    last = v;
  }
  if (n === 0) return { count: 0, min: null, max: null, mean: null, p50: null, p95: null, p99: null, last: null };
  const sorted = present.subarray(0, n).sort();
  return {
    count: n,
    min: sorted[0]!,
    max: sorted[n - 1]!,
    mean: sum / n,
    p50: quantileSorted(sorted, n, 0.5),
    p95: quantileSorted(sorted, n, 0.95),
    p99: quantileSorted(sorted, n, 0.99),
    last,
  };
}

/**
 * How finely the Store holds the values of a unit: in steps of `1 / scale`. A `rounded` unit's
 * values are rounded to the nearest step when committed (a latency in ms to 1 us); any other
 * unit's values are held exactly as written. Values the compact encoding cannot hold (not a
 * whole number of steps, beyond 2^48 steps, infinite) are kept as written, 8 bytes each.
 */
export interface UnitResolution {
  scale: number;
  rounded: boolean;
}

const UNIT_RESOLUTION: Readonly<Record<MetricUnit, UnitResolution>> = Object.freeze({
  percent: { scale: 100, rounded: true },
  ratio: { scale: 10_000, rounded: true },
  ms: { scale: 1000, rounded: true },
  ms_per_minute: { scale: 1000, rounded: true },
  mb: { scale: 1000, rounded: true },
  mb_per_minute: { scale: 1000, rounded: true },
  bytes: { scale: 1, rounded: false },
  bytes_per_second: { scale: 1, rounded: true },
  count: { scale: 1, rounded: false },
  per_minute: { scale: 100, rounded: true },
  fps: { scale: 100, rounded: true },
  seconds: { scale: 1000, rounded: true },
  load: { scale: 100, rounded: true },
});

/** An unknown unit (a plugin in plain JavaScript): exact, whole numbers held compactly. */
const EXACT: UnitResolution = Object.freeze({ scale: 1, rounded: false });

/** The resolution values of `unit` are held at (see `UnitResolution`). */
export function resolutionOf(unit: string): UnitResolution {
  return Object.hasOwn(UNIT_RESOLUTION, unit) ? UNIT_RESOLUTION[unit as MetricUnit] : EXACT;
}

/** The value a `rounded` unit holds for `value` (others hold `value` itself). */
export function atResolution(value: number, unit: string): number {
  const { scale, rounded } = resolutionOf(unit);
  return rounded ? toSteps(value, scale) : value;
}

/** `value` rounded to the nearest `1 / scale` (-0 to 0); kept as it is when not finite or beyond 2^48 steps. */
function toSteps(value: number, scale: number): number {
  const k = Math.round(value * scale);
  // NaN and infinities fail the test (|NaN| <= x is false) and are kept.
  return Math.abs(k) <= MAX_STEPS ? (k === 0 ? 0 : k / scale) : value;
}

/**
 * The name of a formula's operand `of` for computed metric `name`: `of` itself when dotted, else
 * the metric beside `name` (`calls` of `module.ocr.calls_per_minute` is `module.ocr.calls`).
 */
export function formulaOperand(name: string, of: string): string {
  return of.includes('.') ? of : `${name.slice(0, name.lastIndexOf('.') + 1)}${of}`;
}

/**
 * Computes a metric's formula (see `MetricFormula`) over `count` rows, in place: `values[j]`
 * holds the `of` operand's value in row j (NaN: missing) and becomes the computed one (NaN: none);
 * `second[j]` is the `by` operand's value (ratio) or the row's interval in ms (per_minute,
 * percent_of_interval). Results are rounded to the resolution of `unit`, as stored values are.
 * The Store and `sessionSeries` both compute with this, so that a series read back from a
 * session file equals the Store's to the bit.
 */
export function applyFormula(op: MetricFormula['op'], unit: string, values: Float64Array, second: ArrayLike<number>, count: number): void {
  const { scale, rounded } = resolutionOf(unit);
  // One pass, `toSteps` written out: at one tick a second this runs in V8's interpreter, where
  // each call and each pass over the rows costs.
  const ratio = op === 'ratio';
  const per = op === 'per_minute' ? 60_000 : 100;
  for (let j = 0; j < count; j++) {
    const d = second[j]!;
    let v = ratio ? (d !== 0 ? values[j]! / d : Number.NaN) : d > 0 ? (values[j]! * per) / d : Number.NaN;
    if (rounded) {
      const k = Math.round(v * scale);
      // NaN and infinities fail the test (|NaN| <= x is false) and are kept.
      if (Math.abs(k) <= MAX_STEPS) v = k === 0 ? 0 : k / scale;
    }
    values[j] = v;
  }
}

export interface StoreOptions {
  /**
   * Rows per compressed block. Default 256 (fewer for a capacity under 2,048: an eighth of it,
   * a power of two, at least 8). The ring drops whole blocks, so up to `blockRows - 1` rows older
   * than the capacity are still held (never read).
   */
  blockRows?: number;
}

/*
 * Encoding. Each metric with samples of its own has a column; a column is held per block of rows
 * (256 by default) on the value in whole steps of its unit (`k`, see UnitResolution), as tokens:
 *   - a delta: the row holds k = the previous present k + d (d != 0);
 *   - a run of n rows repeating the previous present k;
 *   - a run of n missing rows;
 *   - a raw value: 8 bytes of a float64 the steps cannot hold; the previous k is unchanged.
 * A token is one number x = payload * 4 + tag, written in 7-bit groups meant to be read from
 * right to left: the rightmost byte holds the lowest group, every byte but the leftmost has its
 * high bit set. Reads go from the newest row back, as windows do, and stop where the window
 * ends. The block being filled keeps each column's tokens in a shared arena, a run extended in
 * place as it grows; its anchor (the k of the latest present value) is the live `lastK`.
 *
 * A full block is sealed into one Uint8Array with an offset table: per column its anchor (LEB128
 * of zigzag(k after the block's last row) * 4 + mode), then its data in the shortest of three
 * modes:
 *   - direct: the tokens above;
 *   - relative: tokens against a reference column's value in the same row (a delta is from the
 *     reference, a repeat run means "as the reference", missing included). The reference is
 *     the first column of the same unit, name prefix and first word of the last part
 *     (`module.x.latency_p95_ms` has `module.x.latency_min_ms`), else of the same unit and
 *     prefix (`latency_min_ms` has `total_ms`): a module called once in a tick has
 *     min = max = p50 = p95 = p99 = total;
 *   - packed: every present value's steps less the least, in `width` bits (noisy columns
 *     present in every row), after a presence bitmap when some rows are missing.
 */
const TAG_DELTA = 0;
const TAG_REPEAT = 1;
const TAG_RAW = 2;
const TAG_MISSING = 3;
/** How a sealed block holds a column (the low 2 bits of its anchor). */
const MODE_DIRECT = 0;
const MODE_RELATIVE = 1;
const MODE_PACKED = 2;
/** Steps beyond this are held raw (deltas then stay within 2^50, tokens within 2^52: exact in a double). */
const MAX_STEPS = 2 ** 48;
const EMPTY = new Uint8Array(0);
const raw64 = new Float64Array(1);
const rawBytes = new Uint8Array(raw64.buffer);

function zigzag(d: number): number {
  return d >= 0 ? d * 2 : -d * 2 - 1;
}

function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

function lebLength(x: number): number {
  let n = 1;
  while (x >= 128) {
    x = Math.floor(x / 128);
    n++;
  }
  return n;
}

/** Writes token `x` at `bytes[at]` (the caller made room: at most 8 bytes); returns where it ends. */
function putToken(bytes: Uint8Array, at: number, x: number): number {
  if (x < 128) {
    bytes[at] = x;
    return at + 1;
  }
  const end = at + lebLength(x);
  let i = end - 1;
  let y = x;
  while (i > at) {
    bytes[i--] = (y % 128) | 128;
    y = Math.floor(y / 128);
  }
  bytes[at] = y;
  return end;
}

/** Reads token x ending before `end` (the bytes of one token, right to left). */
function readBack(bytes: Uint8Array, end: number): number {
  let b = bytes[--end]!;
  let x = b & 127;
  let m = 128;
  while (b >= 128) {
    b = bytes[--end]!;
    x += (b & 127) * m;
    m *= 128;
  }
  return x;
}

/** The steps a decoded value stands for, or NaN when it was held raw. */
function stepsOf(v: number, scale: number): number {
  const k = Math.round(v * scale);
  return k / scale === v && k <= MAX_STEPS && k >= -MAX_STEPS ? k : Number.NaN;
}

interface Block {
  bytes: Uint8Array;
  /** Where each column's stream (anchor, then tokens) starts; `offsets[columns]` is the end. */
  offsets: Uint16Array | Uint32Array;
  /** Columns that existed when the block was sealed; later ones are missing in it. */
  columns: number;
}

function grownInt32(from: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const to = new Int32Array(size);
  to.set(from);
  return to;
}

function grownFloat64(from: Float64Array, size: number): Float64Array<ArrayBuffer> {
  const to = new Float64Array(size);
  to.set(from);
  return to;
}

/** The encoded columns: sealed blocks plus the block being filled. */
class Columns {
  readonly blockRows: number;
  count = 0;
  scale = new Float64Array(16);
  rounded = new Int32Array(16);
  /** The reference column (relative mode), or -1. */
  ref = new Int32Array(16);
  /** k of each column's latest present (non-raw) value: the open block's anchor. */
  lastK = new Float64Array(16);
  /** Each column's value in the newest row, as held (NaN: missing), for `Store.latestRowInto`. */
  newest = new Float64Array(16);
  /** Each column's stream in the arena: start, length, room. */
  start = new Int32Array(16);
  length = new Int32Array(16);
  room = new Int32Array(16);
  /** Where the column's last token starts when it is a run (to extend it), else -1. */
  runAt = new Int32Array(16);
  arena = new Uint8Array(1024);
  arenaUsed = 0;
  blocks: Block[] = [];
  /** Columns some other column is relative to. */
  readonly references = new Set<number>();
  /** Block number of `blocks[0]`; block b holds rows [b * blockRows, (b + 1) * blockRows). */
  firstBlock = 0;
  /** Block number being filled. */
  openBlock = 0;
  /** For sealing: a column's and its reference's values in the open block, and a stream. */
  private readonly values: Float64Array;
  private readonly refValues: Float64Array;
  private readonly relative: Uint8Array;
  /** Each column's mode while sealing (grown with the columns). */
  private modes = new Uint8Array(0);
  private readonly reader: Cursor;

  constructor(blockRows: number) {
    this.blockRows = blockRows;
    this.values = new Float64Array(blockRows);
    this.refValues = new Float64Array(blockRows);
    this.relative = new Uint8Array(blockRows * 9 + 16);
    this.reader = new Cursor(this);
  }

  get bytes(): number {
    let bytes = this.arena.byteLength + this.values.byteLength + this.refValues.byteLength + this.relative.byteLength + this.modes.byteLength;
    for (const block of this.blocks) bytes += block.bytes.byteLength + block.offsets.byteLength;
    const perColumn = this.scale.byteLength + this.rounded.byteLength + this.ref.byteLength + this.lastK.byteLength + this.newest.byteLength;
    return bytes + perColumn + this.start.byteLength + this.length.byteLength + this.room.byteLength + this.runAt.byteLength;
  }

  /** A new column; `rowsBefore` rows of the open block are missing in it. */
  add(resolution: UnitResolution, rowsBefore: number, ref: number): number {
    const c = this.count;
    if (c === this.scale.length) {
      const size = Math.ceil(c * 1.5);
      this.scale = grownFloat64(this.scale, size);
      this.rounded = grownInt32(this.rounded, size);
      this.ref = grownInt32(this.ref, size);
      this.lastK = grownFloat64(this.lastK, size);
      this.newest = grownFloat64(this.newest, size);
      this.start = grownInt32(this.start, size);
      this.length = grownInt32(this.length, size);
      this.room = grownInt32(this.room, size);
      this.runAt = grownInt32(this.runAt, size);
    }
    this.count++;
    this.scale[c] = resolution.scale;
    this.rounded[c] = resolution.rounded ? 1 : 0;
    this.ref[c] = ref;
    this.lastK[c] = 0;
    this.newest[c] = Number.NaN;
    this.start[c] = this.arenaUsed;
    this.length[c] = 0;
    this.room[c] = 0;
    this.runAt[c] = -1;
    if (ref >= 0) this.references.add(ref);
    if (rowsBefore > 0) this.extendRun(c, TAG_MISSING, rowsBefore);
    return c;
  }

  /** Appends one row's value to a column. */
  append(c: number, v: number): void {
    if (v !== v) {
      this.newest[c] = Number.NaN;
      this.extendRun(c, TAG_MISSING, 1);
      return;
    }
    const scale = this.scale[c]!;
    let k = this.rounded[c] === 1 ? Math.round(v * scale) : v * scale;
    if (k <= MAX_STEPS && k >= -MAX_STEPS && (this.rounded[c] === 1 || Number.isInteger(k))) {
      if (k === 0) k = 0; // -0 is held as 0
      this.newest[c] = k / scale;
      const d = k - this.lastK[c]!;
      if (d === 0) {
        this.extendRun(c, TAG_REPEAT, 1);
        return;
      }
      this.lastK[c] = k;
      this.runAt[c] = -1;
      this.token(c, zigzag(d) * 4);
      return;
    }
    // Not a whole number of steps, too large, or infinite: kept as written.
    this.newest[c] = v;
    this.reserve(c, 9);
    raw64[0] = v;
    const at = this.start[c]! + this.length[c]!;
    this.arena.set(rawBytes, at);
    this.arena[at + 8] = TAG_RAW;
    this.length[c]! += 9;
    this.runAt[c] = -1;
  }

  private extendRun(c: number, tag: number, rows: number): void {
    const at = this.runAt[c]!;
    if (at >= 0) {
      const x = readBack(this.arena, this.start[c]! + this.length[c]!);
      if (x % 4 === tag) {
        this.length[c] = at;
        this.token(c, ((x - tag) / 4 + rows) * 4 + tag);
        return;
      }
    }
    this.runAt[c] = this.length[c]!;
    this.token(c, rows * 4 + tag);
  }

  /** Writes token `x` at the end of column `c`'s stream. */
  private token(c: number, x: number): void {
    this.reserve(c, 8);
    const at = this.start[c]! + this.length[c]!;
    this.length[c] = putToken(this.arena, at, x) - this.start[c]!;
  }

  /** Makes room for `n` more bytes in column `c`'s stream. */
  private reserve(c: number, n: number): void {
    const length = this.length[c]!;
    if (length + n <= this.room[c]!) return;
    const room = Math.max(16, length + n, this.room[c]! * 2);
    if (this.arenaUsed + room > this.arena.length) {
      this.repack(c, room);
      return;
    }
    this.arena.copyWithin(this.arenaUsed, this.start[c]!, this.start[c]! + length);
    this.start[c] = this.arenaUsed;
    this.room[c] = room;
    this.arenaUsed += room;
  }

  /** A new arena holding every column's stream without the holes moves left, `c` with `room`. */
  private repack(c: number, room: number): void {
    let total = 0;
    for (let i = 0; i < this.count; i++) total += i === c ? room : this.room[i]!;
    const arena = new Uint8Array(Math.ceil(total * 1.25) + 64);
    let at = 0;
    for (let i = 0; i < this.count; i++) {
      arena.set(this.arena.subarray(this.start[i]!, this.start[i]! + this.length[i]!), at);
      this.start[i] = at;
      if (i === c) this.room[i] = room;
      at += this.room[i]!;
    }
    this.arena = arena;
    this.arenaUsed = at;
  }

  /** The open block's values of column `c`, oldest first, into `out`. */
  private decodeOpen(c: number, out: Float64Array): void {
    const rows = this.blockRows;
    this.reader.seekEnd(c, this.openBlock);
    for (let i = rows - 1; i >= 0; i--) out[i] = this.reader.prev();
  }

  /**
   * Column `c`'s values against its reference's (see relative mode) into `this.relative`;
   * returns the length, or -1 when it would not be shorter than `limit`.
   */
  private encodeRelative(c: number, limit: number): number {
    const rows = this.blockRows;
    const scale = this.scale[c]!;
    const values = this.values;
    const refs = this.refValues;
    const out = this.relative;
    let at = 0;
    let runAt = -1;
    let runTag = -1;
    let run = 0;
    for (let i = 0; i < rows && at < limit; i++) {
      const v = values[i]!;
      let tag = refs[i]! !== refs[i]! ? TAG_REPEAT : TAG_MISSING;
      if (v === v) {
        const k = stepsOf(v, scale);
        const r = refs[i]!;
        const kr = r === r ? stepsOf(r, scale) : Number.NaN;
        if (k !== k || kr !== kr) {
          raw64[0] = v;
          out.set(rawBytes, at);
          out[at + 8] = TAG_RAW;
          at += 9;
          runAt = -1;
          continue;
        }
        if (k !== kr) {
          at = putToken(out, at, zigzag(k - kr) * 4);
          runAt = -1;
          continue;
        }
        tag = TAG_REPEAT;
      }
      if (runAt >= 0 && runTag === tag) {
        run++;
      } else {
        runAt = at;
        runTag = tag;
        run = 1;
      }
      at = putToken(out, runAt, run * 4 + tag);
    }
    return at < limit ? at : -1;
  }

  /**
   * Column `c`'s values (in `this.values`) bit-packed into `this.relative`: their steps less the
   * least, `width` bits each, after a presence bitmap when some are missing. Returns the length,
   * or -1 when some value is raw, the width passes 32 bits, or it would not be shorter than `limit`.
   */
  private encodePacked(c: number, limit: number): number {
    const rows = this.blockRows;
    const scale = this.scale[c]!;
    const values = this.values;
    let present = 0;
    let least = Number.POSITIVE_INFINITY;
    let most = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < rows; i++) {
      const v = values[i]!;
      if (v !== v) continue;
      const k = stepsOf(v, scale);
      if (k !== k) return -1;
      present++;
      if (k < least) least = k;
      if (k > most) most = k;
    }
    if (present === 0 || most - least >= 2 ** 32) return -1;
    const width = most === least ? 0 : 32 - Math.clz32(most - least);
    const mask = present < rows ? (rows + 7) >> 3 : 0;
    // 3 bytes of padding: a value is read with one 32-bit read.
    const size = 1 + lebLength(zigzag(least)) + mask + Math.ceil((present * width) / 8) + 3;
    if (size >= limit) return -1;
    const out = this.relative;
    out.fill(0, 0, size);
    out[0] = width | (mask > 0 ? 64 : 0);
    let at = 1;
    let z = zigzag(least);
    while (z >= 128) {
      out[at++] = (z % 128) | 128;
      z = Math.floor(z / 128);
    }
    out[at++] = z;
    const maskAt = at;
    let bit = (at + mask) * 8;
    for (let i = 0; i < rows; i++) {
      const v = values[i]!;
      if (v !== v) continue;
      if (mask > 0) out[maskAt + (i >> 3)]! |= 1 << (i & 7);
      let rest = Math.round(v * scale) - least;
      for (let left = width; left > 0; ) {
        const take = Math.min(8 - (bit & 7), left);
        out[bit >> 3]! |= (rest % (1 << take)) << (bit & 7);
        rest = Math.floor(rest / (1 << take));
        bit += take;
        left -= take;
      }
    }
    return size;
  }

  /**
   * Packs the open block (full) into a sealed one and starts the next. Each column keeps the
   * shortest of its direct stream, its relative one and its bit-packed one (see the encoding
   * notes). Columns go from the last to the first, so that a reference (always an earlier
   * column) is still in direct form when the columns that refer to it are read.
   */
  seal(): void {
    const count = this.count;
    const rows = this.blockRows;
    // Each column's mode, in an array kept from seal to seal: no temporaries for malloc to scatter.
    if (this.modes.length < count) this.modes = new Uint8Array(this.scale.length);
    const modes = this.modes;
    modes.fill(MODE_DIRECT, 0, count);
    // The next block's streams get the room this one's took in direct mode (plus a little);
    // `room` is not read again before then.
    for (let c = 0; c < count; c++) this.room[c] = Math.max(4, this.length[c]! + (this.length[c]! >> 3) + 2);
    let decodedRef = -1;
    for (let c = count - 1; c >= 0; c--) {
      const ref = this.ref[c]!;
      const direct = this.length[c]!;
      // A few bytes (a run or two) cannot get shorter.
      if (direct <= 4 || (ref < 0 && direct < rows / 8)) continue;
      this.decodeOpen(c, this.values);
      let best = direct;
      if (ref >= 0) {
        if (decodedRef !== ref) {
          this.decodeOpen(ref, this.refValues);
          decodedRef = ref;
        }
        const length = this.encodeRelative(c, best);
        if (length >= 0) {
          this.arena.set(this.relative.subarray(0, length), this.start[c]!);
          best = length;
          modes[c] = MODE_RELATIVE;
        }
      }
      const length = this.encodePacked(c, best);
      if (length >= 0) {
        this.arena.set(this.relative.subarray(0, length), this.start[c]!);
        best = length;
        modes[c] = MODE_PACKED;
      }
      this.length[c] = best;
    }
    let size = 0;
    for (let c = 0; c < count; c++) size += lebLength(zigzag(this.lastK[c]!) * 4 + 3) + this.length[c]!;
    const bytes = new Uint8Array(size);
    const offsets = size < 65536 ? new Uint16Array(count + 1) : new Uint32Array(count + 1);
    let at = 0;
    for (let c = 0; c < count; c++) {
      offsets[c] = at;
      let z = zigzag(this.lastK[c]!) * 4 + modes[c]!;
      while (z >= 128) {
        bytes[at++] = (z % 128) | 128;
        z = Math.floor(z / 128);
      }
      bytes[at++] = z;
      bytes.set(this.arena.subarray(this.start[c]!, this.start[c]! + this.length[c]!), at);
      at += this.length[c]!;
    }
    offsets[count] = at;
    this.blocks.push({ bytes, offsets, columns: count });
    this.openBlock++;
    let total = 0;
    for (let c = 0; c < count; c++) {
      const room = this.room[c]!;
      this.start[c] = total;
      this.length[c] = 0;
      this.runAt[c] = -1;
      total += room;
    }
    // The same arena when it fits, even up to twice too large (plus 4 KB; the first block's,
    // grown as its streams doubled): a smaller copy measured 0.8 MB more RSS over a full ring
    // (the freed arena stays a hole in malloc's heap), for 60 KB less held.
    if (this.arena.length < total || this.arena.length > 2 * total + 4096) {
      this.arena = new Uint8Array(total + (total >> 3) + 64);
      // The sealing reader would keep the old arena alive until the next seal.
      if (count > 0) this.reader.seekEnd(0, this.openBlock);
    }
    this.arenaUsed = total;
  }

  /** Drops the blocks whose rows are all older than row `oldest`. */
  evict(oldest: number): void {
    let drop = 0;
    while (drop < this.blocks.length && (this.firstBlock + drop + 1) * this.blockRows <= oldest) drop++;
    if (drop === 0) return;
    this.blocks.splice(0, drop);
    this.firstBlock += drop;
  }
}

/** Reads one column from a row back towards older rows. */
class Cursor {
  private readonly data: Columns;
  private column = 0;
  private bytes: Uint8Array = EMPTY;
  private floor = 0;
  private at = 0;
  private k = 0;
  private scale = 1;
  private run = 0;
  private runTag = TAG_MISSING;
  private block = 0;
  private mode = MODE_DIRECT;
  /** Relative mode: rows of the block not read yet (the reference is read in step). */
  private left = 0;
  /**
   * The reference column's values when already decoded, by index into `out` of `read` (set by
   * the Store for a whole series read from the newest row); else the reference is decoded.
   */
  referenceValues: Float64Array | null = null;
  /**
   * The reference column's runs when already read (`readRuns` of a whole series, from the newest
   * row: set by the Store), and the run holding the current row (they are walked newest first).
   */
  referenceRuns: SeriesRuns | null = null;
  referenceRun = 0;
  /** Relative mode: the reference column, read alongside. */
  private reference: Cursor | null = null;
  /** Packed mode: the row in the block, the value index, the layout. */
  private row = 0;
  private valueIndex = 0;
  private width = 0;
  private least = 0;
  private maskAt = -1;
  private valuesBit = 0;

  constructor(data: Columns) {
    this.data = data;
  }

  /** The next `prev()` returns the value of row `row` (`newest`: the latest row committed). */
  seek(column: number, row: number, newest: number): void {
    const block = Math.floor(row / this.data.blockRows);
    this.seekEnd(column, block);
    const last = block === this.data.openBlock ? newest : (block + 1) * this.data.blockRows - 1;
    for (let skip = last - row; skip > 0; skip--) this.prev();
  }

  /** The next `prev()` returns the value of the last row of `block`. */
  seekEnd(column: number, block: number): void {
    this.column = column;
    this.scale = this.data.scale[column]!;
    this.enter(block);
  }

  private enter(block: number): void {
    const data = this.data;
    const c = this.column;
    this.block = block;
    this.run = 0;
    this.mode = MODE_DIRECT;
    if (block === data.openBlock) {
      this.bytes = data.arena;
      this.floor = data.start[c]!;
      this.at = this.floor + data.length[c]!;
      this.k = data.lastK[c]!;
      return;
    }
    const sealed = block >= data.firstBlock ? data.blocks[block - data.firstBlock] : undefined;
    if (sealed === undefined || c >= sealed.columns) {
      this.bytes = EMPTY;
      this.floor = this.at = 0;
      this.run = data.blockRows;
      this.runTag = TAG_MISSING;
      return;
    }
    const bytes = sealed.bytes;
    let at = sealed.offsets[c]!;
    let z = 0;
    let m = 1;
    let b: number;
    do {
      b = bytes[at++]!;
      z += (b & 127) * m;
      m *= 128;
    } while (b >= 128);
    const mode = z % 4;
    this.bytes = bytes;
    this.k = unzigzag((z - mode) / 4);
    this.floor = at;
    this.at = sealed.offsets[c + 1]!;
    this.mode = mode;
    if (mode === MODE_RELATIVE) {
      this.left = data.blockRows;
      (this.reference ??= new Cursor(data)).seekEnd(data.ref[c]!, block);
    } else if (mode === MODE_PACKED) {
      const head = bytes[at++]!;
      this.width = head & 63;
      let least = 0;
      m = 1;
      do {
        b = bytes[at++]!;
        least += (b & 127) * m;
        m *= 128;
      } while (b >= 128);
      this.least = unzigzag(least);
      const rows = data.blockRows;
      let present = rows;
      if (head & 64) {
        this.maskAt = at;
        at += (rows + 7) >> 3;
        present = 0;
        for (let i = this.maskAt; i < at; i++) present += popcount8(bytes[i]!);
      } else {
        this.maskAt = -1;
      }
      this.valuesBit = at * 8;
      this.row = rows - 1;
      this.valueIndex = present - 1;
    }
  }

  private exhausted(): boolean {
    return this.mode === MODE_PACKED ? this.row < 0 : this.run === 0 && this.at <= this.floor;
  }

  /** The values of the next `count` rows back into `out[from..from + count)` (the current row first). */
  read(out: Float64Array, from: number, count: number): void {
    const end = from + count;
    let i = from;
    while (i < end) {
      if (this.mode === MODE_RELATIVE && this.left > 0) {
        i = this.readRelative(out, i, end);
      } else if (this.run > 0) {
        // A run, at once: a value, missing rows, or (relative) the reference's values.
        const n = Math.min(this.run, end - i);
        if (this.mode === MODE_RELATIVE && this.runTag === TAG_REPEAT) {
          this.reference!.read(out, i, n);
        } else {
          if (this.mode === MODE_RELATIVE) this.reference!.skip(n);
          const value = this.runTag === TAG_REPEAT ? this.k / this.scale : Number.NaN;
          for (let j = i; j < i + n; j++) out[j] = value;
        }
        this.run -= n;
        i += n;
      } else if (this.mode === MODE_DIRECT && this.at > this.floor) {
        i = this.readDirect(out, i, end);
      } else if (this.mode === MODE_PACKED && this.row >= 0 && this.width <= 25) {
        i = this.readPacked(out, i, end);
      } else {
        out[i++] = this.prev();
      }
    }
  }

  /**
   * `read` as runs: the next `count` rows back into `runs` (newest first), a run of the encoding
   * at once. Rows decoded one by one (relative and packed blocks, deltas) go through `rows`,
   * indexed from 0 as `read`'s `out` (so `referenceValues` applies).
   */
  readRuns(runs: RunBuilder, rows: Float64Array, count: number): void {
    let i = 0;
    while (i < count) {
      if (this.mode === MODE_RELATIVE && this.left > 0) {
        if (this.referenceRuns !== null) {
          i = this.readRelativeRuns(runs, i, count);
        } else {
          const j = this.readRelative(rows, i, count);
          runs.addRows(rows, i, j);
          i = j;
        }
      } else if (this.run > 0) {
        const n = Math.min(this.run, count - i);
        if (this.mode === MODE_RELATIVE && this.runTag === TAG_REPEAT) {
          this.reference!.read(rows, i, n);
          runs.addRows(rows, i, i + n);
        } else {
          if (this.mode === MODE_RELATIVE) this.reference!.skip(n);
          runs.add(this.runTag === TAG_REPEAT ? this.k / this.scale : Number.NaN, n);
        }
        this.run -= n;
        i += n;
      } else if (this.mode === MODE_DIRECT && this.at > this.floor) {
        i = this.readDirectRuns(runs, i, count);
      } else if (this.mode === MODE_PACKED && this.row >= 0 && this.width <= 25) {
        const j = this.readPacked(rows, i, count);
        runs.addRows(rows, i, j);
        i = j;
      } else {
        runs.add(this.prev(), 1);
        i++;
      }
    }
  }

  /**
   * `readRelative` as runs, against the reference's runs (`referenceRuns`): a run "as the
   * reference" is the reference's runs over its rows, a missing run one run; returns the next `i`.
   */
  private readRelativeRuns(runs: RunBuilder, i: number, end: number): number {
    const stop = i + Math.min(end - i, this.left);
    this.left -= stop - i;
    const reference = this.referenceRuns!;
    const starts = reference.starts;
    const heads = reference.heads;
    // Row `newest - i` (from the oldest) is `read`'s i-th.
    const newest = reference.rows - 1;
    let r = this.referenceRun;
    const bytes = this.bytes;
    const scale = this.scale;
    let at = this.at;
    while (i < stop) {
      if (this.run > 0) {
        const n = Math.min(this.run, stop - i);
        if (this.runTag === TAG_REPEAT) {
          let row = newest - i;
          const below = row - n;
          while (row > below) {
            while (starts[r]! > row) r--;
            const from = starts[r]! > below ? starts[r]! : below + 1;
            runs.add(heads[r]!, row - from + 1);
            row = from - 1;
          }
        } else {
          runs.add(Number.NaN, n);
        }
        this.run -= n;
        i += n;
        continue;
      }
      let b = bytes[--at]!;
      let x = b & 127;
      let m = 128;
      while (b >= 128) {
        b = bytes[--at]!;
        x += (b & 127) * m;
        m *= 128;
      }
      const tag = x < 2 ** 31 ? x & 3 : x % 4;
      if (tag === TAG_DELTA) {
        const d = x < 2 ** 31 ? (x >>> 3) ^ -((x >>> 2) & 1) : unzigzag(x / 4);
        const row = newest - i;
        while (starts[r]! > row) r--;
        runs.add((Math.round(heads[r]! * scale) + d) / scale, 1);
        i++;
      } else if (tag === TAG_RAW) {
        at -= 8;
        for (let q = 0; q < 8; q++) rawBytes[q] = bytes[at + q]!;
        runs.add(raw64[0]!, 1);
        i++;
      } else {
        this.run = (x - tag) / 4;
        this.runTag = tag;
      }
    }
    this.at = at;
    this.referenceRun = r;
    return i;
  }

  /** `readDirect` as runs: a run token's rows at once (up to `end`); returns the next `i`. */
  private readDirectRuns(runs: RunBuilder, i: number, end: number): number {
    const bytes = this.bytes;
    const floor = this.floor;
    const scale = this.scale;
    let at = this.at;
    let k = this.k;
    while (i < end && at > floor) {
      let b = bytes[--at]!;
      let x = b & 127;
      if (b >= 128) {
        b = bytes[--at]!;
        x |= (b & 127) << 7;
        if (b >= 128) {
          b = bytes[--at]!;
          x |= (b & 127) << 14;
          if (b >= 128) {
            let m = 2 ** 21;
            do {
              b = bytes[--at]!;
              x += (b & 127) * m;
              m *= 128;
            } while (b >= 128);
          }
        }
      }
      const tag = x < 2 ** 31 ? x & 3 : x % 4;
      if (tag === TAG_DELTA) {
        runs.add(k / scale, 1);
        i++;
        k -= x < 2 ** 31 ? (x >>> 3) ^ -((x >>> 2) & 1) : unzigzag(x / 4);
      } else if (tag === TAG_RAW) {
        at -= 8;
        for (let q = 0; q < 8; q++) rawBytes[q] = bytes[at + q]!;
        runs.add(raw64[0]!, 1);
        i++;
      } else {
        const length = (x - tag) / 4;
        const n = Math.min(length, end - i);
        runs.add(tag === TAG_REPEAT ? k / scale : Number.NaN, n);
        i += n;
        // What is left of the run, should the read stop inside it, is `read`'s.
        this.run = length - n;
        this.runTag = tag;
      }
    }
    this.at = at;
    this.k = k;
    return i;
  }

  /** Moves `count` rows back without reading their values where it can (runs). */
  skip(count: number): void {
    while (count > 0) {
      if (this.run > 0 && this.mode !== MODE_RELATIVE) {
        const n = Math.min(this.run, count);
        this.run -= n;
        count -= n;
      } else {
        this.prev();
        count--;
      }
    }
  }

  /** Direct tokens into `out` from `i` until `end`, a run or the block's start; returns the next `i`. */
  private readDirect(out: Float64Array, i: number, end: number): number {
    const bytes = this.bytes;
    const floor = this.floor;
    const scale = this.scale;
    let at = this.at;
    let k = this.k;
    while (i < end && at > floor) {
      let b = bytes[--at]!;
      let x = b & 127;
      if (b >= 128) {
        b = bytes[--at]!;
        x |= (b & 127) << 7;
        if (b >= 128) {
          b = bytes[--at]!;
          x |= (b & 127) << 14;
          if (b >= 128) {
            let m = 2 ** 21;
            do {
              b = bytes[--at]!;
              x += (b & 127) * m;
              m *= 128;
            } while (b >= 128);
          }
        }
      }
      const tag = x < 2 ** 31 ? x & 3 : x % 4;
      if (tag === TAG_DELTA) {
        out[i++] = k / scale;
        k -= x < 2 ** 31 ? (x >>> 3) ^ -((x >>> 2) & 1) : unzigzag(x / 4);
      } else if (tag === TAG_RAW) {
        at -= 8;
        for (let q = 0; q < 8; q++) rawBytes[q] = bytes[at + q]!;
        out[i++] = raw64[0]!;
      } else {
        // A run: its first row here, the rest by `read`.
        this.run = (x - tag) / 4 - 1;
        this.runTag = tag;
        out[i++] = tag === TAG_REPEAT ? k / scale : Number.NaN;
        break;
      }
    }
    this.at = at;
    this.k = k;
    return i;
  }

  /**
   * Relative mode, in bulk: the reference's values of the block's next rows into `out` from `i`
   * (until `end` or the block's first row), then this column's tokens applied over them (see
   * `prevRelative`); returns the next `i`.
   */
  private readRelative(out: Float64Array, i: number, end: number): number {
    const stop = i + Math.min(end - i, this.left);
    const known = this.referenceValues;
    if (known !== null) {
      for (let j = i; j < stop; j++) out[j] = known[j]!;
    } else {
      this.reference!.read(out, i, stop - i);
    }
    this.left -= stop - i;
    const bytes = this.bytes;
    const scale = this.scale;
    let at = this.at;
    while (i < stop) {
      if (this.run > 0) {
        // A run: missing rows, or rows equal to the reference's (already in `out`).
        const n = Math.min(this.run, stop - i);
        if (this.runTag !== TAG_REPEAT) out.fill(Number.NaN, i, i + n);
        this.run -= n;
        i += n;
        continue;
      }
      let b = bytes[--at]!;
      let x = b & 127;
      let m = 128;
      while (b >= 128) {
        b = bytes[--at]!;
        x += (b & 127) * m;
        m *= 128;
      }
      const tag = x < 2 ** 31 ? x & 3 : x % 4;
      if (tag === TAG_DELTA) {
        const d = x < 2 ** 31 ? (x >>> 3) ^ -((x >>> 2) & 1) : unzigzag(x / 4);
        out[i] = (Math.round(out[i]! * scale) + d) / scale;
        i++;
      } else if (tag === TAG_RAW) {
        at -= 8;
        for (let q = 0; q < 8; q++) rawBytes[q] = bytes[at + q]!;
        out[i++] = raw64[0]!;
      } else {
        this.run = (x - tag) / 4;
        this.runTag = tag;
      }
    }
    this.at = at;
    return i;
  }

  /** Packed values (at most 25 bits: one 32-bit read each) into `out` from `i`; returns the next `i`. */
  private readPacked(out: Float64Array, i: number, end: number): number {
    const bytes = this.bytes;
    const width = this.width;
    const mask = width === 0 ? 0 : 2 ** width - 1;
    const maskAt = this.maskAt;
    const least = this.least;
    const scale = this.scale;
    let row = this.row;
    let index = this.valueIndex;
    while (i < end && row >= 0) {
      if (maskAt >= 0 && (bytes[maskAt + (row >> 3)]! & (1 << (row & 7))) === 0) {
        out[i++] = Number.NaN;
      } else {
        const bit = this.valuesBit + index * width;
        const at = bit >> 3;
        const word = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
        out[i++] = (least + ((word >>> (bit & 7)) & mask)) / scale;
        index--;
      }
      row--;
    }
    this.row = row;
    this.valueIndex = index;
    return i;
  }

  /** The value of the current row (NaN when missing); then moves to the row before it. */
  prev(): number {
    if (this.exhausted()) {
      do this.enter(this.block - 1);
      while (this.exhausted());
    }
    if (this.mode === MODE_PACKED) return this.prevPacked();
    if (this.mode === MODE_RELATIVE) return this.prevRelative();
    if (this.run > 0) {
      this.run--;
      return this.runTag === TAG_REPEAT ? this.k / this.scale : Number.NaN;
    }
    const bytes = this.bytes;
    let at = this.at;
    let b = bytes[--at]!;
    let x = b & 127;
    if (b >= 128) {
      b = bytes[--at]!;
      x |= (b & 127) << 7;
      if (b >= 128) {
        b = bytes[--at]!;
        x |= (b & 127) << 14;
        if (b >= 128) {
          // Four bytes and more: past the 31 bits integer operations hold.
          let m = 2 ** 21;
          do {
            b = bytes[--at]!;
            x += (b & 127) * m;
            m *= 128;
          } while (b >= 128);
        }
      }
    }
    const tag = x < 2 ** 31 ? x & 3 : x % 4;
    if (tag === TAG_DELTA) {
      this.at = at;
      const value = this.k / this.scale;
      this.k -= x < 2 ** 31 ? (x >>> 3) ^ -((x >>> 2) & 1) : unzigzag(x / 4);
      return value;
    }
    if (tag === TAG_RAW) return this.rawBefore(at);
    this.at = at;
    this.run = (x - tag) / 4 - 1;
    this.runTag = tag;
    return tag === TAG_REPEAT ? this.k / this.scale : Number.NaN;
  }

  /** Relative mode: a delta is from the reference's value in the row, a repeat is equal to it. */
  private prevRelative(): number {
    const reference = this.reference!.prev();
    this.left--;
    if (this.run > 0) {
      this.run--;
      return this.runTag === TAG_REPEAT ? reference : Number.NaN;
    }
    let at = this.at;
    const x = readBack(this.bytes, at);
    at -= lebLength(x);
    const tag = x % 4;
    if (tag === TAG_DELTA) {
      this.at = at;
      return (Math.round(reference * this.scale) + unzigzag(x / 4)) / this.scale;
    }
    if (tag === TAG_RAW) return this.rawBefore(at);
    this.at = at;
    this.run = (x - tag) / 4 - 1;
    this.runTag = tag;
    return tag === TAG_REPEAT ? reference : Number.NaN;
  }

  /** Packed mode: `width` bits per present value, least significant first. */
  private prevPacked(): number {
    const row = this.row--;
    const bytes = this.bytes;
    if (this.maskAt >= 0 && (bytes[this.maskAt + (row >> 3)]! & (1 << (row & 7))) === 0) return Number.NaN;
    const width = this.width;
    let bit = this.valuesBit + this.valueIndex-- * width;
    let steps = 0;
    let m = 1;
    for (let left = width; left > 0; ) {
      const shift = bit & 7;
      const take = Math.min(8 - shift, left);
      steps += ((bytes[bit >> 3]! >> shift) & ((1 << take) - 1)) * m;
      m *= 1 << take;
      bit += take;
      left -= take;
    }
    return (this.least + steps) / this.scale;
  }

  /** The raw value whose 8 bytes end at `at` (its tag read). */
  private rawBefore(at: number): number {
    at -= 8;
    for (let i = 0; i < 8; i++) rawBytes[i] = this.bytes[at + i]!;
    this.at = at;
    return raw64[0]!;
  }
}

/**
 * The latest few whole series read of some columns, each valid for one `total`: values (newest
 * first, `seriesInto`) and runs (oldest first, `seriesRuns`), and the scratch of `seriesRuns`.
 * Emptied (its arrays let go) at the next commit, so that a read, an export, holds no memory after.
 */
class WholeSeriesCache {
  private readonly columns: Int32Array;
  private readonly totals: Float64Array;
  private readonly sizes: Int32Array;
  private readonly values: Float64Array[];
  private next = 0;
  private holding = false;

  constructor(count: number) {
    this.columns = new Int32Array(count).fill(-1);
    this.totals = new Float64Array(count);
    this.sizes = new Int32Array(count);
    this.values = new Array<Float64Array>(count).fill(EMPTY_VALUES);
  }

  get bytes(): number {
    let bytes = 0;
    for (const v of this.values) bytes += v.byteLength;
    for (const r of this.runs) bytes += r.starts.byteLength + r.heads.byteLength;
    bytes += this.runsOf.starts.byteLength + this.runsOf.heads.byteLength + this.runsBy.starts.byteLength + this.runsBy.heads.byteLength;
    bytes += this.builder.lengths.byteLength + this.builder.values.byteLength + this.rows.byteLength + this.positive.byteLength;
    return bytes;
  }

  get(column: number, total: number, size: number): Float64Array | null {
    for (let e = 0; e < this.columns.length; e++) {
      if (this.columns[e] === column && this.totals[e] === total && this.sizes[e] === size) return this.values[e]!;
    }
    return null;
  }

  put(column: number, total: number, values: Float64Array, size: number): void {
    let e = this.columns.indexOf(column);
    if (e < 0) {
      e = this.next;
      this.next = (this.next + 1) % this.columns.length;
    }
    if (this.values[e]!.length < size) this.values[e] = new Float64Array(size);
    this.values[e]!.set(values.subarray(0, size));
    this.columns[e] = column;
    this.totals[e] = total;
    this.sizes[e] = size;
    this.holding = true;
  }

  /**
   * Scratch of `Store.seriesRuns` (`hold()` when used): runs as decoded or computed, rows decoded
   * one by one, operands' runs, and how many row intervals are positive before each row, oldest
   * first (valid at `positiveTotal` rows, `positiveSize` of them). Let go with the rest.
   */
  builder = new RunBuilder();
  rows = EMPTY_VALUES;
  runsOf = new SeriesRuns();
  runsBy = new SeriesRuns();
  positive = new Int32Array(1);
  positiveTotal = -1;
  positiveSize = 0;

  hold(): void {
    this.holding = true;
  }

  /** Runs of a column lately read by `Store.seriesRuns` (the operands of formulas are read again). */
  private readonly runColumns = new Int32Array(16).fill(-1);
  private readonly runTotals = new Float64Array(16);
  private runs: SeriesRuns[] = [];
  private nextRuns = 0;

  getRuns(column: number, total: number): SeriesRuns | null {
    for (let e = 0; e < this.runs.length; e++) {
      if (this.runColumns[e] === column && this.runTotals[e] === total) return this.runs[e]!;
    }
    return null;
  }

  putRuns(column: number, total: number, runs: SeriesRuns): void {
    // The column's slot when it has one (read again: another session), as `put` does.
    let e = this.runColumns.indexOf(column);
    if (e < 0) {
      e = this.nextRuns;
      this.nextRuns = (e + 1) % this.runColumns.length;
    }
    if (e === this.runs.length) this.runs.push(new SeriesRuns());
    this.runs[e]!.copyFrom(runs);
    this.runColumns[e] = column;
    this.runTotals[e] = total;
    this.holding = true;
  }

  clear(): void {
    if (!this.holding) return;
    this.holding = false;
    this.columns.fill(-1);
    this.values.fill(EMPTY_VALUES);
    this.runColumns.fill(-1);
    this.runs = [];
    this.nextRuns = 0;
    this.builder = new RunBuilder();
    this.rows = EMPTY_VALUES;
    this.runsOf = new SeriesRuns();
    this.runsBy = new SeriesRuns();
    this.positive = new Int32Array(1);
    this.positiveTotal = -1;
    this.positiveSize = 0;
  }
}

const EMPTY_VALUES = new Float64Array(0);

function popcount8(b: number): number {
  b = b - ((b >> 1) & 0x55);
  b = (b & 0x33) + ((b >> 2) & 0x33);
  return (b + (b >> 4)) & 0x0f;
}

/**
 * A series as runs, oldest first: run r holds `heads[r]` (NaN: missing) over rows
 * [starts[r], starts[r + 1]); `rows` is `starts[count]`. Runs next to each other hold different
 * values (NaN equals NaN here, 0 and -0 differ). What `Store.seriesRuns` gives.
 */
export class SeriesRuns {
  starts = new Int32Array(1);
  heads = new Float64Array(0);
  count = 0;
  rows = 0;

  /** Room for `runs` runs (what it held is lost when it grows). */
  reserve(runs: number): void {
    if (this.heads.length >= runs) return;
    this.starts = new Int32Array(runs + 1);
    this.heads = new Float64Array(runs);
  }

  /** `rows` missing rows: one run (none for no row). */
  missing(rows: number): void {
    this.reserve(1);
    this.count = rows > 0 ? 1 : 0;
    this.starts[0] = 0;
    this.starts[this.count] = rows;
    this.heads[0] = Number.NaN;
    this.rows = rows;
  }

  copyFrom(other: SeriesRuns): void {
    this.reserve(other.count);
    this.starts.set(other.starts.subarray(0, other.count + 1));
    this.heads.set(other.heads.subarray(0, other.count));
    this.count = other.count;
    this.rows = other.rows;
  }

  /** The rows, oldest first, into `out[0..rows)` (NaN where missing). */
  rowsInto(out: Float64Array): void {
    const starts = this.starts;
    const heads = this.heads;
    for (let r = 0; r < this.count; r++) {
      const from = starts[r]!;
      const to = starts[r + 1]!;
      const v = heads[r]!;
      if (to - from < 16) for (let i = from; i < to; i++) out[i] = v;
      else out.fill(v, from, to);
    }
  }
}

/** Runs as they are decoded or computed: appended in row order (either way), a value like the last extending it. */
class RunBuilder {
  lengths = new Int32Array(64);
  values = new Float64Array(64);
  count = 0;

  add(v: number, n: number): void {
    const c = this.count;
    if (c > 0) {
      const last = this.values[c - 1]!;
      if (last === v ? v !== 0 || 1 / v === 1 / last : v !== v && last !== last) {
        this.lengths[c - 1]! += n;
        return;
      }
    }
    if (c === this.values.length) {
      this.lengths = grownInt32(this.lengths, c * 2);
      this.values = grownFloat64(this.values, c * 2);
    }
    this.values[c] = v;
    this.lengths[c] = n;
    this.count = c + 1;
  }

  /** Rows `rows[from..to)` (none of them -0, as a Store holds none): equal ones next to each other as one run. */
  addRows(rows: Float64Array, from: number, to: number): void {
    if (from >= to) return;
    // The first run may extend the last one; the others differ from the run before them.
    let j = from + 1;
    const first = rows[from]!;
    if (first === first) while (j < to && rows[j] === first) j++;
    else while (j < to && rows[j] !== rows[j]) j++;
    this.add(first, j - from);
    if (j === to) return;
    let c = this.count;
    if (c + to - j > this.values.length) {
      const size = Math.max(c + to - j, 2 * this.values.length);
      this.lengths = grownInt32(this.lengths, size);
      this.values = grownFloat64(this.values, size);
    }
    const values = this.values;
    const lengths = this.lengths;
    while (j < to) {
      const v = rows[j]!;
      let end = j + 1;
      if (v === v) while (end < to && rows[end] === v) end++;
      else while (end < to && rows[end] !== rows[end]) end++;
      values[c] = v;
      lengths[c++] = end - j;
      j = end;
    }
    this.count = c;
  }

  /** The runs into `out`, oldest first (`newestFirst`: they were added from the newest row back). */
  finish(out: SeriesRuns, newestFirst: boolean): void {
    const count = this.count;
    out.reserve(count);
    const starts = out.starts;
    const heads = out.heads;
    let row = 0;
    for (let r = 0; r < count; r++) {
      const from = newestFirst ? count - 1 - r : r;
      starts[r] = row;
      heads[r] = this.values[from]!;
      row += this.lengths[from]!;
    }
    starts[count] = row;
    out.count = count;
    out.rows = row;
    this.count = 0;
  }
}

const FORMULA_OPS: ReadonlySet<string> = new Set(['per_minute', 'percent_of_interval', 'ratio']);

/** A metric's group (name prefix and unit) and family (and first word of its last name part), as keys of `heads`. */
function headKeys(name: string, unit: string): [group: string, family: string] {
  const dot = name.lastIndexOf('.');
  const group = `${name.slice(0, dot)} ${unit}`;
  return [group, `${group} ${name.slice(dot + 1).split('_')[0]}`];
}

/** Records `column` as the first of its group and family (`headKeys`), unless they have one. */
function addHead(heads: Map<string, number>, [group, family]: [string, string], column: number): void {
  if (!heads.has(group)) heads.set(group, column);
  if (!heads.has(family)) heads.set(family, column);
}

/**
 * Columnar rings of every metric's samples, compressed in blocks of rows (see the encoding
 * above): memory follows what the values hold (a module never called costs a few bytes per
 * block), not capacity times metrics. Values are held at the resolution of their unit
 * (`resolutionOf`). NaN marks a missing value. Computed metrics (`formula`) and derived ones
 * (`derivedFrom`) have no column.
 */
export class Store {
  readonly capacity: number;
  /** Times before the first sample count from here (rates over the first ticks). */
  readonly originT: number;
  /** Row times by row number modulo `capacity + 1` (one more: the interval of the oldest row). */
  private readonly times: Float64Array;
  private readonly data: Columns;
  private readonly infos: MetricInfo[] = [];
  /** Bumped by every metric declared or re-declared: the catalogue changed (`revision`). */
  private declarations = 0;
  private readonly indexByName = new Map<string, number>();
  /** Metric index to column (-1: none), and back. */
  private readonly columnOf: number[] = [];
  private readonly metricOf: number[] = [];
  /**
   * The first column of each name prefix and unit, and of each family in it: the references
   * (relative mode) of columns declared next. Needed only while metrics are declared (100 modules:
   * about 100 KB of keys), so dropped at a seal when a whole block went by without a declaration,
   * and rebuilt from the columns, the same, by the next one (`heads`).
   */
  private groupHeads: Map<string, number> | null = null;
  /** `declarations` at the last seal. */
  private declarationsAtSeal = 0;
  /** The unit a column was first declared with, where a re-declaration changed it (for `heads`). */
  private readonly firstUnits = new Map<number, string>();
  /** Rows committed so far; row r is the r-th, from 0. */
  private total = 0;
  /** Values a window reads (then its present ones, sorted), and a ratio's divisors; grown as needed. */
  private scratch = new Float64Array(64);
  private divisors = new Float64Array(64);
  private readonly one = new Float64Array(1);
  /** How each metric is read (`planOf`), by metric index. */
  private readonly plans: Array<ReadPlan | undefined> = [];
  /** Row intervals (`intervalsOf`): `intervalsCount` of them from row `intervalsFirst` back, at `intervalsTotal` rows. */
  private intervals = new Float64Array(64);
  private intervalsTotal = -1;
  private intervalsFirst = -1;
  private intervalsCount = 0;
  /** The rows of the last window scanned, by the `SPAN_*` indexes (NaN: none yet). */
  private readonly span = new Float64Array(7).fill(Number.NaN);
  /** The sums of the last window scanned (`scan`), by the `ACC_*` indexes: doubles, never boxed. */
  private readonly acc = new Float64Array(6);
  private readonly a: Cursor;
  private readonly b: Cursor;
  /**
   * Whole series lately read: of reference columns by `seriesInto` (see `readWhole`), of
   * references and formula operands as runs by `seriesRuns`; and the scratch of `seriesRuns`.
   */
  private readonly wholeReferences = new WholeSeriesCache(8);
  /** The columns formulas read, as of declaration `operandsFor` (a re-declaration may change a formula). */
  private readonly operands = new Set<number>();
  private operandsFor = -1;

  constructor(capacity = 3600, originT = Date.now(), options: StoreOptions = {}) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new LoadlightError('CONFIG_INVALID', `maxSamples must be a whole number of at least 1, got ${capacity}`);
    }
    const blockRows = options.blockRows ?? (capacity >= 2048 ? 256 : Math.max(8, 2 ** Math.ceil(Math.log2(capacity / 8))));
    if (!Number.isInteger(blockRows) || blockRows < 1) {
      throw new LoadlightError('CONFIG_INVALID', `blockRows must be a whole number of at least 1, got ${blockRows}`);
    }
    this.capacity = capacity;
    this.originT = originT;
    this.times = new Float64Array(capacity + 1);
    this.data = new Columns(blockRows);
    this.a = new Cursor(this.data);
    this.b = new Cursor(this.data);
  }

  /** Number of rows held (at most `capacity`). */
  get size(): number {
    return Math.min(this.total, this.capacity);
  }

  /**
   * Bytes the store holds for its samples: the encoded blocks, the open block, times, state (the
   * few whole series and runs `seriesInto` and `seriesRuns` keep, and their scratch, until the
   * next commit, included).
   */
  get bytes(): number {
    return this.data.bytes + this.times.byteLength + this.scratch.byteLength + this.divisors.byteLength + this.intervals.byteLength + this.wholeReferences.bytes;
  }

  /** Adds a metric to the catalogue and gives it a column; returns its index. */
  declare(info: MetricInfo): number {
    const existing = this.indexByName.get(info.name);
    if (existing !== undefined) {
      const prev = this.infos[existing]!;
      if (prev.plugin !== info.plugin) {
        throw new LoadlightError(
          'METRIC_INVALID',
          `metric "${info.name}" is declared by both "${prev.plugin}" and "${info.plugin}"`,
          { plugin: info.plugin },
        );
      }
      checkFormula(info);
      const column = this.columnOf[existing]!;
      if (column >= 0 && info.unit !== prev.unit && !this.firstUnits.has(column)) this.firstUnits.set(column, prev.unit);
      this.infos[existing] = info;
      this.declarations++;
      return existing;
    }
    if (!isValidMetricName(info.name)) {
      throw new LoadlightError(
        'METRIC_INVALID',
        `metric name "${info.name}" from plugin "${info.plugin}" must be dotted lower case, like "queue.depth"`,
        { plugin: info.plugin },
      );
    }
    checkFormula(info);
    const index = this.infos.length;
    this.infos.push(info);
    this.declarations++;
    this.indexByName.set(info.name, index);
    if (info.derivedFrom || info.formula) {
      this.columnOf.push(-1);
    } else {
      // The reference (relative mode): the first column of this unit, prefix and first word of
      // the last name part (`latency_*`), else the first of this unit and prefix.
      const heads = this.heads();
      const keys = headKeys(info.name, info.unit);
      const ref = heads.get(keys[1]) ?? heads.get(keys[0]) ?? -1;
      const column = this.data.add(resolutionOf(info.unit), this.total - this.data.openBlock * this.data.blockRows, ref);
      addHead(heads, keys, column);
      this.columnOf.push(column);
      this.metricOf.push(index);
    }
    return index;
  }

  /** `groupHeads`, rebuilt after a quiet block dropped it: the columns in order, as declared. */
  private heads(): Map<string, number> {
    if (this.groupHeads !== null) return this.groupHeads;
    const heads = new Map<string, number>();
    const metricOf = this.metricOf;
    for (let c = 0; c < metricOf.length; c++) {
      const info = this.infos[metricOf[c]!]!;
      addHead(heads, headKeys(info.name, this.firstUnits.get(c) ?? info.unit), c);
    }
    return (this.groupHeads = heads);
  }

  indexOf(name: string): number | undefined {
    return this.indexByName.get(name);
  }

  info(name: string): MetricInfo | undefined {
    const i = this.indexByName.get(name);
    return i === undefined ? undefined : this.infos[i];
  }

  /** The metric catalogue, in declaration order. */
  catalogue(): readonly MetricInfo[] {
    return this.infos;
  }

  get metricCount(): number {
    return this.infos.length;
  }

  /** Changes whenever `catalogue()` does (a metric declared or re-declared): one comparison tells a reader. */
  get revision(): number {
    return this.declarations;
  }

  /** Appends one row: `row[i]` is the value of metric `i` (NaN when missing); returns its ring position. */
  commit(t: number, row: ArrayLike<number>): number {
    const r = this.total;
    this.times[r % (this.capacity + 1)] = t;
    const data = this.data;
    const metricOf = this.metricOf;
    for (let c = 0; c < data.count; c++) {
      const i = metricOf[c]!;
      data.append(c, i < row.length ? row[i]! : Number.NaN);
    }
    this.total = r + 1;
    this.wholeReferences.clear();
    if (this.total % data.blockRows === 0) {
      data.seal();
      // A whole block without a declaration: the catalogue has settled (see `groupHeads`).
      if (this.declarations === this.declarationsAtSeal) this.groupHeads = null;
      this.declarationsAtSeal = this.declarations;
    }
    data.evict(this.total - this.size);
    return r % this.capacity;
  }

  /**
   * The newest row as held (what `valueAt(name, newest)` reads, NaN where missing) into
   * `out[index]` for every metric with a column of its own, in one pass; computed and derived
   * metrics get NaN. False (and `out` untouched) before the first commit.
   */
  latestRowInto(out: Float64Array): boolean {
    if (this.total === 0) return false;
    const newest = this.data.newest;
    const columnOf = this.columnOf;
    const count = Math.min(out.length, columnOf.length);
    for (let i = 0; i < count; i++) {
      const c = columnOf[i]!;
      out[i] = c >= 0 ? newest[c]! : Number.NaN;
    }
    return true;
  }

  private columnOfName(name: string): number {
    const index = this.indexByName.get(name);
    return index === undefined ? -1 : this.columnOf[index]!;
  }

  /** The column of a formula's operand: a full name, or a last part beside `name`. */
  private operand(name: string, of: string): number {
    return this.columnOfName(formulaOperand(name, of));
  }

  /**
   * The values of metric `index` in `count` rows from row `first` back, into `out[0..count)`
   * (NaN where missing; a computed metric computed); false when it has none (unknown, no
   * column, an operand missing).
   */
  private read(index: number | undefined, first: number, count: number, out: Float64Array): boolean {
    if (index === undefined) return false;
    const plan = this.planOf(index);
    const newest = this.total - 1;
    const op = plan.op;
    if (op === null) {
      const column = plan.column;
      if (column < 0) return false;
      this.a.seek(column, first, newest);
      this.a.read(out, 0, count);
      return true;
    }
    const of = plan.of;
    if (of < 0) return false;
    let second: Float64Array;
    if (op === 'ratio') {
      const by = plan.by;
      if (by < 0) return false;
      second = this.scratchOf(1, count);
      this.b.seek(by, first, newest);
      this.b.read(second, 0, count);
    } else {
      second = this.intervalsOf(first, count);
    }
    this.a.seek(of, first, newest);
    this.a.read(out, 0, count);
    applyFormula(op, plan.unit, out, second, count);
    return true;
  }

  /**
   * Where metric `index`'s values come from, resolved once: metric infos come from many plugins
   * in many shapes, and a formula's operands are names; a plan has one shape and holds columns.
   * Rebuilt when the metric is declared again or a metric is added (an operand may appear).
   */
  private planOf(index: number): ReadPlan {
    const info = this.infos[index]!;
    const plan = this.plans[index];
    if (plan !== undefined && plan.info === info && plan.metrics === this.infos.length) return plan;
    const formula = info.formula ?? null;
    const made = new ReadPlan(
      info,
      this.infos.length,
      info.derivedFrom ? this.columnOfName(info.derivedFrom) : (this.columnOf[index] ?? -1),
      formula === null ? null : formula.op,
      formula === null ? -1 : this.operand(info.name, formula.of),
      formula !== null && formula.op === 'ratio' ? this.operand(info.name, formula.by) : -1,
    );
    this.plans[index] = made;
    return made;
  }

  /**
   * Each row's interval, `count` rows from row `first` back: since the row before it (the first
   * row ever: since the origin). Kept while no row is committed: the rules read many metrics
   * computed per interval over the same rows.
   */
  private intervalsOf(first: number, count: number): Float64Array {
    let out = this.intervals;
    if (this.intervalsTotal === this.total && this.intervalsFirst === first && this.intervalsCount >= count) return out;
    if (out.length < count) out = this.intervals = new Float64Array(Math.min(this.capacity, Math.max(count, out.length * 2)));
    const times = this.times;
    const slots = this.capacity + 1;
    let slot = first % slots;
    for (let j = 0; j < count; j++) {
      const before = slot === 0 ? slots - 1 : slot - 1;
      out[j] = times[slot]! - (first - j === 0 ? this.originT : times[before]!);
      slot = before;
    }
    this.intervalsTotal = this.total;
    this.intervalsFirst = first;
    this.intervalsCount = count;
    return out;
  }

  /** Scratch array `which` (0: values, 1: divisors) of at least `count` numbers. */
  private scratchOf(which: 0 | 1, count: number): Float64Array {
    let scratch = which === 0 ? this.scratch : this.divisors;
    if (scratch.length < count) {
      scratch = new Float64Array(Math.min(this.capacity, Math.max(count, scratch.length * 2)));
      if (which === 0) this.scratch = scratch;
      else this.divisors = scratch;
    }
    return scratch;
  }

  /** Row of a ring position (as returned by `commit`), or -1 when it holds no row now. */
  private rowAt(position: number): number {
    if (!Number.isInteger(position) || position < 0 || position >= this.capacity || this.total === 0) return -1;
    const newest = this.total - 1;
    const back = ((((newest % this.capacity) - position) % this.capacity) + this.capacity) % this.capacity;
    return back < this.size ? newest - back : -1;
  }

  /** Value at a ring position (as returned by `commit`), null when missing. */
  valueAt(name: string, position: number): number | null {
    const r = this.rowAt(position);
    return r < 0 ? null : this.valueOfRow(name, r);
  }

  private valueOfRow(name: string, r: number): number | null {
    const index = this.indexByName.get(name);
    if (index === undefined || this.infos[index]!.derivedFrom) return null;
    const one = this.one;
    if (!this.read(index, r, 1, one)) return null;
    const v = one[0]!;
    return v !== v ? null : v;
  }

  /**
   * When the interval of the oldest row held begins: the time of the row before it (still kept
   * for this), or `originT` when it is the first row ever committed (or none is).
   */
  timeBeforeFirst(): number {
    const first = this.total - this.size;
    return first === 0 ? this.originT : this.times[(first - 1) % (this.capacity + 1)]!;
  }

  latestTime(): number | null {
    return this.total === 0 ? null : this.times[(this.total - 1) % (this.capacity + 1)]!;
  }

  latest(name: string): number | null {
    return this.total === 0 ? null : this.valueOfRow(name, this.total - 1);
  }

  /** Sample times, oldest first. */
  timeSeries(): number[] {
    const size = this.size;
    const first = this.total - size;
    const slots = this.capacity + 1;
    const out = new Array<number>(size);
    for (let i = 0; i < size; i++) out[i] = this.times[(first + i) % slots]!;
    return out;
  }

  /** A metric's values, oldest first, null where missing (always null for a derived metric). */
  series(name: string): Array<number | null> {
    const size = this.size;
    const out = new Array<number | null>(size);
    const values = new Float64Array(size);
    if (this.seriesInto(name, values) === 0) return out.fill(null);
    for (let i = 0; i < size; i++) {
      const v = values[i]!;
      out[i] = v !== v ? null : v;
    }
    return out;
  }

  /**
   * `series()` without a JavaScript array: the values, oldest first, into `out[0..size)` (NaN
   * where missing); returns `size`, or 0 (and writes nothing) when the metric has no values
   * (unknown, derived, an operand missing). `out` must hold `size` numbers.
   */
  seriesInto(name: string, out: Float64Array): number {
    const size = this.size;
    if (out.length < size) throw new RangeError(`seriesInto: out holds ${out.length} numbers, the store ${size} rows`);
    const index = this.indexByName.get(name);
    if (index === undefined || size === 0) return 0;
    const info = this.infos[index]!;
    if (info.derivedFrom) return 0;
    const column = info.formula ? -1 : this.columnOf[index]!;
    if (column >= 0) this.readWhole(column, size, out);
    else if (!this.read(index, this.total - 1, size, out)) return 0;
    out.subarray(0, size).reverse(); // read newest first
    return size;
  }

  /**
   * Column `column`'s `size` newest values into `out`, newest first. A column others are
   * relative to is kept (a few, the latest read) while no row is committed, so that the columns
   * read after it (a module's fields, in catalogue order) apply their deltas to its values rather
   * than decode it again.
   */
  private readWhole(column: number, size: number, out: Float64Array): void {
    const newest = this.total - 1;
    const data = this.data;
    const ref = data.ref[column]!;
    const cursor = this.a;
    cursor.referenceValues = ref >= 0 ? this.wholeReferences.get(ref, this.total, size) : null;
    try {
      cursor.seek(column, newest, newest);
      cursor.read(out, 0, size);
    } finally {
      cursor.referenceValues = null;
    }
    if (data.references.has(column)) this.wholeReferences.put(column, this.total, out, size);
  }

  /**
   * `series()` as runs (see `SeriesRuns`) into `out`: the same values, a run of the encoding (a
   * value repeated, missing rows) read at once rather than row by row. A computed metric is
   * computed from its operands' runs, as `applyFormula` computes it (to the bit): per run where
   * the result is the same on every row, per row where it changes with the interval. Returns
   * `size`, or 0 (and `out` untouched) when the metric has no values (unknown, derived, an
   * operand missing).
   */
  seriesRuns(name: string, out: SeriesRuns): number {
    const size = this.size;
    const index = this.indexByName.get(name);
    if (index === undefined || size === 0) return 0;
    const info = this.infos[index]!;
    if (info.derivedFrom) return 0;
    if (!info.formula) {
      const column = this.columnOf[index]!;
      this.columnRuns(column, size, out);
      return size;
    }
    const plan = this.planOf(index);
    const op = plan.op!;
    if (plan.of < 0 || (op === 'ratio' && plan.by < 0)) return 0;
    const scratch = this.wholeReferences;
    scratch.hold();
    const of = this.operandRuns(plan.of, size, scratch.runsOf);
    const { scale, rounded } = resolutionOf(plan.unit);
    const builder = scratch.builder;
    builder.count = 0;
    const starts = of.starts;
    const heads = of.heads;
    if (op === 'ratio') {
      const by = this.operandRuns(plan.by, size, scratch.runsBy);
      // Where neither operand changes, neither does their ratio.
      let a = 0;
      let b = 0;
      let row = 0;
      while (row < size) {
        const endA = starts[a + 1]!;
        const endB = by.starts[b + 1]!;
        const end = endA < endB ? endA : endB;
        const d = by.heads[b]!;
        const v = d !== 0 ? heads[a]! / d : Number.NaN;
        builder.add(rounded ? toSteps(v, scale) : v, end - row);
        row = end;
        if (endA === end) a++;
        if (endB === end) b++;
      }
    } else {
      const per = op === 'per_minute' ? 60_000 : 100;
      const intervals = this.intervalRows(size);
      const positive = scratch.positive;
      for (let r = 0; r < of.count; r++) {
        const x = heads[r]!;
        const from = starts[r]!;
        const to = starts[r + 1]!;
        if (x !== x) {
          builder.add(Number.NaN, to - from);
        } else if (x === 0 && 1 / x > 0 && positive[to]! - positive[from]! === to - from) {
          // 0 per any interval is 0.
          builder.add(0, to - from);
        } else {
          for (let j = from; j < to; j++) {
            const d = intervals[size - 1 - j]!;
            const v = d > 0 ? (x * per) / d : Number.NaN;
            builder.add(rounded ? toSteps(v, scale) : v, 1);
          }
        }
      }
    }
    builder.finish(out, false);
    return size;
  }

  /** Column `column`'s `size` newest values as runs, oldest first (the references kept as `readWhole` keeps them). */
  private columnRuns(column: number, size: number, out: SeriesRuns): void {
    const newest = this.total - 1;
    const data = this.data;
    const ref = data.ref[column]!;
    const cursor = this.a;
    const scratch = this.wholeReferences;
    scratch.hold();
    if (scratch.rows.length < size) scratch.rows = new Float64Array(size);
    const rows = scratch.rows;
    const builder = scratch.builder;
    builder.count = 0;
    const referenceRuns = ref >= 0 ? this.wholeReferences.getRuns(ref, this.total) : null;
    if (referenceRuns !== null && referenceRuns.rows === size) {
      cursor.referenceRuns = referenceRuns;
      cursor.referenceRun = referenceRuns.count - 1;
    } else {
      cursor.referenceValues = ref >= 0 ? this.wholeReferences.get(ref, this.total, size) : null;
    }
    try {
      cursor.seek(column, newest, newest);
      cursor.readRuns(builder, rows, size);
    } finally {
      cursor.referenceValues = null;
      cursor.referenceRuns = null;
    }
    builder.finish(out, true);
    // References and formula operands are read again soon (by the columns and computed metrics after them).
    if (data.references.has(column) || this.operandColumns().has(column)) this.wholeReferences.putRuns(column, this.total, out);
  }

  /** A formula operand's runs (lately read ones kept, see `seriesRuns`), copied into `into`. */
  private operandRuns(column: number, size: number, into: SeriesRuns): SeriesRuns {
    const kept = this.wholeReferences.getRuns(column, this.total);
    if (kept !== null && kept.rows === size) {
      into.copyFrom(kept);
    } else {
      this.columnRuns(column, size, into);
    }
    return into;
  }

  /** The columns formulas read (`seriesRuns` keeps their runs for the computed metrics read after them). */
  private operandColumns(): Set<number> {
    if (this.operandsFor === this.declarations) return this.operands;
    this.operands.clear();
    for (let i = 0; i < this.infos.length; i++) {
      const formula = this.infos[i]!.formula;
      if (!formula) continue;
      const plan = this.planOf(i);
      if (plan.of >= 0) this.operands.add(plan.of);
      if (plan.by >= 0) this.operands.add(plan.by);
    }
    this.operandsFor = this.declarations;
    return this.operands;
  }

  /**
   * The `size` newest rows' intervals, newest first (`intervalsOf`: row `total - 1 - i` at i),
   * and in the scratch how many of the oldest i rows have a positive one (`positive[i]`).
   */
  private intervalRows(size: number): Float64Array {
    const intervals = this.intervalsOf(this.total - 1, size);
    const scratch = this.wholeReferences;
    if (scratch.positiveTotal === this.total && scratch.positiveSize === size) return intervals;
    if (scratch.positive.length < size + 1) scratch.positive = new Int32Array(size + 1);
    const positive = scratch.positive;
    for (let i = 0; i < size; i++) positive[i + 1] = positive[i]! + (intervals[size - 1 - i]! > 0 ? 1 : 0);
    scratch.positiveTotal = this.total;
    scratch.positiveSize = size;
    return intervals;
  }

  /**
   * Statistics over the samples of the last `seconds` up to `now` (default: the newest sample):
   * a sample at time t is in the window when `now - seconds*1000 < t <= now`.
   */
  window(name: string, seconds: number, now?: number): WindowStats {
    const n = this.scan(name, seconds, now, true);
    if (n === 0) return windowStats(0, null, null, null, null, null, 0, null, null);
    const acc = this.acc;
    const sum = acc[ACC_SUM]!;
    const sorted = this.scratch.subarray(0, n).sort();
    return windowStats(n, sum / n, sorted[0]!, sorted[n - 1]!, quantileSorted(sorted, n, 0.95), acc[ACC_LAST]!, sum, this.rate(), this.slope(n));
  }

  /**
   * One figure of `window(name, seconds, now)` (the same value, null where it is null), without
   * building the statistics object or sorting unless the figure needs it: what the rules read.
   */
  windowValue(name: string, seconds: number, now: number | undefined, aggregate: MetricAggregate): number | null {
    const n = this.scan(name, seconds, now, aggregate === 'slope_per_minute');
    if (n === 0) return null;
    const values = this.scratch;
    switch (aggregate) {
      case 'mean':
        return this.acc[ACC_SUM]! / n;
      case 'last':
        return this.acc[ACC_LAST]!;
      case 'rate_per_minute':
        return this.rate();
      case 'slope_per_minute':
        return this.slope(n);
      case 'min': {
        // Math.min orders -0 before 0, as the sort does.
        let min = values[0]!;
        for (let i = 1; i < n; i++) min = Math.min(min, values[i]!);
        return min;
      }
      case 'max': {
        let max = values[0]!;
        for (let i = 1; i < n; i++) max = Math.max(max, values[i]!);
        return max;
      }
      case 'p95':
        return quantileSorted(values.subarray(0, n).sort(), n, 0.95);
    }
  }

  /** `ratePerMinute` of the last `scan`. */
  private rate(): number | null {
    const spanMs = this.acc[ACC_SPAN]!;
    return spanMs > 0 ? (this.acc[ACC_SUM]! * 60_000) / spanMs : null;
  }

  /** `slopePerMinute` of the last `scan` (`n` values). */
  private slope(n: number): number | null {
    const acc = this.acc;
    const st = acc[ACC_ST]!;
    const denominator = n * acc[ACC_STT]! - st * st;
    return n >= 2 && denominator !== 0 ? (n * acc[ACC_STV]! - st * acc[ACC_SUM]!) / denominator : null;
  }

  /**
   * The window's present values into `scratch[0..n)` (newest first) and its sums into `acc`
   * (the slope's only `withSlope`: a tick's rules read means); returns `n` (0: no value, the
   * metric unknown or without values). Numbers stay doubles.
   */
  private scan(name: string, seconds: number, now: number | undefined, withSlope: boolean): number {
    const end = now ?? this.latestTime() ?? 0;
    const from = end - seconds * 1000;
    const times = this.times;
    const slots = this.capacity + 1;
    const span = this.span;
    // The rows of the window: the same for every metric read at one time (the rules read tens).
    if (span[SPAN_TOTAL] !== this.total || span[SPAN_END] !== end || span[SPAN_FROM] !== from) {
      // The rows the window reads, newest first: from the first at or before `end` to the row
      // before the first at or before `from` (rows after `end` among them are skipped).
      const oldest = this.total - this.size;
      let first = -1;
      let firstSlot = 0;
      let previousT = Number.NaN;
      let r = this.total - 1;
      let slot = r % slots;
      for (; r >= oldest; r--, slot = slot === 0 ? slots - 1 : slot - 1) {
        const t = times[slot]!;
        if (t > end) continue;
        if (t <= from) {
          previousT = t;
          break;
        }
        if (first < 0) {
          first = r;
          firstSlot = slot;
        }
      }
      span[SPAN_TOTAL] = this.total;
      span[SPAN_END] = end;
      span[SPAN_FROM] = from;
      span[SPAN_FIRST] = first;
      span[SPAN_FIRST_SLOT] = firstSlot;
      span[SPAN_COUNT] = first < 0 ? 0 : first - r;
      span[SPAN_PREVIOUS] = previousT;
    }
    const first = span[SPAN_FIRST]!;
    const count = span[SPAN_COUNT]!;
    const previousT = span[SPAN_PREVIOUS]!;
    let slot = span[SPAN_FIRST_SLOT]!;
    const values = count > 0 ? this.scratchOf(0, count) : this.scratch;
    if (count === 0 || !this.read(this.indexByName.get(name), first, count, values)) return 0;
    let n = 0;
    let sum = 0;
    let last = Number.NaN;
    // slope accumulators, t in minutes relative to `end`
    let st = 0;
    let stt = 0;
    let stv = 0;
    if (withSlope) {
      for (let j = 0; j < count; j++, slot = slot === 0 ? slots - 1 : slot - 1) {
        const v = values[j]!;
        if (v !== v) continue;
        const t = times[slot]!;
        if (t > end) continue;
        if (n === 0) last = v;
        values[n++] = v; // present values packed to the front, for the sort
        sum += v;
        const tm = (t - end) / 60_000;
        st += tm;
        stt += tm * tm;
        stv += tm * v;
      }
    } else {
      // The same loop without the slope (most figures do not need it).
      for (let j = 0; j < count; j++, slot = slot === 0 ? slots - 1 : slot - 1) {
        const v = values[j]!;
        if (v !== v || times[slot]! > end) continue;
        if (n === 0) last = v;
        values[n++] = v;
        sum += v;
      }
    }
    if (n === 0) return 0;
    const acc = this.acc;
    acc[ACC_SUM] = sum;
    acc[ACC_LAST] = last;
    acc[ACC_ST] = st;
    acc[ACC_STT] = stt;
    acc[ACC_STV] = stv;
    acc[ACC_SPAN] = end - Math.max(previousT === previousT ? previousT : this.originT, from);
    return n;
  }
}

function checkFormula(info: MetricInfo): void {
  const formula: MetricFormula | undefined = info.formula;
  if (formula === undefined) return;
  const ok =
    typeof formula === 'object' &&
    formula !== null &&
    FORMULA_OPS.has(formula.op) &&
    typeof formula.of === 'string' &&
    formula.of.length > 0 &&
    (formula.op !== 'ratio' || (typeof formula.by === 'string' && formula.by.length > 0)) &&
    !info.derivedFrom;
  if (!ok) {
    throw new LoadlightError(
      'METRIC_INVALID',
      `metric "${info.name}" from plugin "${info.plugin}" has a bad formula ${JSON.stringify(formula)}: expected ` +
        '{ op: "per_minute" | "percent_of_interval", of } or { op: "ratio", of, by }, and no derivedFrom',
      { plugin: info.plugin },
    );
  }
}
