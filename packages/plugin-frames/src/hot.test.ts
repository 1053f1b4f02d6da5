import { describe, expect, it } from 'vitest';
import type { SampleWriter } from '@loadlight/core';
import { closeWindow, openWindow, trackFrame } from './hot.js';

/** One collect of a window: the values it wrote, by name. */
function collect(window: ReturnType<typeof openWindow>): Record<string, number | null> {
  const values: Record<string, number | null> = {};
  const w: SampleWriter = { t: Date.now(), set: (name, value) => void (values[name] = value) };
  window.collect(w);
  return values;
}

describe('frame-time histograms per window', () => {
  it('a window running alone holds no histogram of its own; beside another it gets one, and drops it once alone and read', () => {
    const a = openWindow(10);
    try {
      trackFrame(10);
      trackFrame(30);
      expect(a.latency).toBeNull();
      const first = collect(a);
      expect(first['frames.analysed.count']).toBe(2);
      expect(first['frames.latency.max_ms']).toBeCloseTo(30, 1);
      expect(first['frames.latency.p50_ms']).toBeCloseTo(10, 1);
      expect(a.latency).toBeNull();
      expect(collect(a)['frames.latency.p50_ms']).toBeNull();

      trackFrame(50); // before b opens: a's alone
      const b = openWindow(20);
      try {
        expect(a.latency?.count).toBe(1);
        trackFrame(70);
        const ofB = collect(b);
        expect(ofB['frames.analysed.count']).toBe(1);
        expect(ofB['frames.latency.max_ms']).toBeCloseTo(70, 1);
        expect(b.latency).not.toBeNull();
        trackFrame(90);
      } finally {
        closeWindow(b);
      }
      expect(b.latency).toBeNull();
      const ofA = collect(a);
      expect(ofA['frames.analysed.count']).toBe(3);
      expect(ofA['frames.latency.p50_ms']).toBeCloseTo(70, 1);
      expect(ofA['frames.latency.max_ms']).toBeCloseTo(90, 1);
      expect(a.latency).toBeNull();
      trackFrame(20);
      expect(collect(a)['frames.latency.max_ms']).toBeCloseTo(20, 1);
    } finally {
      closeWindow(a);
    }
  });

  it('a window left alone with an emptied histogram of its own lets it go at its next collect', () => {
    const a = openWindow(10);
    const b = openWindow(10);
    try {
      trackFrame(40);
      expect(collect(a)['frames.latency.max_ms']).toBeCloseTo(40, 1); // a's own, read and emptied
      expect(a.latency?.count).toBe(0);
      closeWindow(b); // nothing pending: nothing handed on
      trackFrame(60);
      const alone = collect(a);
      expect(alone['frames.analysed.count']).toBe(1);
      expect(alone['frames.latency.max_ms']).toBeCloseTo(60, 1);
      expect(a.latency).toBeNull();
    } finally {
      closeWindow(b);
      closeWindow(a);
    }
  });
});
