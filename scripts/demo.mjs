// npm run demo: profiles the basic example for about 20 seconds with live console output,
// then checks the session file it wrote against the published schema and says where it is.
// Options: --duration <time> (default 20s).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateSession } from '@loadlight/core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const example = path.join(root, 'examples/basic');
const samplesDir = path.join(example, 'perf/samples');
const durationIndex = process.argv.indexOf('--duration');
const duration = durationIndex > 0 ? process.argv[durationIndex + 1] : '20s';

const startedAt = Date.now();
const cli = path.join(root, 'packages/cli/bin/loadlight.js');
const child = spawn(
  process.execPath,
  [cli, 'run', '--config', path.join(example, 'perf.config.ts'), '--duration', duration, '--', process.execPath, path.join(example, 'index.js')],
  { stdio: 'inherit', cwd: root },
);
const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
if (code !== 0) {
  console.error(`demo: the profiled program ended with exit code ${code}`);
  process.exit(code);
}

const written = readdirSync(samplesDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => path.join(samplesDir, f))
  .filter((f) => statSync(f).mtimeMs >= startedAt);
if (written.length === 0) {
  console.error(`demo: no session file was written to ${path.relative(process.cwd(), samplesDir)}`);
  process.exit(1);
}
const file = written.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
const session = JSON.parse(readFileSync(file, 'utf8'));
validateSession(session, path.relative(process.cwd(), file));
const levels = session.levels.map((l) => `${l.subject}=${l.level}`).join(' ');
console.log(`\ndemo: session ${session.sessionId}: ${session.samples.t.length} samples, levels ${levels || '(none)'}`);
for (const r of session.recommendations.slice(0, 5)) console.log(`demo:   [${r.priority}] ${r.message}`);
console.log(`demo: profiler's own cost: ${session.overhead.cpuMs.toFixed(1)} ms CPU (${session.overhead.cpuPercent.toFixed(3)}% of one core)`);
console.log(`demo: session written to ${path.relative(process.cwd(), file)} (valid against the schema)`);
