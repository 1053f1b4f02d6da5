// Verbose capture: every frame, annotated for debugging (the activity heatmap laid over it, the
// HUD region and what OCR last read), encoded as PNG and written to disk. Handy while debugging,
// heavy in production: the drawing and the PNG encode run on the main thread, and a file is
// written per frame. Left on by default, as such switches are.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createCanvas } from '@napi-rs/canvas';

/** Files are reused in a ring, so that a long run does not fill the disk. */
const KEEP_FRAMES = 200;

export class FrameCapture {
  static async open(dir, width, height) {
    await mkdir(dir, { recursive: true });
    return new FrameCapture(dir, width, height);
  }

  constructor(dir, width, height) {
    this.dir = dir;
    this.canvas = createCanvas(width, height);
    this.ctx = this.canvas.getContext('2d');
    this.overlay = createCanvas(width, height);
    this.overlayCtx = this.overlay.getContext('2d');
    this.overlayPixels = this.overlayCtx.createImageData(width, height);
    this.written = 0;
    this.bytes = 0;
  }

  /**
   * Draws the debug view of a frame and encodes it now; returns the promise of its file write.
   * `heatmap` (a Heatmap, or null when it is off) and `hud` (`{ region, text }`, or null) are drawn over the frame.
   */
  capture(frameCanvas, frame, heatmap, hud) {
    const { ctx } = this;
    ctx.drawImage(frameCanvas, 0, 0);
    if (heatmap) {
      this.paintHeat(heatmap);
      ctx.globalAlpha = 0.5;
      ctx.drawImage(this.overlay, 0, 0);
      ctx.globalAlpha = 1;
    }
    if (hud) {
      ctx.strokeStyle = '#ffd166';
      ctx.lineWidth = 2;
      ctx.strokeRect(hud.region.x + 1, hud.region.y + 1, hud.region.width - 2, hud.region.height - 2);
      ctx.fillStyle = '#ffd166';
      ctx.font = '14px sans-serif';
      ctx.fillText(`read: ${hud.text}`, hud.region.x + 4, hud.region.y + hud.region.height + 18);
    }
    ctx.fillText(`frame ${frame}`, 8, this.canvas.height - 10);
    const png = this.canvas.encodeSync('png');
    this.written++;
    this.bytes += png.length;
    return writeFile(path.join(this.dir, `frame-${String(frame % KEEP_FRAMES).padStart(4, '0')}.png`), png);
  }

  /** The blurred heat as a colour ramp (transparent where cold, red where hot). */
  paintHeat(heatmap) {
    const { blurred, result } = heatmap;
    const rgba = this.overlayPixels.data;
    const scale = result.peak > 0 ? 255 / result.peak : 0;
    for (let i = 0, p = 0; i < blurred.length; i++, p += 4) {
      const v = Math.min(255, blurred[i] * scale) | 0;
      rgba[p] = 255;
      rgba[p + 1] = 255 - v;
      rgba[p + 2] = 0;
      rgba[p + 3] = v;
    }
    this.overlayCtx.putImageData(this.overlayPixels, 0, 0);
  }
}
