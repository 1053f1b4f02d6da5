import { describe, expect, it } from 'vitest';
import { RecordingWriter } from '@loadlight/core/testing';
import { closeWindow, openWindow, recordOcrCall } from './hot.js';

/** One collect of a window: the values it wrote (`get` throws for a metric it did not write). */
function collect(window: ReturnType<typeof openWindow>): RecordingWriter {
  const w = new RecordingWriter();
  window.collect(w);
  return w;
}

describe('OCR latency histograms per window', () => {
  it('a window running alone holds no histogram of its own; beside another it gets one, and drops it once alone and read', () => {
    const a = openWindow();
    try {
      recordOcrCall(10, null, false);
      recordOcrCall(30, null, false);
      expect(a.latency).toBeNull();
      const first = collect(a);
      expect(first.get('ocr.calls.count')).toBe(2);
      expect(first.get('ocr.latency.max_ms')).toBeCloseTo(30, 1);
      expect(first.get('ocr.latency.p50_ms')).toBeCloseTo(10, 1);
      expect(a.latency).toBeNull();
      // Read and reset: the next tick has no latencies.
      expect(collect(a).get('ocr.latency.p50_ms')).toBeNull();

      recordOcrCall(50, null, false); // before b opens: a's alone
      const b = openWindow();
      try {
        expect(a.latency?.count).toBe(1);
        recordOcrCall(70, null, false);
        const ofB = collect(b);
        expect(ofB.get('ocr.calls.count')).toBe(1);
        expect(ofB.get('ocr.latency.max_ms')).toBeCloseTo(70, 1);
        expect(b.latency).not.toBeNull();
        recordOcrCall(90, null, false);
      } finally {
        closeWindow(b);
      }
      expect(b.latency).toBeNull();
      // a saw all three (50 before b, 70 and 90 while b ran), through its own histogram.
      const ofA = collect(a);
      expect(ofA.get('ocr.calls.count')).toBe(3);
      expect(ofA.get('ocr.latency.p50_ms')).toBeCloseTo(70, 1);
      expect(ofA.get('ocr.latency.max_ms')).toBeCloseTo(90, 1);
      expect(a.latency).toBeNull();
      recordOcrCall(20, null, false);
      expect(collect(a).get('ocr.latency.max_ms')).toBeCloseTo(20, 1);
    } finally {
      closeWindow(a);
    }
  });

  it('a window left alone with an emptied histogram of its own lets it go at its next collect', () => {
    const a = openWindow();
    const b = openWindow();
    try {
      recordOcrCall(40, null, false);
      expect(collect(a).get('ocr.latency.max_ms')).toBeCloseTo(40, 1); // a's own, read and emptied
      expect(a.latency?.count).toBe(0);
      closeWindow(b); // nothing pending: nothing handed on
      recordOcrCall(60, null, false);
      const alone = collect(a);
      expect(alone.get('ocr.calls.count')).toBe(1);
      expect(alone.get('ocr.latency.max_ms')).toBeCloseTo(60, 1);
      expect(a.latency).toBeNull();
    } finally {
      closeWindow(b);
      closeWindow(a);
    }
  });
});
