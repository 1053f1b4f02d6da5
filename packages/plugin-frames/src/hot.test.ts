import { describe, expect, it } from 'vitest';
import { RecordingWriter } from '@loadlight/core/testing';
import { closeWindow, openWindow, trackFrame } from './hot.js';

/** One collect of a window: the values it wrote (`get` throws for a metric it did not write). */
function collect(window: ReturnType<typeof openWindow>): RecordingWriter {
  const w = new RecordingWriter();
  window.collect(w);
  return w;
}

describe('frame-time histograms per window', () => {
  it('a window running alone holds no histogram of its own; beside another it gets one, and drops it once alone and read', () => {
    const a = openWindow(10);
    try {
      trackFrame(10);
      trackFrame(30);
      expect(a.latency).toBeNull();
      const first = collect(a);
      expect(first.get('frames.analysed.count')).toBe(2);
      expect(first.get('frames.latency.max_ms')).toBeCloseTo(30, 1);
      expect(first.get('frames.latency.p50_ms')).toBeCloseTo(10, 1);
      expect(a.latency).toBeNull();
      expect(collect(a).get('frames.latency.p50_ms')).toBeNull();

      trackFrame(50); // before b opens: a's alone
      const b = openWindow(20);
      try {
        expect(a.latency?.count).toBe(1);
        trackFrame(70);
        const ofB = collect(b);
        expect(ofB.get('frames.analysed.count')).toBe(1);
        expect(ofB.get('frames.latency.max_ms')).toBeCloseTo(70, 1);
        expect(b.latency).not.toBeNull();
        trackFrame(90);
      } finally {
        closeWindow(b);
      }
      expect(b.latency).toBeNull();
      const ofA = collect(a);
      expect(ofA.get('frames.analysed.count')).toBe(3);
      expect(ofA.get('frames.latency.p50_ms')).toBeCloseTo(70, 1);
      expect(ofA.get('frames.latency.max_ms')).toBeCloseTo(90, 1);
      expect(a.latency).toBeNull();
      trackFrame(20);
      expect(collect(a).get('frames.latency.max_ms')).toBeCloseTo(20, 1);
    } finally {
      closeWindow(a);
    }
  });

  it('a window left alone with an emptied histogram of its own lets it go at its next collect', () => {
    const a = openWindow(10);
    const b = openWindow(10);
    try {
      trackFrame(40);
      expect(collect(a).get('frames.latency.max_ms')).toBeCloseTo(40, 1); // a's own, read and emptied
      expect(a.latency?.count).toBe(0);
      closeWindow(b); // nothing pending: nothing handed on
      trackFrame(60);
      const alone = collect(a);
      expect(alone.get('frames.analysed.count')).toBe(1);
      expect(alone.get('frames.latency.max_ms')).toBeCloseTo(60, 1);
      expect(a.latency).toBeNull();
    } finally {
      closeWindow(b);
      closeWindow(a);
    }
  });
});
