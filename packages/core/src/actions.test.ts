import { describe, expect, it } from 'vitest';
import { Profiler } from './profiler.js';
import { validateSession } from './session.js';

const make = () => new Profiler({ plugins: [], reporters: [], rules: [], sampleIntervalMs: 20 }, { handleExit: false });

describe('profiler.actions', () => {
  it('runs a registered action and records the outcome in the session', async () => {
    const profiler = make();
    let cadence = 1;
    profiler.actions.register('ocr.reduce-frequency', () => {
      cadence *= 4;
      return { ocrEveryFrames: cadence };
    }, { description: 'read the screen every 4th frame' });
    profiler.actions.register('capture.disable-verbose', () => {
      throw new Error('capture is locked');
    });
    await profiler.start();
    expect(profiler.actions.list()).toEqual([
      { id: 'ocr.reduce-frequency', description: 'read the screen every 4th frame' },
      { id: 'capture.disable-verbose', description: '' },
    ]);
    const ok = await profiler.actions.run('ocr.reduce-frequency', { source: 'test' });
    expect(ok).toMatchObject({ id: 'ocr.reduce-frequency', ok: true, source: 'test', result: { ocrEveryFrames: 4 }, error: null });
    expect(cadence).toBe(4);
    const failed = await profiler.actions.run('capture.disable-verbose');
    expect(failed).toMatchObject({ ok: false, error: 'capture is locked', source: 'api' });
    await expect(profiler.actions.run('heatmap.less-often')).rejects.toThrow(
      'no action "heatmap.less-often" is registered (registered: ocr.reduce-frequency, capture.disable-verbose)',
    );
    expect(profiler.snapshot().actions).toHaveLength(2);
    const session = await profiler.stop();
    validateSession(session);
    expect(session.actions.map((a) => [a.id, a.ok])).toEqual([
      ['ocr.reduce-frequency', true],
      ['capture.disable-verbose', false],
    ]);
  });

  it('keeps the last 1,000 runs, and counts every run', async () => {
    const profiler = make();
    profiler.actions.register('tick', () => 1);
    for (let i = 0; i < 1005; i++) await profiler.actions.run('tick');
    expect(profiler.actions.history()).toHaveLength(1000);
    expect(profiler.actions.runs).toBe(1005);
  });

  it('rejects bad ids, non-functions and duplicates; unregistering removes the action', () => {
    const profiler = make();
    expect(() => profiler.actions.register('Bad Id', () => 1)).toThrow(/must be lower case/);
    expect(() => profiler.actions.register('x', 5 as never)).toThrow(/handler must be a function/);
    const off = profiler.actions.register('x', () => 1);
    expect(() => profiler.actions.register('x', () => 2)).toThrow(/already registered/);
    off();
    expect(profiler.actions.has('x')).toBe(false);
  });
});
