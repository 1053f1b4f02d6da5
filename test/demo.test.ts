import { describe, expect, it } from 'vitest';
import { sessionSeries, validateSession, type SessionProfile } from '@loadlight/core';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { root, start } from './helpers.js';

const ACTION = 'ocr.reduce-frequency';
const OCR_MODULES = ['core.ocr', 'core.ocr.engine'];

/** Mean of the non-null values of a metric whose sample time passes `keep`. */
function meanOf(session: SessionProfile, metric: string, keep: (t: number) => boolean): number | null {
  const series = sessionSeries(session, metric);
  const values = session.samples.t.flatMap((t, i) => (series[i] != null && keep(t) ? [series[i]!] : []));
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

describe('npm run demo', () => {
  // The OCR bot for 16 s, with the action at half-time; on a loaded machine it takes longer.
  it('profiles the OCR bot: OCR flagged and reduce-frequency recommended, and the action lowers its load', { timeout: 120_000 }, async () => {
    const { done } = start([path.join(root, 'scripts/demo.mjs'), '--duration', '16s']);
    const run = await done;
    const output = run.stdout + run.stderr;
    expect(run.code, output).toBe(0);
    // live output: the console reporter's lines (stdout is not a TTY here), the bot's, the summary
    expect(output).toMatch(/\[loadlight\] \d+s cpu/);
    expect(output).toMatch(/\[bot\] applied ocr\.reduce-frequency/);
    expect(run.stdout).toMatch(/demo: OCR accuracy: \d+(\.\d)?%/);
    const match = /session written to (\S+\.json)/.exec(run.stdout);
    expect(match, output).not.toBeNull();

    const session: unknown = JSON.parse(readFileSync(path.resolve(root, match![1]!), 'utf8'));
    validateSession(session);
    expect(session.config.plugins).toEqual(expect.arrayContaining(['system', 'modules', 'ocr', 'frames', 'io', 'bot']));

    // the action ran, recorded with what it changed and the levels the rules gave the OCR modules
    const record = session.actions.find((a) => a.id === ACTION);
    expect(record, JSON.stringify(session.actions)).toMatchObject({ ok: true, source: 'demo', error: null });
    const result = record!.result as { ocrEvery: { from: number; to: number }; levelsBefore: Record<string, string> };
    expect(result.ocrEvery).toEqual({ from: 1, to: 4 });
    const flagged = OCR_MODULES.filter((m) => ['yellow', 'red'].includes(result.levelsBefore[m] ?? ''));
    expect(flagged, JSON.stringify(result.levelsBefore)).not.toEqual([]);

    // the rules recommended it before the action ran
    const actionAt = Date.parse(record!.at);
    const recommendation = session.recommendations.find((r) => r.action === ACTION);
    expect(recommendation).toBeDefined();
    expect(Date.parse(recommendation!.firstSeen)).toBeLessThanOrEqual(actionAt);

    // the OCR modules' CPU: clearly lower after the action (means of the two phases, as the demo
    // requires: before runs from the tick after the first OCR call, after from the second tick
    // after the action). The busiest of them before the action is the one that must drop.
    const settleMs = session.config.sampleIntervalMs * 1.5;
    const calls = sessionSeries(session, 'ocr.calls.count');
    const readingFrom = session.samples.t.find((_, i) => (calls[i] ?? 0) > 0) ?? Infinity;
    const isBefore = (t: number) => t > readingFrom && t <= actionAt;
    const halves = OCR_MODULES.map((m) => ({
      module: m,
      before: meanOf(session, `module.${m}.cpu_percent`, isBefore),
      after: meanOf(session, `module.${m}.cpu_percent`, (t) => t >= actionAt + settleMs),
    })).filter((h) => h.before !== null && h.after !== null);
    expect(halves.length, JSON.stringify(halves)).toBeGreaterThan(0);
    const worst = halves.reduce((a, b) => (b.before! > a.before! ? b : a));
    expect(flagged).toContain(worst.module);
    expect(worst.after!, JSON.stringify(halves)).toBeLessThanOrEqual(worst.before! * 0.75);

    // and the OCR calls per minute went down with it
    const callsBefore = meanOf(session, 'ocr.calls.per_minute', isBefore)!;
    const callsAfter = meanOf(session, 'ocr.calls.per_minute', (t) => t >= actionAt + settleMs)!;
    expect(callsAfter).toBeLessThan(callsBefore * 0.8);
  });
});
