// Bad input never escapes as an uncaught exception: every session file that is not a usable
// session, and every argument list, ends in a LoadlightError or UsageError that names the place.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePlugin, type SessionProfile } from '@loadlight/core';
import { createTestProfiler, moreSamples, stopTestProfilers } from '@loadlight/core/testing';
import { isLoadlightLike, UsageError } from '../args.js';
import { compareCommand } from './command.js';

let dir: string;
let baselineFile: string;
let sessionText: string;
let configFile: string;

const sink = () =>
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });

/** Runs the command; returns its exit code, or the error it threw (which must be a clear one). */
async function run(argv: string[]): Promise<number | Error> {
  try {
    return await compareCommand(argv, sink());
  } catch (error) {
    if (error instanceof UsageError || isLoadlightLike(error)) return error;
    throw error; // an unexpected error: the property fails with it
  }
}

beforeAll(async () => {
  const plugin = definePlugin({
    name: 'fixture',
    metrics: {
      'fix.cpu.percent': { unit: 'percent', kind: 'gauge', description: 'fixture' },
      'fix.jobs.count': { unit: 'count', kind: 'counter', description: 'fixture' },
      'module.worker.cpu_percent': { unit: 'percent', kind: 'gauge', description: 'fixture', module: { name: 'worker', field: 'cpu_percent' } },
    },
    apply(profiler) {
      let i = 0;
      profiler.hooks.collect.tap('fixture', (w) => {
        w.set('fix.cpu.percent', 20 + (i % 7));
        w.set('fix.jobs.count', i % 3);
        w.set('module.worker.cpu_percent', 5 + (i % 4));
        i++;
      });
    },
  });
  const { profiler } = createTestProfiler([plugin], { sampleIntervalMs: 10 });
  await profiler.start();
  await moreSamples(profiler, 12);
  const session: SessionProfile = await profiler.stop();
  dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-compare-input-'));
  mkdirSync(dir, { recursive: true });
  sessionText = JSON.stringify(session);
  baselineFile = path.join(dir, 'baseline.json');
  writeFileSync(baselineFile, sessionText);
  configFile = path.join(dir, '.perfrc.json');
  writeFileSync(configFile, JSON.stringify({ budgets: { 'fix.cpu.percent': { max: 50 }, 'module.worker.cpu_percent': { maxIncreasePercent: 10 } } }));
});

afterAll(async () => {
  await stopTestProfilers();
  rmSync(dir, { recursive: true, force: true });
});

/** Every path (list of keys) into a JSON value. */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function mutate(root: unknown, at: Array<string | number>, replacement: unknown, remove: boolean): unknown {
  if (at.length === 0) return replacement;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of at.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = at.at(-1)!;
  if (remove && Array.isArray(parent)) parent.splice(last as number, 1);
  else if (remove) delete parent[last];
  else parent[last] = replacement;
  return copy;
}

let n = 0;
function writeCurrent(content: string): string {
  const file = path.join(dir, `current-${n++}.json`);
  writeFileSync(file, content);
  return file;
}

describe('compare: bad input', () => {
  it('the untouched session compares with itself (exit 0, budgets within)', async () => {
    expect(await run([baselineFile, writeCurrent(sessionText), '--config', configFile])).toBe(0);
  });

  it('a session cut short anywhere is refused with the file named', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: sessionText.length - 1 }), async (cut) => {
        const file = writeCurrent(sessionText.slice(0, cut));
        const result = await run([baselineFile, file, '--config', configFile]);
        expect(result).toBeInstanceOf(Error);
        expect((result as Error).message).toContain(file);
      }),
      { numRuns: 60 },
    );
  });

  it('any value replaced or removed anywhere gives a result or an error naming the file, never an uncaught one', async () => {
    const parsed = JSON.parse(sessionText) as unknown;
    const all = paths(parsed);
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: all.length - 1 }), fc.jsonValue({ maxDepth: 2 }), fc.boolean(), async (i, replacement, remove) => {
        const file = writeCurrent(JSON.stringify(mutate(parsed, all[i]!, replacement, remove)));
        const result = await run([baselineFile, file, '--config', configFile, '--format', 'json']);
        if (result instanceof Error) {
          refused++;
          expect(result.message).toContain(file);
        } else expect([0, 2]).toContain(result);
      }),
      { numRuns: 250 },
    );
    expect(refused, 'sessions refused (the check above ran)').toBeGreaterThan(0);
  });

  it('any bytes give an error naming the file', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.uint8Array({ maxLength: 200 })), async (content) => {
        const file = writeCurrent('');
        writeFileSync(file, content);
        const result = await run([file, baselineFile]);
        // "{}"-like text can parse; anything else is refused, naming the file.
        expect(result).toBeInstanceOf(Error);
        expect((result as Error).message).toContain(file);
      }),
      { numRuns: 100 },
    );
  });

  it('any argument list ends in a result or a usage error, never an uncaught one', async () => {
    const token = fc.oneof(
      fc.constantFrom('--format', '-f', 'md', 'json', 'html', '--alpha', '0.05', '2', '-1', 'NaN', '--min-change', '--changed', '--config', '-c', '--bogus', '-x'),
      fc.constant(baselineFile),
      fc.string({ maxLength: 12 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(token, { maxLength: 6 }), async (argv) => {
        const result = await run(argv.filter((a) => a !== '--help' && a !== '-h'));
        if (result instanceof Error) expect(result.message.length).toBeGreaterThan(0);
        else expect([0, 2]).toContain(result);
      }),
      { numRuns: 150 },
    );
  });
});
