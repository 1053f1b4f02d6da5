// @ts-check
// npm run bench [-- topic... --quick --strict --list]: runs the benchmark topics in bench/topics/,
// each group in its own node process, prints one table per topic and writes
// bench/results/latest.json and bench/results/<topic>.svg. See bench/README.md.
import path from 'node:path';
import { parseArgs, USAGE } from './lib/args.mjs';
import { assembleTopic, discoverTopics, hostInfo, runGroup, writeResults } from './lib/runner.mjs';
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
  const results = [];
  for (const entry of entries.filter((e) => args.topics.includes(e.topic.id))) {
    const ranAt = new Date().toISOString();
    const startedAt = Date.now();
    /** @type {Array<{ group: string, result?: import('./lib/topic.mjs').GroupResult, error?: string }>} */
    const outcomes = [];
    for (const group of entry.topic.groups) {
      const groupStartedAt = Date.now();
      process.stderr.write(`  ${entry.topic.id} > ${group.id} ... `);
      try {
        outcomes.push({ group: group.id, result: await runGroup(entry, group, args.quick) });
        process.stderr.write(`${((Date.now() - groupStartedAt) / 1000).toFixed(1)} s\n`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        outcomes.push({ group: group.id, error: message });
        process.stderr.write(`FAILED: ${message}\n`);
      }
    }
    const topic = assembleTopic(entry.topic, outcomes, { quick: args.quick, ranAt, durationMs: Date.now() - startedAt });
    results.push(topic);
    process.stdout.write(`\n${formatTopicTable(topic)}\n`);
  }

  const written = writeResults(results, { ...host, loadAverageAfter: hostInfo().loadAverage });
  process.stdout.write(`\nwrote ${written.map((f) => path.relative(process.cwd(), f)).join(', ')} (${((Date.now() - runStartedAt) / 1000).toFixed(1)} s)\n`);

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
