// @ts-check
// Module wrappers: profileModule on a sync function against two process.hrtime.bigint() calls
// around the same function, with prom-client's startTimer()/end(), an OpenTelemetry span and
// process.cpuUsage() around a call beside them, under a running profiler (modules).
// With `params.modules` (scaling groups): the wrapper and the hrtime pair only, with that many
// modules existing, each group in its own process.
import { collectOnce, loadOurs, recordedNote, startProfiler, work } from './common.mjs';

/** @type {import('../../lib/topic.mjs').GroupModule['run']} */
export async function run(ctx, params) {
  const modulesExisting = typeof params.modules === 'number' ? params.modules : 1;
  const withPeers = params.peers === true;
  /** @type {string[]} */
  const notes = [];
  const { modules, missing } = await loadOurs(['plugin-modules']);
  const plugin = modules['plugin-modules'];
  // Wrapped when the program loads, before profiling starts, as a program would; the other
  // modules are then each called once while the profiler runs, and one collect declares their
  // metrics: every one of them exists wherever the profiler keeps modules before the timing.
  /** @type {Array<(x: number) => number>} */
  const others = [];
  /** @type {((x: number) => number) | null} */
  let wrapped = null;
  if (plugin) {
    for (let i = 1; i < modulesExisting; i++) {
      // Distinct source per module, as distinct modules of a program have.
      const other = /** @type {(x: number) => number} */ (new Function('x', `return x + ${i};`));
      others.push(plugin.profileModule(`bench.other.${i}`, other));
    }
    wrapped = plugin.profileModule('bench.work', work);
  }
  const profiler = await startProfiler([plugin?.default()].filter(Boolean), notes);
  others.forEach((other, i) => other(i));
  if (plugin) {
    const startedAt = performance.now();
    await collectOnce(profiler);
    const seconds = (performance.now() - startedAt) / 1000;
    if (seconds > 1) {
      notes.push(`with ${modulesExisting.toLocaleString('en-US')} modules, the first collect (which declares their metrics) took ${seconds.toFixed(1)} s; it runs before the timing, outside the figures`);
    }
  }
  let k = 0;
  /** @type {bigint} */
  let elapsedNs = 0n;

  /** @type {import('../../lib/measure.mjs').MicroCase[]} */
  const cases = [
    wrapped
      ? { id: 'profileModule', label: 'loadlight profileModule(name, fn)', who: 'loadlight', op: () => /** @type {(x: number) => number} */ (wrapped)((k = (k + 1) | 0)) }
      : { id: 'profileModule', label: 'loadlight profileModule(name, fn)', who: 'loadlight', unavailable: missing['plugin-modules'] },
    {
      id: 'node.hrtime',
      label: '2x process.hrtime.bigint() around fn',
      who: 'node',
      op: () => {
        const t0 = process.hrtime.bigint();
        const result = work((k = (k + 1) | 0));
        elapsedNs = process.hrtime.bigint() - t0;
        return result;
      },
    },
  ];
  if (withPeers) cases.push(...(await peerCases(() => (k = (k + 1) | 0))));
  const measured = ctx.measure(cases);

  if (plugin) {
    const calls = measured.find((m) => m.id === 'profileModule')?.calls ?? 0;
    notes.push(recordedNote(await collectOnce(profiler), 'module.bench.work.', 'profileModule(name, fn)', { metric: 'module.bench.work.calls', calls }));
  }
  await profiler.stop();

  const count = modulesExisting.toLocaleString('en-US');
  const running = `profiler running: ${plugin ? 'plugin-modules' : 'no plugin built'}, reporters: [], rules: []; ${count} module${modulesExisting === 1 ? '' : 's'} existing; fn is a few ns of integer work`;
  return {
    measured,
    notes,
    comparisons: [
      withPeers
        ? {
            id: 'module',
            title: 'profileModule on a sync function vs two hrtime.bigint() calls around it',
            note: running,
            baseline: 'node.hrtime',
            cases: ['profileModule', 'node.hrtime', 'js.direct', 'prom.timer', 'otel.span', 'node.cpuUsage'],
            bounds: { profileModule: { ratio: 1.5 } },
          }
        : {
            id: `module-${modulesExisting}`,
            title: `profileModule with ${count} module${modulesExisting === 1 ? '' : 's'} existing vs two hrtime.bigint() calls`,
            note: running,
            baseline: 'node.hrtime',
            cases: ['profileModule', 'node.hrtime'],
            bounds: { profileModule: { ratio: 1.5 } },
          },
    ],
  };
}

/**
 * The peers, loaded only in the group that shows them (OpenTelemetry's SDK is large: the scaling
 * groups should not carry its JIT state).
 * @param {() => number} next the next argument
 * @returns {Promise<import('../../lib/measure.mjs').MicroCase[]>}
 */
async function peerCases(next) {
  const { Histogram, Registry } = await import('prom-client');
  const { BasicTracerProvider } = await import('@opentelemetry/sdk-trace-base');
  const registry = new Registry();
  const promLatency = new Histogram({ name: 'bench_work_seconds', help: 'work latency', registers: [registry] });
  // The SDK's tracer, sampling every span (the default): spans record their timing and end for
  // real; no processor is attached, so nothing is exported (the cheapest real span).
  const tracer = new BasicTracerProvider().getTracer('bench');
  const probe = tracer.startSpan('probe');
  if (!probe.isRecording()) throw new Error('the OpenTelemetry span is not recording: the peer would time a no-op');
  probe.end();
  // Written by every call, like `elapsedNs`: results kept where the compiler cannot drop them.
  /** @type {NodeJS.CpuUsage} */
  let cpu = { user: 0, system: 0 };
  return [
    { id: 'js.direct', label: 'fn called directly', who: 'js', op: () => work(next()) },
    {
      id: 'prom.timer',
      label: 'prom-client startTimer() / end()',
      who: 'prom-client',
      op: () => {
        const end = promLatency.startTimer();
        const result = work(next());
        end();
        return result;
      },
    },
    {
      id: 'otel.span',
      label: 'OpenTelemetry span (SDK tracer)',
      who: 'opentelemetry',
      op: () => {
        const span = tracer.startSpan('work');
        const result = work(next());
        span.end();
        return result;
      },
    },
    {
      id: 'node.cpuUsage',
      label: 'process.cpuUsage() around fn',
      who: 'node',
      op: () => {
        const before = process.cpuUsage();
        const result = work(next());
        cpu = process.cpuUsage(before);
        return result;
      },
    },
  ];
}
