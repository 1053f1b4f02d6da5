// How a profiled program ends: the profiler never keeps it alive, never takes over its signals or
// its exit code, and the session is written on every normal way out. Each case is a real child
// process running the built packages with the embedded default (system, modules, console, json).
// Covered elsewhere: SIGTERM and process.exit(0) with a Profiler (reporter-json/src/exit.test.ts),
// resources released after stop() (plugin-system, plugin-modules exit tests), `loadlight run`
// keeping the exit code and SIGTERM to the CLI (test/cli.test.ts).
import path from 'node:path';
import { validateSession } from '@loadlight/core';
import { describe, expect, it } from 'vitest';
import { sessionsIn, start, tempProject, type Run } from './helpers.js';

/** Starts the default profiler (100 ms ticks) and prints `ready` once it holds 3 samples. */
const prelude = (sessionId: string) => `
import { startProfiling, getProfiler, stopProfiling } from '@loadlight/core';
const exitListenersBefore = process.listenerCount('exit');
await startProfiling({ configFile: false, sampleIntervalMs: 100, sessionId: ${JSON.stringify(sessionId)} });
const ready = new Promise((resolve) => {
  const poll = setInterval(() => {
    if (getProfiler().store.size >= 3) { clearInterval(poll); process.stdout.write('ready\\n'); resolve(); }
  }, 20);
});
`;

interface Outcome extends Run {
  /** Milliseconds from spawn to exit. */
  ms: number;
  dir: string;
}

/** Runs `body` (after the prelude) in a fresh node; `onReady` gets a way to signal it. */
async function runProgram(
  sessionId: string,
  body: string,
  onReady?: (kill: (signal: NodeJS.Signals) => void, output: () => string) => void,
): Promise<Outcome> {
  const dir = tempProject({ 'app.mjs': prelude(sessionId) + body });
  const began = Date.now();
  const { child, done } = start(['app.mjs'], { cwd: dir });
  let stdout = '';
  let signalled = false;
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (!signalled && stdout.includes('ready\n')) {
      signalled = true;
      onReady?.((signal) => child.kill(signal), () => stdout);
    }
  });
  // A program the profiler kept alive never ends by itself: end it, and let the test say so.
  const guard = setTimeout(() => child.kill('SIGKILL'), 25_000);
  const run = await done;
  clearTimeout(guard);
  return { ...run, ms: Date.now() - began, dir };
}

/** The one session file the program left, validated against the schema. */
function sessionOf(outcome: Outcome, sessionId: string) {
  const sessions = sessionsIn(path.join(outcome.dir, 'perf/samples'));
  expect(sessions.map((s) => path.basename(s.file)), outcome.stderr).toEqual([`${sessionId}.json`]);
  const data = sessions[0]!.data;
  validateSession(data);
  expect(data.samples.t.length).toBeGreaterThanOrEqual(3);
  return data;
}

describe('the profiler never keeps a process alive by itself', () => {
  it('a program that starts profiling and does nothing else exits on its own, promptly, with its session written (beforeExit)', async () => {
    const outcome = await runProgram('idle', `
      await ready;
      process.stdout.write('main done ' + Date.now() + '\\n');
      process.on('exit', () => process.stdout.write('exit at ' + Date.now() + '\\n'));
    `);
    expect(outcome.signal, outcome.stderr).toBeNull();
    expect(outcome.code, outcome.stderr).toBe(0);
    const mainDone = Number(/main done (\d+)/.exec(outcome.stdout)![1]);
    const exitAt = Number(/exit at (\d+)/.exec(outcome.stdout)![1]);
    // Nothing but the profiler's own work after main: stop, final sample, export (generous for a loaded machine).
    expect(exitAt - mainDone).toBeLessThan(5000);
    expect(outcome.stderr).toContain('[loadlight] session written to perf/samples/idle.json');
    sessionOf(outcome, 'idle');
  });
});

describe("the program's exit code is preserved", () => {
  it('process.exitCode = 3 at the natural end: exit code 3, session written', async () => {
    const outcome = await runProgram('exit-code', `await ready; process.exitCode = 3;`);
    expect(outcome.code, outcome.stderr).toBe(3);
    sessionOf(outcome, 'exit-code');
  });

  it('process.exit(5) with work still pending: exit code 5, session written synchronously', async () => {
    const outcome = await runProgram('exit-5', `setInterval(() => {}, 1000); await ready; process.exit(5);`);
    expect(outcome.code, outcome.stderr).toBe(5);
    sessionOf(outcome, 'exit-5');
  });

  it("an uncaught exception: exit code 1, the program's own error on stderr, session written", async () => {
    const outcome = await runProgram('uncaught', `
      setInterval(() => {}, 1000);
      await ready;
      setTimeout(() => { throw new Error('the program failed on purpose'); }, 0);
    `);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('Error: the program failed on purpose');
    expect(outcome.stderr).toMatch(/^\s+at .*app\.mjs/m);
    sessionOf(outcome, 'uncaught');
  });
});

describe("signals: the program's own handling stays the program's", () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s with no handler of the program: the session is written, then the process dies by the signal', async (signal) => {
    const outcome = await runProgram(`no-handler-${signal}`, 'setInterval(() => {}, 1000);', (kill) => kill(signal));
    // As unprofiled: killed by the signal (a shell shows 130 for SIGINT, 143 for SIGTERM).
    expect(outcome.signal, outcome.stderr).toBe(signal);
    expect(outcome.code).toBeNull();
    sessionOf(outcome, `no-handler-${signal}`);
  });

  it.each([
    ['SIGINT', 'once', 'async'],
    ['SIGINT', 'on', 'sync'],
    ['SIGTERM', 'once', 'sync'],
    ['SIGTERM', 'on', 'async'],
  ] as const)("%s with the program's own process.%s handler (%s cleanup, exit 42): it runs exactly as written, session written", async (signal, how, cleanup) => {
    const id = `own-${signal}-${how}-${cleanup}`;
    const exit = `process.stdout.write('cleanup done\\n'); process.exit(42);`;
    const handler = cleanup === 'async' ? `setTimeout(() => { ${exit} }, 300);` : exit;
    const outcome = await runProgram(id, `
      process.${how}(${JSON.stringify(signal)}, () => { process.stdout.write('handler ran\\n'); ${handler} });
      setInterval(() => {}, 1000);
    `, (kill) => kill(signal));
    expect(outcome.signal, outcome.stderr).toBeNull();
    expect(outcome.code, outcome.stderr).toBe(42);
    expect(outcome.stdout.match(/handler ran/g)).toHaveLength(1);
    expect(outcome.stdout).toContain('cleanup done');
    sessionOf(outcome, id);
  });

  /** A program's use of signal-exit: its callback says which signal it saw. */
  const SIGNAL_EXIT = `
      const { onExit } = await import('signal-exit');
      onExit((code, signal) => { process.stdout.write('signal-exit saw ' + signal + '\\n'); });`;

  // signal-exit (under execa, ink, write-file-atomic) listens to signals and ends the process itself
  // when its listeners are the only ones: it must neither count as the program's handler (the
  // program would never end: neither side re-raised) nor end the process before the session is out.
  it.each(['SIGINT', 'SIGTERM'] as const)('%s in a program using signal-exit: the session is written, signal-exit runs its callback, the process dies by the signal', async (signal) => {
    const id = `signal-exit-${signal}`;
    const outcome = await runProgram(id, `${SIGNAL_EXIT}
      getProfiler().hooks.export.tapPromise('slow-export', () => new Promise((resolve) => setTimeout(resolve, 300)));
      setInterval(() => {}, 1000);
    `, (kill) => kill(signal));
    expect(outcome.signal, outcome.stderr).toBe(signal);
    expect(outcome.stdout).toContain(`signal-exit saw ${signal}`);
    expect(outcome.ms).toBeLessThan(20_000);
    sessionOf(outcome, id);
  });

  it.each([
    ['the process', '', null],
    ['a program using signal-exit', SIGNAL_EXIT, 'signal-exit saw SIGINT'],
  ] as const)('a second SIGINT while the session is being written ends %s at once, as unprofiled', async (_what, uses, said) => {
    // An export that hangs (until lifecycleTimeoutMs, 10 s, gives up on it): only the second
    // Ctrl-C can end this program early.
    let secondAt = 0;
    const outcome = await runProgram(said ? 'signal-exit-second' : 'second-sigint', `${uses}
      getProfiler().hooks.export.tapPromise('slow-export', async () => {
        process.stdout.write('exporting\\n');
        await new Promise((resolve) => setTimeout(resolve, 20_000));
      });
      setInterval(() => {}, 1000);
    `, (kill, output) => {
      kill('SIGINT');
      const again = setInterval(() => {
        if (output().includes('exporting')) {
          clearInterval(again);
          secondAt = Date.now();
          kill('SIGINT');
        }
      }, 20);
    });
    expect(outcome.stdout).toContain('exporting');
    if (said) expect(outcome.stdout).toContain(said);
    expect(outcome.signal, outcome.stderr).toBe('SIGINT');
    expect(secondAt).toBeGreaterThan(0);
    expect(Date.now() - secondAt).toBeLessThan(5000);
  });

  it('a SIGTERM while the session of a SIGINT is being written joins it: the session is written, then the process dies by SIGTERM', async () => {
    const outcome = await runProgram('int-then-term', `
      getProfiler().hooks.export.tapPromise('slow-export', async () => {
        process.stdout.write('exporting\\n');
        await new Promise((resolve) => setTimeout(resolve, 500));
        // Printed only if the SIGTERM waited for this export (the session file is written sooner).
        process.stdout.write('export done\\n');
      });
      setInterval(() => {}, 1000);
    `, (kill, output) => {
      kill('SIGINT');
      const then = setInterval(() => {
        if (output().includes('exporting')) {
          clearInterval(then);
          kill('SIGTERM');
        }
      }, 20);
    });
    expect(outcome.stdout).toContain('exporting');
    expect(outcome.stdout).toContain('export done');
    expect(outcome.signal, outcome.stderr).toBe('SIGTERM');
    sessionOf(outcome, 'int-then-term');
  });

  it('two profilers in one program: SIGTERM writes both sessions before the signal ends the process', async () => {
    const outcome = await runProgram('first', `
      const { Profiler } = await import('@loadlight/core');
      const { default: json } = await import('@loadlight/reporter-json');
      // The second one exports slowly: the first one's re-raise must wait for it.
      const second = new Profiler({ plugins: [], rules: [], reporters: [json()], sampleIntervalMs: 100, sessionId: 'second' });
      second.hooks.export.tapPromise('slow', () => new Promise((resolve) => setTimeout(resolve, 500)));
      await second.start();
      setInterval(() => {}, 1000);
    `, (kill) => kill('SIGTERM'));
    expect(outcome.signal, outcome.stderr).toBe('SIGTERM');
    const names = sessionsIn(path.join(outcome.dir, 'perf/samples')).map((s) => path.basename(s.file)).sort();
    expect(names, outcome.stderr).toEqual(['first.json', 'second.json']);
    for (const s of sessionsIn(path.join(outcome.dir, 'perf/samples'))) validateSession(s.data);
  });
});

describe('stopProfiling()', () => {
  it('writes the session, removes every exit listener it added, and leaves nothing running', async () => {
    const outcome = await runProgram('stopped', `
      await ready;
      const session = await stopProfiling();
      process.stdout.write(JSON.stringify({
        samples: session.samples.t.length,
        listeners: ['SIGINT', 'SIGTERM', 'beforeExit'].map((e) => process.listenerCount(e)),
        exitListenersAdded: process.listenerCount('exit') - exitListenersBefore,
        resources: process.getActiveResourcesInfo().filter((r) => !['TTYWrap', 'PipeWrap', 'CloseReq', 'FSReqCallback'].includes(r)),
      }) + '\\n');
    `);
    expect(outcome.code, outcome.stderr).toBe(0);
    const report = JSON.parse(outcome.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(report).toEqual({ samples: expect.any(Number), listeners: [0, 0, 0], exitListenersAdded: 0, resources: [] });
    expect(report.samples).toBeGreaterThanOrEqual(3);
    sessionOf(outcome, 'stopped');
  });
});
