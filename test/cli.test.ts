import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateSession } from '@loadlight/core';
import { until } from '@loadlight/core/testing';
import { loadlight, root, sessionsIn, start, tempProject } from './helpers.js';

const quietConfig = (extra = '') => `
  export default {
    sampleIntervalMs: 200,
    plugins: ['system'],
    reporters: [['json', { dir: 'out' }]],
    ${extra}
  };
`;

// A Node program that works for a while and then ends by itself.
const busyProgram = `
  const end = Date.now() + Number(process.argv[2] ?? 1500);
  const t = setInterval(() => { const s = Date.now(); while (Date.now() - s < 20); if (Date.now() > end) clearInterval(t); }, 25);
`;

describe('loadlight CLI', () => {
  it('prints help for the tool and each command', async () => {
    const top = await loadlight(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Usage: loadlight <command>');
    for (const command of ['run', 'validate']) {
      const help = await loadlight([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: loadlight ${command}`);
    }
  });

  it('rejects an unknown command and a bad option with exit 1 and no stack trace', async () => {
    const unknown = await loadlight(['profile']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown command "profile"');
    const bad = await loadlight(['run', '--durration', '3s', '--', 'node', '-e', '1']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("Unknown option '--durration'");
    const duration = await loadlight(['run', '--duration', 'soon', '--', 'node', '-e', '1']);
    expect(duration.stderr).toContain('--duration expects a duration such as 30s, 2m or 500ms, got "soon"');
    for (const run of [unknown, bad, duration]) expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it('validate: the embedded default passes and lists the rules; --facts prints the catalogue', async () => {
    const dir = tempProject({});
    const ok = await loadlight(['validate', '--facts'], { cwd: dir });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('no config file found: the embedded default');
    expect(ok.stdout).toContain('plugins: system');
    expect(ok.stdout).toMatch(/load-levels\.json: \d+ rules/);
    expect(ok.stdout).toMatch(/process\s+\$\.cpu\.percent\s+percent/);
  });

  it('validate: a bad config and a bad rule file exit 1 with the file, the place and what is wrong', async () => {
    const badOption = tempProject({ 'perf.config.ts': `export default { sampleIntervalMs: -5 };` });
    const r1 = await loadlight(['validate'], { cwd: badOption });
    expect(r1.code).toBe(1);
    expect(r1.stderr).toBe('loadlight: perf.config.ts: "sampleIntervalMs" must be >= 10, got number -5.\n');

    const badRule = tempProject({
      'perf.config.ts': quietConfig(`rules: ['./rules.json']`),
      'rules.json': JSON.stringify({
        rules: [
          {
            name: 'typo',
            description: 'a fact name with a typo',
            conditions: { all: [{ fact: 'proces', path: '$.cpu.percent', operator: 'greaterThan', value: 50 }] },
            event: { type: 'load-level', params: { level: 'red' } },
          },
        ],
      }),
    });
    const r2 = await loadlight(['validate'], { cwd: badRule });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('rules.json');
    expect(r2.stderr).toContain('rule "typo"');
    expect(r2.stderr).toContain('Did you mean "process"?');
    expect(r2.stderr).not.toMatch(/^\s+at /m);
  });

  it('run: profiles a Node program from inside with no change to its code, and keeps its exit code', async () => {
    const dir = tempProject({ 'perf.config.ts': quietConfig(), 'app.js': `${busyProgram}; process.exitCode = 3;` });
    const run = await loadlight(['run', '--', 'node', 'app.js', '1500'], { cwd: dir });
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.code).toBe(3);
    const [session] = sessionsIn(path.join(dir, 'out'));
    expect(session, run.stderr).toBeDefined();
    validateSession(session!.data);
    expect(session!.data.pid).not.toBe(process.pid);
    expect(session!.data.samples.t.length).toBeGreaterThanOrEqual(3);
    expect(session!.data.statistics['process.cpu.percent'].max).toBeGreaterThan(0);
  });

  it('run --duration stops the program and still writes the complete session', async () => {
    const dir = tempProject({ 'perf.config.ts': quietConfig(), 'app.js': 'setInterval(() => {}, 1000);' });
    // --duration counts from the program's start: 3 s leaves the preload 2 s to start profiling on a busy machine
    const run = await loadlight(['run', '--duration', '3s', '--', 'node', 'app.js'], { cwd: dir });
    expect(run.code).toBe(0);
    const [session] = sessionsIn(path.join(dir, 'out'));
    validateSession(session!.data);
    expect(session!.data.durationMs).toBeGreaterThan(1000);
    expect(session!.data.durationMs).toBeLessThan(3000);
  });

  it('SIGTERM during a run leaves a complete session file', async () => {
    const dir = tempProject({ 'perf.config.ts': quietConfig(), 'app.js': 'setInterval(() => {}, 1000);' });
    const { child, done } = start([path.join(root, 'packages/cli/bin/loadlight.js'), 'run', '--', 'node', 'app.js'], { cwd: dir });
    // wait until the program is being sampled (its journal holds two rows), then terminate loadlight
    const out = path.join(dir, 'out');
    const journalRows = () => {
      if (!existsSync(out)) return 0;
      const journal = readdirSync(out).find((f) => f.endsWith('.journal.jsonl'));
      return journal ? readFileSync(path.join(out, journal), 'utf8').split('\n').filter((l) => l.startsWith('[')).length : 0;
    };
    await until(() => journalRows() >= 2, 'two samples in the journal', 20_000);
    child.kill('SIGTERM');
    const run = await done;
    expect(run.code).not.toBe(0);
    await until(() => sessionsIn(path.join(dir, 'out')).length > 0, 'the session file', 5000);
    const [session] = sessionsIn(path.join(dir, 'out'));
    validateSession(session!.data);
    expect(session!.data.samples.t.length).toBeGreaterThanOrEqual(2);
  });

  it('run: samples a non-Node command and its children from outside', async () => {
    const dir = tempProject({ 'perf.config.ts': quietConfig() });
    const script = 'i=0; while [ $i -lt 3000000 ]; do i=$((i+1)); done & wait';
    const run = await loadlight(['run', '--duration', '2s', '--', 'sh', '-c', script], { cwd: dir });
    expect(run.code).toBe(0);
    const [session] = sessionsIn(path.join(dir, 'out'));
    validateSession(session!.data);
    const names = session!.data.modules.map((m: { name: string }) => m.name);
    expect(names).toContain('sh');
    const busiest = Math.max(...session!.data.modules.map((m: { cpuPercent: number | null }) => m.cpuPercent ?? 0));
    expect(busiest).toBeGreaterThan(5);
    expect(session!.data.catalogue['process.cpu.percent']).toBeUndefined();
  });
});

describe('examples/basic as a user runs it', () => {
  it('npx loadlight run -- node index.js, from the example folder, uses its perf.config.ts and custom plugin', async () => {
    const dir = path.join(root, 'examples/basic');
    const before = new Set(sessionsIn(path.join(dir, 'perf/samples')).map((s) => s.file));
    const run = await loadlight(['run', '--duration', '4s', '--', 'node', 'index.js'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).toMatch(/\[loadlight\] \d+s cpu/);
    const written = sessionsIn(path.join(dir, 'perf/samples')).filter((s) => !before.has(s.file));
    expect(written).toHaveLength(1);
    validateSession(written[0]!.data);
    expect(written[0]!.data.config.plugins).toEqual(['system', 'handles']);
    expect(written[0]!.data.statistics['handles.active'].count).toBeGreaterThanOrEqual(3);
  });
});
