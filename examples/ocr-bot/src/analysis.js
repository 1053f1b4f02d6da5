// Frame analysis over the RGBA buffer: cheap pixel statistics on every frame, and an activity
// heatmap that is heavy on purpose (a full-resolution 2D histogram, blurred with a plain
// Gaussian convolution each time it is generated).

/** Mean brightness, contrast, and how much of the frame changed since the previous one. */
export class PixelStats {
  constructor(width, height) {
    this.width = width;
    this.height = height;
    this.luma = new Uint8Array(width * height);
    this.previous = new Uint8Array(width * height);
    this.hasPrevious = false;
    this.result = { meanLuma: 0, contrast: 0, changedRatio: 0 };
  }

  /** Fills `this.luma` and returns the frame's statistics (one reused object). */
  analyse(rgba) {
    const { luma, previous } = this;
    let sum = 0;
    let sumSquares = 0;
    let changed = 0;
    for (let i = 0, p = 0; i < luma.length; i++, p += 4) {
      // integer Rec. 601 luma
      const y = (rgba[p] * 77 + rgba[p + 1] * 150 + rgba[p + 2] * 29) >> 8;
      luma[i] = y;
      sum += y;
      sumSquares += y * y;
      if (this.hasPrevious && Math.abs(y - previous[i]) > 12) changed++;
    }
    const n = luma.length;
    const mean = sum / n;
    this.result.meanLuma = mean;
    this.result.contrast = Math.sqrt(Math.max(0, sumSquares / n - mean * mean));
    this.result.changedRatio = this.hasPrevious ? changed / n : 0;
    previous.set(luma);
    this.hasPrevious = true;
    return this.result;
  }
}

/** Where the action is: changed pixels accumulated over time, blurred, and its hottest point. */
export class Heatmap {
  constructor(width, height, radius = 12) {
    this.width = width;
    this.height = height;
    this.heat = new Float32Array(width * height);
    this.scratch = new Float32Array(width * height);
    this.blurred = new Float32Array(width * height);
    this.lastLuma = new Uint8Array(width * height);
    this.hasLast = false;
    // a normalised Gaussian kernel of 2 * radius + 1 taps
    const sigma = radius / 2;
    this.radius = radius;
    this.kernel = new Float32Array(2 * radius + 1);
    let total = 0;
    for (let k = -radius; k <= radius; k++) total += this.kernel[k + radius] = Math.exp(-(k * k) / (2 * sigma * sigma));
    for (let k = 0; k < this.kernel.length; k++) this.kernel[k] /= total;
    this.result = { hotX: 0, hotY: 0, peak: 0 };
  }

  /** Adds a frame's changes (from its luma plane) to the histogram and regenerates the map. */
  update(luma) {
    const { width, height, heat, scratch, blurred, kernel, radius, lastLuma } = this;
    for (let i = 0; i < heat.length; i++) {
      heat[i] *= 0.97; // old activity fades
      if (this.hasLast && Math.abs(luma[i] - lastLuma[i]) > 12) heat[i] += 1;
    }
    lastLuma.set(luma);
    this.hasLast = true;
    // separable Gaussian blur: rows into scratch, then columns into blurred
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) {
        let acc = 0;
        for (let k = -radius; k <= radius; k++) {
          const xx = x + k < 0 ? 0 : x + k >= width ? width - 1 : x + k;
          acc += heat[row + xx] * kernel[k + radius];
        }
        scratch[row + x] = acc;
      }
    }
    let peak = -1;
    let hot = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let acc = 0;
        for (let k = -radius; k <= radius; k++) {
          const yy = y + k < 0 ? 0 : y + k >= height ? height - 1 : y + k;
          acc += scratch[yy * width + x] * kernel[k + radius];
        }
        const i = y * width + x;
        blurred[i] = acc;
        if (acc > peak) {
          peak = acc;
          hot = i;
        }
      }
    }
    this.result.hotX = hot % width;
    this.result.hotY = Math.floor(hot / width);
    this.result.peak = peak;
    return this.result;
  }
}
