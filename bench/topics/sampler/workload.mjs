// @ts-check
// The fixed workload of the `sampler` topic: a screen-reading bot's frame pipeline, in 20 stage
// functions of distinct source (so that V8's samplers can tell them apart), on a deterministic
// 512x320 RGBA "screen" that changes from frame to frame. Pure CPU: typed-array image work,
// hashing, connected components, about 8.5 ms a frame here. Three stages are async (as a bot's
// OCR and action code is), awaiting only resolved promises, so a frame never yields to the event
// loop in its middle. Written so that V8 optimises it once and keeps it (no deoptimisation loop):
// a frame then costs the same in every process, and the cases compare on the same work.

export const WIDTH = 512;
export const HEIGHT = 320;
const PIXELS = WIDTH * HEIGHT;

/** The stages, in pipeline order; `wrap(name, fn)` is applied to each (profileModule or identity). */
export const STAGE_NAMES = /** @type {const} */ ([
  'capture.render',
  'capture.grayscale',
  'vision.blur',
  'vision.sobel',
  'vision.histogram',
  'vision.otsu',
  'vision.binarize',
  'vision.erode',
  'vision.dilate',
  'vision.components',
  'vision.boxes',
  'vision.downscale',
  'hash.dhash',
  'hash.hamming',
  'hash.crc32',
  'vision.diff',
  'vision.template',
  'ocr.recognize',
  'bot.decide',
  'bot.frame',
]);

/**
 * @typedef {object} Buffers
 * @property {Uint8ClampedArray} rgba
 * @property {Uint8Array} gray
 * @property {Uint8Array} previous
 * @property {Uint8Array} blurred
 * @property {Uint8Array} edges
 * @property {Uint32Array} histogram
 * @property {Uint8Array} binary
 * @property {Uint8Array} scratch
 * @property {Int32Array} labels
 * @property {Int32Array} parent
 * @property {Int32Array} box min x, min y, max x, max y and pixel count per label (5 per label)
 * @property {{ labels: number }} state labels used by the last `components`
 * @property {Uint8Array} small
 * @property {Uint8Array} template
 */

/** @returns {Buffers} */
export function makeBuffers() {
  const template = new Uint8Array(16 * 16);
  for (let i = 0; i < template.length; i++) template[i] = (i * 37) & 0xff;
  return {
    rgba: new Uint8ClampedArray(PIXELS * 4),
    gray: new Uint8Array(PIXELS),
    previous: new Uint8Array(PIXELS),
    blurred: new Uint8Array(PIXELS),
    edges: new Uint8Array(PIXELS),
    histogram: new Uint32Array(256),
    binary: new Uint8Array(PIXELS),
    scratch: new Uint8Array(PIXELS),
    labels: new Int32Array(PIXELS),
    parent: new Int32Array(PIXELS / 2 + 1),
    box: new Int32Array((PIXELS / 2 + 1) * 5),
    state: { labels: 0 },
    small: new Uint8Array((WIDTH / 8) * (HEIGHT / 8)),
    template,
  };
}

// Int32 entries (and an int32 running value below): V8 keeps the loop in small integers
// rather than switching between them and doubles, which made crc32 deoptimise again and again.
const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c | 0;
  }
  return table;
})();

/** @param {Buffers} b @param {number} frame */
function render(b, frame) {
  // A moving gradient with moving blocks and xorshift noise: every frame differs, deterministically.
  let seed = (frame * 2654435761) >>> 0 || 1;
  const rgba = b.rgba;
  const bx = (frame * 3) % (WIDTH - 40);
  const by = (frame * 2) % (HEIGHT - 30);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      const noise = seed & 15;
      const inBlock = x >= bx && x < bx + 40 && y >= by && y < by + 30;
      const i = (y * WIDTH + x) * 4;
      rgba[i] = inBlock ? 230 : ((x + frame) & 255) >> 1;
      rgba[i + 1] = inBlock ? 40 + noise : ((y * 2) & 255) >> 1;
      rgba[i + 2] = ((x ^ y) & 63) + noise;
      rgba[i + 3] = 255;
    }
  }
  return rgba;
}

/** @param {Buffers} b */
function grayscale(b) {
  const { rgba, gray, previous } = b;
  previous.set(gray);
  for (let i = 0, j = 0; i < PIXELS; i++, j += 4) gray[i] = (rgba[j] * 77 + rgba[j + 1] * 150 + rgba[j + 2] * 29) >> 8;
  return gray;
}

/** @param {Buffers} b */
function blur(b) {
  const { gray, blurred } = b;
  for (let y = 1; y < HEIGHT - 1; y++) {
    for (let x = 1; x < WIDTH - 1; x++) {
      const i = y * WIDTH + x;
      const sum =
        gray[i - WIDTH - 1] + gray[i - WIDTH] + gray[i - WIDTH + 1] + gray[i - 1] + gray[i] + gray[i + 1] + gray[i + WIDTH - 1] + gray[i + WIDTH] + gray[i + WIDTH + 1];
      blurred[i] = (sum * 7282) >> 16;
    }
  }
  return blurred;
}

/** @param {Buffers} b */
function sobel(b) {
  const { blurred: g, edges } = b;
  for (let y = 1; y < HEIGHT - 1; y++) {
    for (let x = 1; x < WIDTH - 1; x++) {
      const i = y * WIDTH + x;
      const gx = g[i - WIDTH + 1] + 2 * g[i + 1] + g[i + WIDTH + 1] - g[i - WIDTH - 1] - 2 * g[i - 1] - g[i + WIDTH - 1];
      const gy = g[i + WIDTH - 1] + 2 * g[i + WIDTH] + g[i + WIDTH + 1] - g[i - WIDTH - 1] - 2 * g[i - WIDTH] - g[i - WIDTH + 1];
      const m = Math.abs(gx) + Math.abs(gy);
      edges[i] = m > 255 ? 255 : m;
    }
  }
  return edges;
}

/** @param {Buffers} b */
function histogram(b) {
  const { blurred, histogram: h } = b;
  h.fill(0);
  for (let i = 0; i < PIXELS; i++) h[blurred[i]]++;
  return h;
}

/** Otsu's threshold from the histogram. @param {Buffers} b */
function otsu(b) {
  const h = b.histogram;
  let sum = 0;
  for (let t = 0; t < 256; t++) sum += t * h[t];
  let sumB = 0;
  let wB = 0;
  let best = 0;
  let threshold = 0;
  for (let t = 0; t < 256; t++) {
    wB += h[t];
    if (wB === 0) continue;
    const wF = PIXELS - wB;
    if (wF === 0) break;
    sumB += t * h[t];
    const mB = sumB / wB;
    const mF = (sum - sumB) / wF;
    const between = wB * wF * (mB - mF) * (mB - mF);
    if (between > best) {
      best = between;
      threshold = t;
    }
  }
  return threshold;
}

/** @param {Buffers} b @param {number} threshold */
function binarize(b, threshold) {
  const { blurred, binary } = b;
  for (let i = 0; i < PIXELS; i++) binary[i] = blurred[i] > threshold ? 1 : 0;
  return binary;
}

/** @param {Buffers} b */
function erode(b) {
  const { binary, scratch } = b;
  scratch.fill(0);
  for (let y = 1; y < HEIGHT - 1; y++) {
    for (let x = 1; x < WIDTH - 1; x++) {
      const i = y * WIDTH + x;
      scratch[i] = binary[i] & binary[i - 1] & binary[i + 1] & binary[i - WIDTH] & binary[i + WIDTH];
    }
  }
  return scratch;
}

/** @param {Buffers} b */
function dilate(b) {
  const { scratch, binary } = b;
  binary.fill(0);
  for (let y = 1; y < HEIGHT - 1; y++) {
    for (let x = 1; x < WIDTH - 1; x++) {
      const i = y * WIDTH + x;
      binary[i] = scratch[i] | scratch[i - 1] | scratch[i + 1] | scratch[i - WIDTH] | scratch[i + WIDTH];
    }
  }
  return binary;
}

/** Union-find root, with path halving. @param {Int32Array} parent @param {number} x */
function find(parent, x) {
  while (parent[x] !== x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

/** Two-pass connected components (4-connected, union-find). @param {Buffers} b */
function components(b) {
  const next = labelPass(b.binary, b.labels, b.parent);
  resolvePass(b.labels, b.parent);
  b.state.labels = next;
  return countRoots(b.parent, next);
}

/** First pass: provisional labels, equivalences in `parent`; returns the next free label. */
function labelPass(/** @type {Uint8Array} */ binary, /** @type {Int32Array} */ labels, /** @type {Int32Array} */ parent) {
  let next = 1;
  parent[0] = 0;
  for (let i = 0; i < PIXELS; i++) {
    const x = i % WIDTH;
    if (binary[i] === 0) {
      labels[i] = 0;
      continue;
    }
    const up = i >= WIDTH ? labels[i - WIDTH] : 0;
    const left = x > 0 ? labels[i - 1] : 0;
    if (up === 0 && left === 0) {
      if (next >= parent.length) {
        labels[i] = 0;
        continue;
      }
      parent[next] = next;
      labels[i] = next++;
    } else if (up !== 0 && left !== 0) {
      const a = find(parent, up);
      const c = find(parent, left);
      if (a !== c) parent[a < c ? c : a] = a < c ? a : c;
      labels[i] = a < c ? a : c;
    } else {
      labels[i] = up || left;
    }
  }
  return next;
}

/** Second pass: every label replaced by its root. */
function resolvePass(/** @type {Int32Array} */ labels, /** @type {Int32Array} */ parent) {
  for (let i = 0; i < PIXELS; i++) {
    if (labels[i] !== 0) labels[i] = find(parent, labels[i]);
  }
  return 0;
}

function countRoots(/** @type {Int32Array} */ parent, /** @type {number} */ next) {
  let count = 0;
  for (let l = 1; l < next; l++) if (parent[l] === l) count++;
  return count;
}

/** Bounding boxes of the labelled regions; returns how many hold more than 5 sampled pixels. @param {Buffers} b */
function boxes(b) {
  const used = b.state.labels;
  resetBoxes(b.box, used);
  fillBoxes(b.labels, b.box);
  return countLarge(b.box, used);
}

function resetBoxes(/** @type {Int32Array} */ box, /** @type {number} */ used) {
  for (let l = 0; l < used; l++) {
    box[l * 5] = WIDTH;
    box[l * 5 + 1] = HEIGHT;
    box[l * 5 + 2] = -1;
    box[l * 5 + 3] = -1;
    box[l * 5 + 4] = 0;
  }
  return 0;
}

function fillBoxes(/** @type {Int32Array} */ labels, /** @type {Int32Array} */ box) {
  for (let y = 0; y < HEIGHT; y += 2) {
    for (let x = 0; x < WIDTH; x += 2) {
      const l = labels[y * WIDTH + x];
      if (l === 0) continue;
      const o = l * 5;
      if (x < box[o]) box[o] = x;
      if (y < box[o + 1]) box[o + 1] = y;
      if (x > box[o + 2]) box[o + 2] = x;
      if (y > box[o + 3]) box[o + 3] = y;
      box[o + 4]++;
    }
  }
  return 0;
}

function countLarge(/** @type {Int32Array} */ box, /** @type {number} */ used) {
  let large = 0;
  for (let l = 1; l < used; l++) if (box[l * 5 + 4] > 5) large++;
  return large;
}

/** 8x8 block means. @param {Buffers} b */
function downscale(b) {
  const { gray, small } = b;
  const sw = WIDTH / 8;
  for (let by = 0; by < HEIGHT / 8; by++) {
    for (let bx = 0; bx < sw; bx++) {
      let sum = 0;
      for (let y = by * 8; y < by * 8 + 8; y++) for (let x = bx * 8; x < bx * 8 + 8; x++) sum += gray[y * WIDTH + x];
      small[by * sw + bx] = sum >> 6;
    }
  }
  return small;
}

/** A difference hash of the downscaled frame, as 32-bit words. @param {Buffers} b */
function dhash(b) {
  const { small } = b;
  const sw = WIDTH / 8;
  const words = new Uint32Array(Math.ceil(small.length / 32));
  for (let i = 0; i < small.length; i++) {
    const right = (i + 1) % sw === 0 ? small[i - sw + 1] : small[i + 1];
    if (small[i] > right) words[i >>> 5] |= 1 << (i & 31);
  }
  return words;
}

/** @param {Uint32Array} a @param {Uint32Array | null} c */
function hamming(a, c) {
  if (!c) return 0;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    let v = (a[i] ^ c[i]) >>> 0;
    v -= (v >>> 1) & 0x55555555;
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    d += (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  }
  return d;
}

/** @param {Buffers} b */
function crc32(b) {
  return ~crcBytes(b.gray, -1) >>> 0;
}

// Each hot loop sits alone in its function, ending in a plain return: the code V8 compiles for a
// loop while it runs (on-stack replacement) then never reaches operations it has not seen yet,
// which made it deoptimise at every call and the frame's cost vary from process to process.

/** @param {Uint8Array} data @param {number} c */
function crcBytes(data, c) {
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ ((c >>> 8) & 0xffffff);
  return c;
}

/** Mean absolute difference against the previous frame. @param {Buffers} b */
function diff(b) {
  const { gray, previous } = b;
  let sum = 0;
  for (let i = 0; i < PIXELS; i++) {
    const d = gray[i] - previous[i];
    sum += d < 0 ? -d : d;
  }
  return sum / PIXELS;
}

/** Best sum of absolute differences of a 16x16 template over a coarse grid. @param {Buffers} b */
function template(b) {
  const { edges, template: t } = b;
  let best = Infinity;
  for (let oy = 0; oy + 16 <= HEIGHT; oy += 8) {
    for (let ox = 0; ox + 16 <= WIDTH; ox += 8) {
      let sad = 0;
      for (let y = 0; y < 16; y++) {
        const row = (oy + y) * WIDTH + ox;
        for (let x = 0; x < 16; x++) {
          const d = edges[row + x] - t[y * 16 + x];
          sad += d < 0 ? -d : d;
        }
      }
      if (sad < best) best = sad;
    }
  }
  return best;
}

/**
 * The frame pipeline, each stage wrapped by `wrap(name, fn)`. Returns `frame(index)`: a promise
 * of a small digest (so that nothing is optimised away), settled without leaving the microtask
 * queue.
 * @param {(name: string, fn: Function) => Function} wrap
 */
export function makePipeline(wrap) {
  const b = makeBuffers();
  /** @type {Uint32Array | null} */
  let lastHash = null;
  /** @type {Record<string, any>} */
  const s = {};
  const plain = {
    'capture.render': render,
    'capture.grayscale': grayscale,
    'vision.blur': blur,
    'vision.sobel': sobel,
    'vision.histogram': histogram,
    'vision.otsu': otsu,
    'vision.binarize': binarize,
    'vision.erode': erode,
    'vision.dilate': dilate,
    'vision.components': components,
    'vision.boxes': boxes,
    'vision.downscale': downscale,
    'hash.dhash': dhash,
    'hash.hamming': hamming,
    'hash.crc32': crc32,
    'vision.diff': diff,
    'vision.template': template,
    // OCR: async, as a recogniser is; it reads the binarised regions after an await.
    'ocr.recognize': async function recognize(/** @type {Buffers} */ buffers) {
      const threshold = s['vision.otsu'](buffers);
      await null;
      s['vision.binarize'](buffers, threshold);
      s['vision.erode'](buffers);
      s['vision.dilate'](buffers);
      await null;
      const regions = s['vision.components'](buffers);
      return regions + s['vision.boxes'](buffers);
    },
    'bot.decide': async function decide(/** @type {number} */ motion, /** @type {number} */ distance, /** @type {number} */ regions) {
      await null;
      let score = 0;
      for (let i = 0; i < 2000; i++) score += Math.sqrt(motion * i + distance + regions) % 7;
      return score;
    },
    'bot.frame': async function frame(/** @type {number} */ index) {
      s['capture.render'](b, index);
      s['capture.grayscale'](b);
      s['vision.blur'](b);
      s['vision.sobel'](b);
      s['vision.histogram'](b);
      const regions = await s['ocr.recognize'](b);
      s['vision.downscale'](b);
      const hash = s['hash.dhash'](b);
      const distance = s['hash.hamming'](hash, lastHash);
      lastHash = hash;
      const crc = s['hash.crc32'](b);
      const motion = s['vision.diff'](b);
      const match = s['vision.template'](b);
      const score = await s['bot.decide'](motion, distance, regions);
      return (crc ^ match ^ regions ^ Math.round(score)) >>> 0;
    },
  };
  for (const name of STAGE_NAMES) s[name] = wrap(name, plain[name]);
  return /** @type {(index: number) => Promise<number>} */ (s['bot.frame']);
}
