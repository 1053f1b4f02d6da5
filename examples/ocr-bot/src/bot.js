// The bot: for every frame it analyses the pixels, updates an activity heatmap, captures the
// frame to disk (verbose mode), reads the HUD with OCR and checks what it read against what the
// game drew, and logs the frame. Each part is a profiled module. OCR runs on tesseract's own
// thread, alongside the frame loop.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { frameTimer, trackFrameDropped } from '@loadlight/plugin-frames';
import { timeIo } from '@loadlight/plugin-io';
import { moduleSpan, profileModule, watchWorker } from '@loadlight/plugin-modules';
import { instrumentTesseract } from '@loadlight/plugin-ocr';
import { Heatmap, PixelStats } from './analysis.js';
import { FrameCapture } from './capture.js';
import { FRAME_HEIGHT, FRAME_WIDTH, Game, HUD_REGION, Renderer } from './game.js';
import { BotLog } from './log.js';
import { countRight, HUD_FIELDS, HudReader } from './reader.js';
import { readings } from './readings.js';

/** One read on the engine and one queued behind it. */
const MAX_READS_IN_FLIGHT = 2;

export class Bot {
  constructor(options) {
    this.options = options;
    /** What the actions change while the bot runs. */
    this.settings = {
      ocrEvery: options.ocrEvery,
      heatmapEvery: options.heatmapEvery,
      heatmap: options.heatmap,
      verbose: options.verbose,
    };
    this.game = new Game(options.seed);
    this.renderer = new Renderer();
    this.pixels = new PixelStats(FRAME_WIDTH, FRAME_HEIGHT);
    this.heatmap = new Heatmap(FRAME_WIDTH, FRAME_HEIGHT);
    this.frames = 0;
    this.dropped = 0;
    /** OCR reads in flight; whether a frame is waiting for a free slot; the last frame sent to OCR. */
    this.reads = new Set();
    this.ocrWaiting = false;
    this.lastOcrFrame = -Infinity;
    this.ocrErrors = 0;
    this.closing = false;
    this.lastRead = null;
    this.shown = null;
    this.startedAt = performance.now();
  }

  async open() {
    const { options } = this;
    if (options.outDir) await mkdir(options.outDir, { recursive: true });
    this.outDir = options.outDir ?? (await mkdtemp(options.defaultOutPrefix));
    this.log = await BotLog.open(path.join(this.outDir, 'bot.log'));
    this.capture = await FrameCapture.open(path.join(this.outDir, 'frames'), FRAME_WIDTH, FRAME_HEIGHT);
    // tesseract.js runs recognition in a worker thread it creates itself: watched as a module of
    // its own, so that the CPU it burns is seen (the main thread only waits for it).
    this.reader = await HudReader.create(HUD_REGION, {
      onEngineThread: (thread) => watchWorker(thread, 'core.ocr.engine', { tags: ['ocr'] }),
    });
    instrumentTesseract(this.reader.worker);

    // The modules, as the profiler sees them (analysis.pixels is a moduleSpan in frame()).
    this.readHud = profileModule('core.ocr', (canvas) => this.reader.read(canvas), { tags: ['ocr'] });
    this.updateHeatmap = profileModule('analysis.heatmap', (luma) => this.heatmap.update(luma), { tags: ['heatmap', 'optional'] });
    this.captureFrame = profileModule(
      'capture.verbose',
      (canvas, frame, heatmap, hud) => timeIo(this.capture.capture(canvas, frame, heatmap, hud)),
      { tags: ['verbose'] },
    );
    this.writeLog = profileModule('io.log', (line) => timeIo(this.log.write(line)));
  }

  /**
   * One frame: the game draws it; the bot analyses and captures it, hands its HUD to OCR (which
   * works on tesseract's thread while the next frames go on), and logs it.
   */
  async frame() {
    const { settings, game } = this;
    const endFrame = frameTimer();
    const n = ++this.frames;
    const rgba = this.renderer.render(game); // the game's screenshot, not the bot's work
    const canvas = this.renderer.canvas;
    // what the canvas shows, to check OCR against (the game moves on after this frame)
    const shown = (this.shown = { ...game.hud });

    const endPixels = moduleSpan('analysis.pixels');
    const stats = this.pixels.analyse(rgba);
    endPixels();

    if (settings.heatmap && n % settings.heatmapEvery === 0) this.updateHeatmap(this.pixels.luma);
    const written = settings.verbose
      ? this.captureFrame(canvas, n, settings.heatmap ? this.heatmap : null, this.lastRead && { region: HUD_REGION, text: this.lastRead.line })
      : null;

    if (n - this.lastOcrFrame >= settings.ocrEvery) this.startOcr();
    if (written) await written;

    const heat = this.heatmap.result;
    await this.writeLog(
      `frame ${n} hp=${shown.hp} gold=${shown.gold} wave=${shown.wave} score=${shown.score} ` +
        `luma=${stats.meanLuma.toFixed(1)} changed=${(stats.changedRatio * 100).toFixed(2)}% hot=${heat.hotX},${heat.hotY} ${this.lastOcrFrame === n ? 'ocr' : '-'}`,
    );
    endFrame();
  }

  /**
   * Starts reading the HUD of the frame on the canvas. OCR runs at most every `ocrEvery` frames;
   * when it cannot keep up, the next read is queued on the engine (at most one waiting), so that
   * the engine never idles while the main thread is busy, and further frames wait for a free slot
   * and take the newest frame then.
   */
  startOcr() {
    if (this.reads.size >= MAX_READS_IN_FLIGHT) {
      this.ocrWaiting = true;
      return;
    }
    this.ocrWaiting = false;
    this.lastOcrFrame = this.frames;
    // read() crops and encodes the HUD before it returns: the canvas may be redrawn meanwhile
    const read = this.readAndCheck(this.renderer.canvas, this.shown).finally(() => {
      this.reads.delete(read);
      if (this.ocrWaiting && !this.closing) this.startOcr();
    });
    this.reads.add(read);
  }

  /** Reads the HUD and checks it against what the game drew (`truth`). */
  async readAndCheck(canvas, truth) {
    try {
      const read = await this.readHud(canvas);
      const right = countRight(read.values, truth);
      readings.reads++;
      readings.fieldsRead += HUD_FIELDS.length;
      readings.fieldsRight += right;
      this.lastRead = { line: read.text.replace(/\s+/g, ' ').trim(), right };
    } catch (error) {
      // a failed read costs one reading, not the bot
      if (this.ocrErrors++ === 0) console.error(`[bot] OCR failed (further failures are counted): ${error?.message ?? error}`);
    }
  }

  /** Runs frames at `fps` until `signal` aborts; frames it had no time for are dropped. */
  async run(signal) {
    const frameMs = 1000 / this.options.fps;
    let next = performance.now();
    while (!signal.aborted) {
      await this.frame();
      this.game.step();
      next += frameMs;
      const now = performance.now();
      if (now - next >= frameMs) {
        // Too late for whole frames: the game went on without us.
        const missed = Math.floor((now - next) / frameMs);
        for (let i = 0; i < missed; i++) {
          trackFrameDropped();
          this.game.step();
        }
        this.dropped += missed;
        next += missed * frameMs;
      }
      if (next > now) await sleep(next - now, undefined, { signal }).catch(() => undefined);
    }
  }

  /** Share of HUD fields read right so far, in percent (null before the first read). */
  accuracyPercent() {
    return readings.fieldsRead === 0 ? null : (readings.fieldsRight / readings.fieldsRead) * 100;
  }

  /** A one-line status for the console. */
  status() {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const accuracy = this.accuracyPercent();
    const last = this.lastRead ? `last read "${this.lastRead.line}" (${this.lastRead.right}/${HUD_FIELDS.length} right)` : 'nothing read yet';
    const { ocrEvery, heatmap, heatmapEvery, verbose } = this.settings;
    return (
      `[bot] ${seconds.toFixed(1)}s: ${this.frames} frames, ${this.dropped} dropped; ${readings.reads} reads, ` +
      `accuracy ${accuracy === null ? '-' : accuracy.toFixed(1) + '%'}; ${last}; ` +
      `ocr every ${ocrEvery}, heatmap ${heatmap ? `every ${heatmapEvery}` : 'off'}, capture ${verbose ? 'on' : 'off'}`
    );
  }

  /** Stops tesseract's worker and closes the log; deletes the temp folder unless `--out` was given. */
  async close() {
    this.closing = true;
    await Promise.allSettled([...this.reads]);
    const results = await Promise.allSettled([this.reader?.close(), this.log?.close()]);
    if (this.outDir && !this.options.outDir) results.push(...(await Promise.allSettled([rm(this.outDir, { recursive: true, force: true })])));
    for (const r of results) if (r.status === 'rejected') process.stderr.write(`[bot] while closing: ${r.reason?.message ?? r.reason}\n`);
  }
}
