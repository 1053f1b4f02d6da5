// A small job worker: it hashes incoming jobs; every few seconds a rush of jobs outruns it, and
// (a bug on purpose) it leaves an acknowledgement timer behind for every batch it drops.
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

// Jobs arrive every 100 ms; for 2 s of every 6 s, a rush brings twenty times as many.
const inRush = () => Math.floor(Date.now() / 1000) % 6 < 2;
setInterval(() => {
  const arriving = inRush() ? 400 : 20;
  for (let i = 0; i < arriving; i++) queue.push(randomBytes(64));
}, 100);

// The worker takes up to 45 ms of every 50 ms.
setInterval(() => {
  const started = performance.now();
  while (queue.length > 0 && performance.now() - started < 45) {
    hashJob(queue.shift(), 300);
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
