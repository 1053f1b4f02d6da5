#!/usr/bin/env node
// What a scrape and a tick cost the profiled program, for the README: a profiler with the system
// and modules plugins and N profiled modules, scraped in-process (reporter.exposition(), the same
// work an HTTP scrape does minus the socket). Run after `npm run build`:
//   node packages/reporter-prometheus/scripts/scrape-cost.mjs [modules=100] [scrapes=200]
import { Profiler } from '@loadlight/core';
import modules, { profileModule } from '@loadlight/plugin-modules';
import system from '@loadlight/plugin-system';
import prometheus from '@loadlight/reporter-prometheus';

const count = Number(process.argv[2] ?? 100);
const scrapes = Number(process.argv[3] ?? 200);
const fns = Array.from({ length: count }, (_, i) => profileModule(`bench.m${i}`, (x) => x + 1));

async function run(withReporter) {
  const reporters = withReporter ? [prometheus({ port: 0, quiet: true })] : [];
  const profiler = new Profiler({ plugins: [system(), modules()], reporters, rules: [], sampleIntervalMs: 100 }, { handleExit: false });
  await profiler.start();
  const end = Date.now() + 3000;
  while (Date.now() < end) {
    for (const fn of fns) fn(1);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const overhead = profiler.overhead();
  let scrape = null;
  if (withReporter) {
    const reporter = profiler.config.reporters[0];
    const body = await reporter.exposition();
    const started = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < scrapes; i++) await reporter.exposition();
    const cpu = process.cpuUsage(started);
    scrape = { wallMs: (performance.now() - t0) / scrapes, cpuMs: (cpu.user + cpu.system) / 1000 / scrapes, bytes: Buffer.byteLength(body), series: body.split('\n').filter((l) => l && !l.startsWith('#')).length };
  }
  await profiler.stop();
  return { meanTickMs: overhead.meanTickMs, scrape };
}

// Interleaved, twice each: the figures are noisy on a shared machine.
const results = { without: [], with: [] };
for (let round = 0; round < 2; round++) {
  results.without.push(await run(false));
  results.with.push(await run(true));
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const scrape = results.with.map((r) => r.scrape);
console.log(`${count} modules, node ${process.version}`);
console.log(`mean tick without the reporter: ${mean(results.without.map((r) => r.meanTickMs)).toFixed(3)} ms`);
console.log(`mean tick with the reporter:    ${mean(results.with.map((r) => r.meanTickMs)).toFixed(3)} ms`);
console.log(`one scrape: ${mean(scrape.map((s) => s.cpuMs)).toFixed(2)} ms CPU (${mean(scrape.map((s) => s.wallMs)).toFixed(2)} ms wall), ${scrape[0].series} series, ${(scrape[0].bytes / 1024).toFixed(0)} KB`);
