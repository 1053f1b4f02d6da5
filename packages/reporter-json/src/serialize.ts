/**
 * The session file's text, written straight into byte chunks: the same bytes as
 * `JSON.stringify(profile, null, pretty ? 2 : undefined) + '\n'`, faster and without one huge
 * string. Almost all of a session is its sample series (thousands of numbers per metric: dense
 * arrays, or the arrays of a sparse `{ at, v }` or run `{ runs, v }` series); those are formatted
 * here, one byte at a time. The rest of the document (catalogue, statistics, alerts...) is small
 * and goes through `JSON.stringify`.
 */

/** Bytes per chunk handed to the writer. */
export const CHUNK_BYTES = 1 << 20;

/**
 * Longest text of one element of a series: `String(v)` of a double is at most 24 characters
 * (`-2.2250738585072014e-308`), `null` is 4.
 */
const MAX_ELEMENT = 24;

/**
 * A series whose numbers are mostly slow ones (see `formatNumber`: computed doubles such as
 * 1/3) is left to JSON.stringify from the point this shows (it formats those faster than String()
 * one by one); a few slow ones among fast ones are written with String().
 */
const SLOW_MIN = 32;

const NULL = [110, 117, 108, 108] as const;
const COMMA = 44;
const NEWLINE = 10;

/**
 * Writes the JSON text of `v` at `pos` when it is a whole number or a decimal of at most six
 * places (and under 1e15 / 1e9 in magnitude); returns the new position, or -1 when it is not
 * (a double such as 1/3, NaN, an infinity: the caller formats those with `String`).
 *
 * Why the text equals `String(v)`: `String` writes the shortest decimal that reads back as `v`.
 * When `k / 1e6` reads back as `v`, the decimal k * 10^-6 (trailing zeros dropped, at most 15
 * significant digits as k < 1e15) reads back as `v`; two decimals of at most 15 significant
 * digits never read back as the same double, so no shorter or other decimal does, and `String`
 * writes exactly this one (in plain notation: 1e-6 <= |v| < 1e21).
 */
export function formatNumber(buf: Uint8Array, pos: number, v: number): number {
  let x = v;
  if (x < 0) {
    x = -x;
    buf[pos++] = 45; // '-'
  }
  if (!(x < 1e15)) return -1; // NaN, infinities, large values
  const whole = Math.floor(x);
  if (x === whole) return formatWhole(buf, pos, whole); // -0 too: JSON writes it as 0
  if (x >= 1e9) return -1;
  const k = Math.round(x * 1e6);
  if (k / 1e6 !== x) return -1;
  // x is the double nearest k / 1e6 and not whole: no whole number lies between them, so the
  // whole part of k / 1e6 is floor(x).
  const fraction = (k - whole * 1e6) | 0; // 1..999999, as x is not whole
  pos = writeDigits(buf, pos, whole | 0); // whole < 1e9
  buf[pos++] = 46; // '.'
  return writeFraction(buf, pos, fraction);
}

/**
 * Writes an int32 0 <= x < 1e9 in decimal; returns the new position. Takes and returns small
 * integers only, so nothing is boxed and V8 inlines it into the loops below.
 */
function writeDigits(buf: Uint8Array, pos: number, x: number): number {
  const length = x < 10 ? 1 : x < 100 ? 2 : x < 1e3 ? 3 : x < 1e4 ? 4 : x < 1e5 ? 5 : x < 1e6 ? 6 : x < 1e7 ? 7 : x < 1e8 ? 8 : 9;
  let at = pos + length;
  do {
    const q = (x / 10) | 0;
    buf[--at] = 48 + x - q * 10;
    x = q;
  } while (x !== 0);
  return pos + length;
}

/**
 * The digits of 0..999 as three bytes each (`THREE[3 i..3 i + 2]`, leading zeros kept), and how
 * many of them are left once trailing zeros are dropped (`SIGNIFICANT[i]`: 0 for 0).
 */
const THREE = new Uint8Array(3000);
const SIGNIFICANT = new Uint8Array(1000);
for (let i = 0; i < 1000; i++) {
  THREE[3 * i] = 48 + ((i / 100) | 0);
  THREE[3 * i + 1] = 48 + (((i / 10) | 0) % 10);
  THREE[3 * i + 2] = 48 + (i % 10);
  SIGNIFICANT[i] = i === 0 ? 0 : i % 100 === 0 ? 1 : i % 10 === 0 ? 2 : 3;
}

/**
 * Writes the six decimal places of `fraction` (1..999999, millionths) without trailing zeros;
 * returns the new position. By thousands: one division, then table look-ups (a value held in
 * ms at 1 us, the most common fraction, has at most three places). It may write the zeros
 * after the returned position, never beyond the sixth place (callers reserve a number's width).
 */
function writeFraction(buf: Uint8Array, pos: number, fraction: number): number {
  const high = (fraction / 1000) | 0;
  const low = fraction - high * 1000;
  let at = 3 * high;
  buf[pos] = THREE[at]!;
  buf[pos + 1] = THREE[at + 1]!;
  buf[pos + 2] = THREE[at + 2]!;
  if (low === 0) return pos + SIGNIFICANT[high]!; // high is 1..999 here
  at = 3 * low;
  buf[pos + 3] = THREE[at]!;
  buf[pos + 4] = THREE[at + 1]!;
  buf[pos + 5] = THREE[at + 2]!;
  return pos + 3 + SIGNIFICANT[low]!;
}

/** Writes a whole number 0 <= k < 1e15 in decimal; returns the new position. */
function formatWhole(buf: Uint8Array, pos: number, k: number): number {
  if (k >= 1e9) {
    const high = Math.floor(k / 1e9);
    let low = k - high * 1e9;
    pos = formatWhole(buf, pos, high);
    for (let at = pos + 8; at >= pos; at--) {
      const q = (low / 10) | 0;
      buf[at] = 48 + low - q * 10;
      low = q;
    }
    return pos + 9;
  }
  return writeDigits(buf, pos, k | 0);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** JSON.stringify calls `toJSON(key)` of such a value, with the key of where it stands. */
function hasToJSON(value: unknown): boolean {
  return ((typeof value === 'object' && value !== null) || typeof value === 'bigint') && typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

/**
 * The parts walked here rather than by JSON.stringify: the document, `samples` and
 * `samples.values` (objects), `samples.t` and each `samples.values[name]` (series: an array, or
 * a sparse series' object whose members `at` and `v` are arrays). Anything there that
 * JSON.stringify would treat specially (a `toJSON`, a class instance) sends the whole document to
 * JSON.stringify instead, so the output never differs from it.
 */
function walkable(profile: unknown): boolean {
  if (!isPlainObject(profile) || hasToJSON(profile)) return false;
  for (const key of Object.keys(profile)) {
    const value = profile[key];
    if (hasToJSON(value)) return false;
    if (key !== 'samples' || !isPlainObject(value)) continue;
    for (const part of Object.keys(value)) {
      const inner = value[part];
      if (hasToJSON(inner)) return false;
      if (part !== 'values' || !isPlainObject(inner)) continue;
      for (const name of Object.keys(inner)) {
        const series = inner[name];
        if (hasToJSON(series)) return false;
        if (!isPlainObject(series)) continue;
        for (const member of Object.keys(series)) if (hasToJSON(series[member])) return false;
      }
    }
  }
  return true;
}

class ChunkWriter {
  /** Filled chunks not yet handed out. */
  readonly ready: Uint8Array[] = [];
  private buf: Buffer = Buffer.allocUnsafe(0);
  pos = 0;

  /** The current chunk, with room for `bytes` more from `pos` (a full one is handed out first). */
  room(bytes: number): Buffer {
    if (this.pos + bytes > this.buf.length) {
      this.flush();
      this.buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
    }
    return this.buf;
  }

  flush(): void {
    if (this.pos > 0) this.ready.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(0);
    this.pos = 0;
  }

  /** Empty, for the next document (chunks not handed out are dropped). */
  clear(): void {
    this.ready.length = 0;
    this.pos = 0;
    this.flush();
  }

  ascii(text: string): void {
    const buf = this.room(text.length);
    let pos = this.pos;
    for (let i = 0; i < text.length; i++) buf[pos++] = text.charCodeAt(i);
    this.pos = pos;
  }

  /** Any text (keys, strings from JSON.stringify), as UTF-8. */
  text(text: string): void {
    // At most 3 bytes per UTF-16 unit; a long text is measured rather than over-reserved.
    const buf = this.room(text.length > 65_536 ? Buffer.byteLength(text) : text.length * 3);
    this.pos += buf.write(text, this.pos, 'utf8');
  }
}

/** JSON.stringify with `gap`, its lines indented to stand at `indent`. */
function stringifyAt(value: unknown, gap: string, indent: string): string | undefined {
  const text = JSON.stringify(value, null, gap);
  // JSON text holds no raw newline but those between lines: strings escape theirs.
  return gap === '' || indent === '' || text === undefined ? text : text.replaceAll('\n', `\n${indent}`);
}

/** How a walked member is written: by a generator (chunks handed out as they fill) or at once. */
type Walker = Generator<Uint8Array> | (() => void);

/** How many of the last compact series `SessionSerializer.series` keeps to copy from. */
const RECENT = 8;

class SessionSerializer {
  readonly out = new ChunkWriter();
  /** JSON.stringify's `gap` of the document being written. */
  private gap = '';
  /**
   * The last compact series written, their kind (`tagged`, see `numberStretch`) and their bytes
   * (in chunks never written again): a series equal to one of them is copied, not formatted.
   * In a full ring a fifth of the numbers repeat a series just written (a module's metrics
   * present on the same rows share their `at`; a call per tick makes its latency percentiles equal).
   */
  private readonly recent: Array<{ values: unknown[]; tagged: boolean; bytes: Uint8Array }> = [];
  private nextRecent = 0;

  *chunks(profile: unknown, gap: string): Generator<Uint8Array> {
    this.gap = gap;
    const out = this.out;
    if (!walkable(profile)) {
      const text = JSON.stringify(profile, null, this.gap);
      // A value JSON cannot hold gives "undefined\n", as `${JSON.stringify(value)}\n` does.
      out.text(`${text}\n`);
      out.flush();
      yield* out.ready.splice(0);
      return;
    }
    const document = profile as Record<string, unknown>;
    yield* this.object(document, '', (key, value, indent) => {
      if (key === 'samples' && isPlainObject(value)) {
        return this.object(value, indent, (part, inner, innerIndent) => {
          if (part === 't' && Array.isArray(inner)) return () => this.series(inner, innerIndent);
          if (part === 'values' && isPlainObject(inner)) {
            return this.object(inner, innerIndent, (_name, series, seriesIndent) => {
              if (Array.isArray(series)) return () => this.series(series, seriesIndent);
              // A sparse series: its arrays (`at`, `v`) walked, anything else stringified.
              if (isPlainObject(series)) {
                return this.object(series, seriesIndent, (key, member, memberIndent) => (Array.isArray(member) ? () => this.series(member, memberIndent, key === 'at' || key === 'runs') : undefined));
              }
              return undefined;
            });
          }
          return undefined;
        });
      }
      return undefined;
    });
    out.ascii('\n');
    out.flush();
    yield* out.ready.splice(0);
  }

  /** Ready for the next document: no chunk or series of this one kept. */
  clear(): void {
    this.out.clear();
    this.recent.length = 0;
    this.nextRecent = 0;
  }

  /**
   * Writes a plain object member by member, as JSON.stringify does (keys in `Object.keys`
   * order, members whose value JSON cannot hold left out). `walk` says how to write a member
   * itself (a generator, so that chunks are handed out as they fill, or a function writing it at
   * once) or returns undefined to leave it to JSON.stringify.
   */
  private *object(
    value: Record<string, unknown>,
    indent: string,
    walk: (key: string, member: unknown, indent: string) => Walker | undefined,
  ): Generator<Uint8Array> {
    const out = this.out;
    const inner = indent + this.gap;
    const open = this.gap === '' ? '' : `\n${inner}`;
    const colon = this.gap === '' ? ':' : ': ';
    let first = true;
    out.ascii('{');
    for (const key of Object.keys(value)) {
      const member = value[key];
      const walker = walk(key, member, inner);
      let text: string | undefined;
      if (walker === undefined) {
        text = stringifyAt(member, this.gap, inner);
        if (text === undefined) continue; // undefined, a function, a symbol: left out
      }
      if (!first) out.ascii(',');
      first = false;
      out.ascii(open);
      out.text(JSON.stringify(key));
      out.ascii(colon);
      if (text !== undefined) out.text(text);
      else if (typeof walker === 'function') walker();
      else yield* walker!;
      if (out.ready.length > 0) yield* out.ready.splice(0);
    }
    if (!first && this.gap !== '') out.ascii(`\n${indent}`);
    out.ascii('}');
  }

  /** Writes an array of numbers and nulls; leaves any other array, or the rest of a slow one, to JSON.stringify. */
  private series(values: unknown[], indent: string, whole = false): void {
    const out = this.out;
    const n = values.length;
    if (n === 0) {
      out.ascii('[]');
      return;
    }
    // Which stretch loop reads a compact array (see `numberStretch`).
    const tagged = this.gap === '' && (whole || values.includes(null));
    if (this.gap === '') {
      const bytes = this.written(values, tagged);
      if (bytes !== null) {
        out.room(bytes.length).set(bytes, out.pos);
        out.pos += bytes.length;
        return;
      }
    }
    const inner = indent + this.gap;
    const separator = this.gap === '' ? ',' : `,\n${inner}`;
    const buf = out.room(2 + n * (MAX_ELEMENT + separator.length) + indent.length + 2);
    const start = out.pos;
    let pos = start;
    buf[pos++] = 91; // '['
    if (this.gap !== '') {
      buf[pos++] = NEWLINE;
      for (let c = 0; c < inner.length; c++) buf[pos++] = 32;
    }
    let slow = 0;
    let i = 0;
    for (;;) {
      if (this.gap === '') {
        // The common elements (null, whole numbers, short decimals) in a tight loop.
        pos = tagged ? taggedStretch(buf, pos, values, i, n) : numberStretch(buf, pos, values, i, n);
        i = stretchEnd;
        if (i === n) break;
      }
      if (i > 0) {
        buf[pos++] = COMMA;
        for (let c = 1; c < separator.length; c++) buf[pos++] = separator.charCodeAt(c);
      }
      const v = values[i];
      if (v === null) {
        buf[pos] = NULL[0];
        buf[pos + 1] = NULL[1];
        buf[pos + 2] = NULL[2];
        buf[pos + 3] = NULL[3];
        pos += 4;
      } else if (typeof v !== 'number') {
        // Not a number: JSON.stringify writes the whole array (toJSON keys, holes and all).
        out.pos = start;
        out.text(stringifyAt(values, this.gap, indent)!);
        return;
      } else {
        const next = formatNumber(buf, pos, v);
        if (next >= 0) {
          pos = next;
        } else if (++slow >= SLOW_MIN && slow * 2 > i) {
          // Mostly slow numbers so far: JSON.stringify writes the rest. Its text is '[' followed
          // by the same elements and closing as the rest of this array.
          const rest = stringifyAt(values.slice(i), this.gap, indent)!;
          if (i === 0) {
            out.pos = start;
            out.text(rest);
          } else {
            // Back to just after element i - 1; the rest's '[' becomes the ',' between them.
            out.pos = pos - separator.length;
            out.ascii(',');
            out.text(rest.slice(1));
          }
          return;
        } else {
          const text = Number.isFinite(v) ? String(v) : 'null';
          for (let c = 0; c < text.length; c++) buf[pos++] = text.charCodeAt(c);
        }
      }
      if (++i === n) break;
    }
    if (this.gap !== '') {
      buf[pos++] = NEWLINE;
      for (let c = 0; c < indent.length; c++) buf[pos++] = 32;
    }
    buf[pos++] = 93; // ']'
    out.pos = pos;
    if (this.gap === '') {
      this.recent[this.nextRecent] = { values, tagged, bytes: buf.subarray(start, pos) };
      this.nextRecent = (this.nextRecent + 1) % RECENT;
    }
  }

  /** The bytes of a recent series of the same kind equal to `values`, element by element, or null. */
  private written(values: unknown[], tagged: boolean): Uint8Array | null {
    const recent = this.recent;
    for (let r = 0; r < recent.length; r++) {
      const seen = recent[r]!;
      if (seen.tagged !== tagged || seen.values.length !== values.length) continue;
      if (tagged ? sameTagged(seen.values, values) : sameNumbers(seen.values, values)) return seen.bytes;
    }
    return null;
  }
}

/**
 * Whether two arrays of numbers hold equal elements (`===`: their JSON is the same; -0 and 0 are
 * both written 0, and NaN, never equal, is not matched). Two copies, as `numberStretch`, so that
 * reading unboxed doubles boxes none.
 */
function sameNumbers(a: unknown[], b: unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `sameNumbers`, for arrays that hold nulls or whole numbers. */
function sameTagged(a: unknown[], b: unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Where the last stretch writer stopped: the index of the element it left, or the length. */
let stretchEnd = 0;

/**
 * Writes a compact series' element at `pos` when it is null or a number `formatNumber` takes;
 * returns the new position, or -1 (nothing written). `formatNumber`'s common case (whole, or at
 * most six decimals under 1e9) is written out with the int32 writers so that V8 inlines all of it
 * into the stretch loops below: the elements are most of the file, and a call per element would
 * box its number.
 */
function writeElement(buf: Uint8Array, pos: number, v: unknown): number {
  if (v === null) {
    buf[pos] = 110;
    buf[pos + 1] = 117;
    buf[pos + 2] = 108;
    buf[pos + 3] = 108;
    return pos + 4;
  }
  if (typeof v !== 'number') return -1;
  const w = v | 0;
  // A whole number (-0 too, written 0 as JSON writes it).
  if (w === v && w >= 0 && w < 1e9) return writeDigits(buf, pos, w);
  // |v| < 1e9 at up to six decimals: `formatNumber`'s reasoning, its whole part an int32.
  const x = v < 0 ? -v : v;
  if (x < 1e9) {
    const k = Math.round(x * 1e6);
    if (k / 1e6 === x) {
      if (v < 0) buf[pos++] = 45; // '-' (-0 is written 0, as JSON writes it)
      const whole = Math.floor(x) | 0;
      const fraction = (k - whole * 1e6) | 0;
      pos = writeDigits(buf, pos, whole);
      if (fraction === 0) return pos;
      buf[pos++] = 46; // '.'
      return writeFraction(buf, pos, fraction);
    }
  }
  return formatNumber(buf, pos, v);
}

/**
 * Writes elements `values[i..n)` of a compact series at `pos` (each after a comma, but the
 * array's first) while `writeElement` takes them; stops before the first other one, with nothing
 * of it written. Returns the new position; `stretchEnd` is where it stopped.
 *
 * Two copies of one loop: `numberStretch` for arrays of numbers alone, `taggedStretch` for the
 * rest (with nulls; whole-number `at` and `runs` arrays). A session's arrays of numbers hold
 * unboxed doubles, the others tagged values; one loop reading both kinds boxed every double it
 * read (a full ring's export made 28 MB of garbage, and collections copied the session during
 * the write), and each copy reading one kind boxes nothing.
 */
function numberStretch(buf: Uint8Array, pos: number, values: unknown[], i: number, n: number): number {
  for (; i < n; i++) {
    const next = writeElement(buf, i > 0 ? pos + 1 : pos, values[i]);
    if (next < 0) break;
    if (i > 0) buf[pos] = COMMA;
    pos = next;
  }
  stretchEnd = i;
  return pos;
}

/** `numberStretch`, for arrays that hold nulls or whole numbers (see there). */
function taggedStretch(buf: Uint8Array, pos: number, values: unknown[], i: number, n: number): number {
  for (; i < n; i++) {
    const next = writeElement(buf, i > 0 ? pos + 1 : pos, values[i]);
    if (next < 0) break;
    if (i > 0) buf[pos] = COMMA;
    pos = next;
  }
  stretchEnd = i;
  return pos;
}

/**
 * The serializer the last document finished with, for the next one (one made when it is in use).
 * Reused, not made per export: V8 drops the layout of a class once every instance of it was
 * collected, and with it the code optimised for that layout, so each export after a full
 * collection ran the writer's methods unoptimised again (an unused instance kept aside did not
 * keep the layout the writer takes in use).
 */
let idle: SessionSerializer | null = null;

/**
 * The session file's bytes in chunks (about 1 MB each, fresh buffers the caller may keep, and
 * must not change before the last is out: a repeated series is copied from those written):
 * exactly `JSON.stringify(profile, null, pretty ? 2 : undefined) + '\n'` as UTF-8.
 */
export function* sessionJsonChunks(profile: unknown, options: { pretty?: boolean } = {}): Generator<Uint8Array> {
  const serializer = idle ?? new SessionSerializer();
  idle = null;
  try {
    yield* serializer.chunks(profile, options.pretty ? '  ' : '');
  } finally {
    serializer.clear();
    idle = serializer;
  }
}

/** The session file's text as one string (for tests and small sessions). */
export function sessionJson(profile: unknown, options: { pretty?: boolean } = {}): string {
  return Buffer.concat([...sessionJsonChunks(profile, options)]).toString('utf8');
}
