// @ts-check
// npm run bench [-- topic... --quick --strict --list]: runs the benchmark topics in bench/topics/,
// each group in its own node process, prints one table per topic and writes
// bench/results/latest.json and bench/results/<topic>.svg. See bench/README.md.
import path from 'node:path';
import { parseArgs, USAGE } from './lib/args.mjs';
import { assembleTopic, childrenCpuSeconds, discoverTopics, groupBatches, hostInfo, reusedResult, runGroup, writeResults } from './lib/runner.mjs';
import { tally } from './lib/results.mjs';
import { formatTopicTable } from './lib/table.mjs';

async function main() {
  const entries = await discoverTopics();
  const args = parseArgs(process.argv.slice(2), entries.map((e) => e.topic.id));
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.list) {
    for (const { topic } of entries) process.stdout.write(`${topic.id}: ${topic.title}\n  groups: ${topic.groups.map((g) => g.id).join(', ')}\n`);
    return 0;
  }

  const host = hostInfo();
  process.stderr.write(`bench: ${args.quick ? 'quick' : 'full'} run of ${args.topics.join(', ')} on ${host.cores} x ${host.cpu}, node ${host.node}, load ${host.loadAverage.join(' ')}\n`);
  const runStartedAt = Date.now();
  const runCpuBefore = childrenCpuSeconds();
  const results = [];
  /** Results of this run by `<topic>/<group>`, for groups that are the same as one (`sameAs`). */
  /** @type {Map<string, import('./lib/topic.mjs').GroupResult>} */
  const ran = new Map();
  for (const entry of entries.filter((e) => args.topics.includes(e.topic.id))) {
    const ranAt = new Date().toISOString();
    const startedAt = Date.now();
    /** @type {Array<{ group: string, result?: import('./lib/topic.mjs').GroupResult, error?: string }>} */
    const outcomes = [];
    for (const batch of groupBatches(entry.topic.groups, host.cores)) {
      const batchStartedAt = Date.now();
      const cpuBefore = childrenCpuSeconds();
      process.stderr.write(`  ${entry.topic.id} > ${batch.map((g) => g.id).join(' + ')}${batch.length > 1 ? ' (side by side)' : ''} ... `);
      const reused = batch.length === 1 ? reusedResult(batch[0], ran) : null;
      if (reused) {
        outcomes.push({ group: batch[0].id, result: reused });
        process.stderr.write(`the result of ${batch[0].sameAs?.topic} > ${batch[0].sameAs?.group} (the same group)\n`);
        continue;
      }
      const settled = await Promise.all(
        batch.map((group) =>
          runGroup(entry, group, args.quick).then(
            (result) => ({ group: group.id, result }),
            (error) => ({ group: group.id, error: error instanceof Error ? error.message : String(error) }),
          ),
        ),
      );
      const cpuAfter = childrenCpuSeconds();
      const cpu = cpuBefore === null || cpuAfter === null ? '' : ` (CPU ${(cpuAfter - cpuBefore).toFixed(1)} s)`;
      const failures = settled.filter((o) => 'error' in o).map((o) => `${batch.length > 1 ? `${o.group}: ` : ''}${o.error}`);
      process.stderr.write(failures.length > 0 ? `FAILED: ${failures.join('; ')}\n` : `${((Date.now() - batchStartedAt) / 1000).toFixed(1)} s${cpu}\n`);
      for (const outcome of settled) {
        if ('result' in outcome) ran.set(`${entry.topic.id}/${outcome.group}`, outcome.result);
        outcomes.push(outcome);
      }
    }
    const topic = assembleTopic(entry.topic, outcomes, { quick: args.quick, ranAt, durationMs: Date.now() - startedAt });
    results.push(topic);
    process.stdout.write(`\n${formatTopicTable(topic)}\n`);
  }

  const written = writeResults(results, { ...host, loadAverageAfter: hostInfo().loadAverage });
  const runCpuAfter = childrenCpuSeconds();
  // The groups' CPU beside the wall time: on a shared machine the wall time says more about the others.
  const cpu = runCpuBefore === null || runCpuAfter === null ? '' : `, ${(runCpuAfter - runCpuBefore).toFixed(1)} s of CPU in the groups' processes`;
  process.stdout.write(`\nwrote ${written.map((f) => path.relative(process.cwd(), f)).join(', ')} (${((Date.now() - runStartedAt) / 1000).toFixed(1)} s${cpu})\n`);

  const failed = results.some((t) => t.errors.length > 0);
  const missed = results.some((t) => tally(t.comparisons).MISSED > 0);
  return failed || (args.strict && missed) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
