import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sessionSeries, validateSession } from '@loadlight/core';
import { beforeAll, describe, expect, it } from 'vitest';

// The child runs the built packages, as a user's program would.
const packagesDir = fileURLToPath(new URL('../../', import.meta.url));
const coreEntry = path.join(packagesDir, 'core', 'dist', 'index.js');
const jsonEntry = path.join(packagesDir, 'reporter-json', 'dist', 'index.js');

beforeAll(() => {
  for (const entry of [coreEntry, jsonEntry]) {
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" first`);
  }
});

function program(dir: string, ending: string): string {
  return `
import { Profiler, definePlugin } from ${JSON.stringify(pathToFileURL(coreEntry).href)};
import json from ${JSON.stringify(pathToFileURL(jsonEntry).href)};
let n = 0;
const counter = definePlugin({
  name: 'counter',
  metrics: { 'counter.value': { unit: 'count', kind: 'gauge', description: 'grows' } },
  apply(p) { p.hooks.collect.tapPromise('counter', async (w) => w.set('counter.value', ++n)); },
});
const profiler = new Profiler(
  { plugins: [counter], reporters: [json({ dir: ${JSON.stringify(dir)} })], rules: [], sampleIntervalMs: 50, sessionId: 'child' },
  { handleExit: true },
);
await profiler.start();
const waitForSamples = setInterval(() => {
  if (profiler.store.size >= 3) {
    clearInterval(waitForSamples);
    process.stdout.write('ready\\n');
    ${ending}
  }
}, 10);
setInterval(() => {}, 1000); // the program's own work keeps it alive
`;
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function run(script: string, onReady: (kill: (signal: NodeJS.Signals) => void) => void): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('ready\n')) {
        stdout = '';
        onReady((signal) => child.kill(signal));
      }
    });
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not finish in time; stderr:\n${stderr}`));
    }, 25_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stderr });
    });
  });
}

function readSession(dir: string) {
  expect(readdirSync(dir)).toEqual(['child.json']);
  const file = path.join(dir, 'child.json');
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  validateSession(parsed, file);
  return parsed;
}

describe('session file of a program that ends abruptly', () => {
  it('is complete after SIGTERM', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-sigterm-'));
    const script = path.join(dir, '..', `${path.basename(dir)}-program.mjs`);
    writeFileSync(script, program(dir, ''));
    const result = await run(script, (kill) => setTimeout(() => kill('SIGTERM'), 1000));
    // The core stops, exports, then lets SIGTERM end the process as it would have.
    expect(result.signal === 'SIGTERM' || result.code === 0).toBe(true);
    expect(result.stderr).toContain('[loadlight] session written to');
    const session = readSession(dir);
    expect(session.samples.t.length).toBeGreaterThanOrEqual(3);
    expect(session.endedAt >= session.startedAt).toBe(true);
  });

  it('is complete after process.exit() from the program (synchronous fallback)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-exit-'));
    const script = path.join(dir, '..', `${path.basename(dir)}-program.mjs`);
    writeFileSync(script, program(dir, 'setTimeout(() => process.exit(0), 1000);'));
    const result = await run(script, () => undefined);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('[loadlight] session written to');
    const session = readSession(dir);
    expect(session.samples.t.length).toBeGreaterThanOrEqual(3);
    expect(sessionSeries(session, 'counter.value').filter((v) => v !== null).length).toBeGreaterThanOrEqual(3);
  });
});
