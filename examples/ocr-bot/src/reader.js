// Reads the HUD with tesseract.js: crops the HUD panel out of the frame, recognises it in
// tesseract's worker thread, and parses the four numbers. The English data comes from the npm
// package @tesseract.js-data/eng, so that nothing is fetched at run time.
import { createRequire } from 'node:module';
import { createCanvas } from '@napi-rs/canvas';
import { createWorker, PSM } from 'tesseract.js';

const eng = createRequire(import.meta.url)('@tesseract.js-data/eng');

export const HUD_FIELDS = ['hp', 'gold', 'wave', 'score'];
const FIELD_PATTERNS = { hp: /HP\s*(\d+)/, gold: /GOLD\s*(\d+)/, wave: /WAVE\s*(\d+)/, score: /SCORE\s*(\d+)/ };
// only what the HUD can show: letters of its labels, digits and spaces
const WHITELIST = 'ACDEGHLOPRSVW0123456789 ';

/** The four HUD numbers in OCR text; a field that is not found is null. */
export function parseHud(text) {
  const values = {};
  for (const field of HUD_FIELDS) {
    const match = FIELD_PATTERNS[field].exec(text);
    values[field] = match ? Number(match[1]) : null;
  }
  return values;
}

/** How many of the HUD fields were read as drawn. */
export function countRight(values, truth) {
  let right = 0;
  for (const field of HUD_FIELDS) if (values[field] === truth[field]) right++;
  return right;
}

export class HudReader {
  /**
   * Starts tesseract's worker. `onEngineThread` receives the worker_threads Worker that
   * tesseract.js creates inside `createWorker` (it does not expose it), to be watched.
   */
  static async create(region, { onEngineThread } = {}) {
    let engineThread = null;
    const capture = (worker) => (engineThread = worker);
    process.once('worker', capture);
    let worker;
    try {
      worker = await createWorker('eng', 1, { langPath: eng.langPath, gzip: true, cacheMethod: 'none' });
    } finally {
      process.removeListener('worker', capture);
    }
    await worker.setParameters({ tessedit_char_whitelist: WHITELIST, tessedit_pageseg_mode: PSM.SINGLE_BLOCK });
    if (engineThread && onEngineThread) onEngineThread(engineThread);
    return new HudReader(worker, region);
  }

  constructor(worker, region) {
    this.worker = worker;
    this.region = region;
    this.crop = createCanvas(region.width, region.height);
    this.cropCtx = this.crop.getContext('2d');
  }

  /** Recognises the HUD region of `frameCanvas`: `{ text, confidence, values }`. */
  async read(frameCanvas) {
    const { x, y, width, height } = this.region;
    this.cropCtx.drawImage(frameCanvas, x, y, width, height, 0, 0, width, height);
    const png = this.crop.encodeSync('png');
    const { data } = await this.worker.recognize(png);
    return { text: data.text, confidence: data.confidence, values: parseHud(data.text) };
  }

  async close() {
    await this.worker.terminate();
  }
}
