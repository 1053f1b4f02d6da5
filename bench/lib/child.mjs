// @ts-check
// Entry point of a group's child process: `node --expose-gc child.mjs <topic file> <group id> [--quick]`.
// Runs the group and sends its result to the parent over the IPC channel.
import { pathToFileURL } from 'node:url';
import { measureCases, SETTINGS } from './measure.mjs';

/** @typedef {import('./topic.mjs').Topic} Topic */

/** @param {unknown} message */
function send(message) {
  return new Promise((resolve, reject) => {
    if (!process.send) return reject(new Error('bench/lib/child.mjs must be started by bench/run.mjs (no IPC channel)'));
    process.send(message, (/** @type {Error | null} */ error) => (error ? reject(error) : resolve(undefined)));
  });
}

async function main() {
  const [topicFile, groupId, ...flags] = process.argv.slice(2);
  const quick = flags.includes('--quick');
  const topic = /** @type {Topic} */ ((await import(pathToFileURL(topicFile).href)).default);
  const group = topic.groups.find((g) => g.id === groupId);
  if (!group) throw new Error(`topic "${topic.id}" has no group "${groupId}"`);
  const settings = quick ? SETTINGS.quick : SETTINGS.full;
  const module = await group.load();
  const result = await module.run(
    {
      quick,
      settings,
      measure: (cases, overrides) => measureCases(cases, { ...settings, ...overrides }),
    },
    group.params ?? {},
  );
  await send({ ok: true, result });
}

main().then(
  // Exit explicitly: a group may leave a timer or a handle behind (a peer's exporter, say).
  () => process.exit(0),
  async (error) => {
    const message = error instanceof Error ? error.message : String(error);
    const stack = error instanceof Error ? error.stack : undefined;
    await send({ ok: false, message, stack }).catch(() => process.stderr.write(`${stack ?? message}\n`));
    process.exit(1);
  },
);
