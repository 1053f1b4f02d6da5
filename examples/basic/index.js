// A small job worker: it hashes incoming jobs, with a burst of heavy work every few seconds,
// and (a bug on purpose) leaves an acknowledgement timer behind for every job it drops.
// Run it profiled, without changing this code:  npx loadlight run -- node examples/basic/index.js
import { createHash, randomBytes } from 'node:crypto';

const durationMs = Number(process.env.BASIC_DURATION_MS ?? 0); // 0: until stopped
const queue = [];
const retained = [];
let processed = 0;
let dropped = 0;

function hashJob(job, rounds) {
  let digest = job;
  for (let i = 0; i < rounds; i++) digest = createHash('sha256').update(digest).digest();
  return digest;
}

// Jobs arrive every 100 ms.
setInterval(() => {
  for (let i = 0; i < 20; i++) queue.push(randomBytes(256));
}, 100);

// The worker takes up to 20 ms of every 50 ms; every 5 s a burst takes 2 s of full CPU.
setInterval(() => {
  const burst = Math.floor(Date.now() / 1000) % 5 < 2;
  const budgetMs = burst ? 45 : 20;
  const started = performance.now();
  while (queue.length > 0 && performance.now() - started < budgetMs) {
    hashJob(queue.shift(), burst ? 400 : 100);
    processed++;
  }
  if (queue.length > 500) {
    // Too far behind: drop the oldest jobs, waiting for an acknowledgement that never comes.
    const drop = queue.splice(0, 100);
    dropped += drop.length;
    setTimeout(() => undefined, 60_000);
    retained.push(drop); // kept "for a retry": the heap grows
  }
}, 50);

setInterval(() => {
  process.stdout.write(`[worker] processed ${processed} jobs, ${queue.length} waiting, ${dropped} dropped\n`);
}, 5000).unref();

if (durationMs > 0) setTimeout(() => process.exit(0), durationMs);
