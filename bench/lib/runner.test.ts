import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureTopic } from './fixtures/topic.js';
import { assembleTopic, childrenCpuSeconds, discoverTopics, groupBatches, reusedResult, runGroup, writeResults } from './runner.mjs';
import type { GroupResult, Topic } from './topic.mjs';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-bench-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  const { rmSync } = await import('node:fs');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const groupResult = (baseline = 'b'): GroupResult => ({
  measured: [
    { id: 'a', label: 'A', who: 'loadlight', unit: 'ns/op', median: 3, spread: 0, samples: [3, 3] },
    { id: 'b', label: 'B', who: 'node', unit: 'ns/op', median: 2, spread: 0, samples: [2, 2] },
  ],
  comparisons: [{ id: 'ab', title: 'A vs B', baseline, cases: ['a', 'b'], bounds: { a: { ratio: 2 } } }],
  notes: ['same note', 'same note'],
});

describe('assembleTopic', () => {
  it('builds the comparisons of every group, keeps failures as errors and adds derived ones', () => {
    const topic: Topic = {
      id: 't',
      order: 1,
      title: 'T',
      method: (settings, quick) => `${settings.rounds} rounds${quick ? ' (quick)' : ''}`,
      groups: [],
      derive: (results) => ({ comparisons: [], notes: [`derived from ${[...results.keys()].join(', ')}`] }),
    };
    const result = assembleTopic(
      topic,
      [
        { group: 'one', result: groupResult() },
        { group: 'two', error: 'timed out after 120 s' },
        { group: 'three', result: groupResult('nobody') },
      ],
      { quick: true, ranAt: '2025-01-01T00:00:00.000Z', durationMs: 10 },
    );
    expect(result.comparisons.map((c) => [c.id, c.rows[0].ratio, c.rows[0].verdict])).toEqual([['ab', 1.5, 'MET']]);
    expect(result.errors).toEqual([
      { group: 'two', message: 'timed out after 120 s' },
      { group: 'three', message: 'comparison "ab": baseline "nobody" is not among its cases' },
    ]);
    expect(result.notes).toEqual(['one: same note', 'three: same note', 'derived from one, three']);
    expect(result.method).toBe('15 rounds (quick)');
    expect(Object.keys(result.raw)).toEqual(['one', 'three']);
  });
});

describe('reusedResult', () => {
  const load = async () => ({ run: () => groupResult() });
  it('takes the result of the same group from earlier in the run, through adapt, and says so', () => {
    const source = groupResult();
    const ran = new Map([['hot-path/module-count-1', source]]);
    const group = {
      id: 'module-count-1',
      load,
      sameAs: { topic: 'hot-path', group: 'module-count-1', adapt: (r: GroupResult) => ({ measured: r.measured, notes: r.notes, comparisons: [] }) },
    };
    const result = reusedResult(group, ran);
    expect(result?.measured).toBe(source.measured);
    expect(result?.comparisons).toEqual([]);
    expect(result?.notes).toEqual(['same note', 'same note', 'measured once in this run, by hot-path > module-count-1 (the same group): its figures, not a second process']);
    // the source result is left as it was (its own topic shows it)
    expect(source.comparisons).toHaveLength(1);
    expect(source.notes).toHaveLength(2);
  });

  it('runs the group itself when it has no sameAs, or that group did not run (or failed) in this run', () => {
    const ran = new Map([['hot-path/other', groupResult()]]);
    expect(reusedResult({ id: 'g', load }, ran)).toBeNull();
    expect(reusedResult({ id: 'g', load, sameAs: { topic: 'hot-path', group: 'module-count-1' } }, ran)).toBeNull();
  });
});

describe('groupBatches', () => {
  const load = async () => ({ run: () => groupResult() });
  const g = (id: string, concurrent?: boolean) => ({ id, load, ...(concurrent === undefined ? {} : { concurrent }) });
  it('runs groups one at a time, except consecutive concurrent ones, at most as many as the cores', () => {
    const groups = [g('a'), g('b', true), g('c', true), g('d', true), g('e'), g('f', true), g('g', false), g('h', true)];
    expect(groupBatches(groups, 2).map((batch) => batch.map((group) => group.id).join('+'))).toEqual(['a', 'b+c', 'd', 'e', 'f', 'g', 'h']);
    expect(groupBatches(groups, 4).map((batch) => batch.map((group) => group.id).join('+'))).toEqual(['a', 'b+c+d', 'e', 'f', 'g', 'h']);
    expect(groupBatches(groups, 1).every((batch) => batch.length === 1)).toBe(true);
    expect(groupBatches(groups, 0).every((batch) => batch.length === 1)).toBe(true);
  });
});

describe('childrenCpuSeconds', () => {
  it.runIf(process.platform === 'linux')('counts the CPU of a finished child process', async () => {
    const before = childrenCpuSeconds() ?? Number.NaN;
    const { execFileSync } = await import('node:child_process');
    // Busy until the child itself used 0.3 s of CPU (by wall time, a loaded machine gives it less).
    execFileSync(process.execPath, ['-e', 'const end = process.cpuUsage().user + 300_000; while (process.cpuUsage().user < end);']);
    const used = (childrenCpuSeconds() ?? Number.NaN) - before;
    // 0.3 s of CPU, counted in 10 ms ticks (and node's own start-up on top)
    expect(used).toBeGreaterThanOrEqual(0.2);
    expect(used).toBeLessThan(30);
  });
});

describe('writeResults', () => {
  it('writes latest.json and one SVG per topic, replacing a topic in place and keeping the others', () => {
    const dir = tempDir();
    const older = { ...fixtureTopic(), id: 'older', title: 'kept from an earlier run' };
    writeResults([fixtureTopic(), older], { node: 'v0' }, dir);
    const rerun = { ...fixtureTopic(), title: 'run again' };
    const written = writeResults([rerun], { node: 'v1' }, dir);

    expect(written.map((f) => path.basename(f))).toEqual(['latest.json', 'demo.svg']);
    const document = JSON.parse(readFileSync(path.join(dir, 'latest.json'), 'utf8'));
    expect(document.schema).toBe(1);
    expect(document.topics.map((t: { id: string; title: string; host: { node: string } }) => [t.id, t.title, t.host.node])).toEqual([
      ['demo', 'run again', 'v1'],
      ['older', 'kept from an earlier run', 'v0'],
    ]);
    expect(readdirSync(dir).sort()).toEqual(['demo.svg', 'latest.json', 'older.svg']);
  });

  it('starts afresh from an unreadable latest.json', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'latest.json'), '{ not json');
    writeResults([fixtureTopic()], {}, dir);
    expect(JSON.parse(readFileSync(path.join(dir, 'latest.json'), 'utf8')).topics).toHaveLength(1);
  });
});

/** A topic file, and its group module in a subfolder as in bench/topics/; `body` is the group's `run`. */
function topicFiles(dir: string, order: number, id: string, body: string): string {
  mkdirSync(path.join(dir, id), { recursive: true });
  writeFileSync(path.join(dir, id, 'group.mjs'), `export async function run(ctx, params) {\n${body}\n}\n`);
  const file = path.join(dir, `${id}.mjs`);
  writeFileSync(
    file,
    `export default { id: ${JSON.stringify(id)}, order: ${order}, title: 'a test topic', groups: [` +
      `{ id: 'g', params: { answer: 42 }, timeoutMs: 20000, load: () => import('./${id}/group.mjs') }] };\n`,
  );
  return file;
}

describe('discoverTopics and runGroup', () => {
  it('finds topics in order, and runs a group in a child process with the quick settings', async () => {
    const dir = tempDir();
    topicFiles(dir, 2, 'second', 'return { measured: [], comparisons: [] };');
    topicFiles(
      dir,
      1,
      'first',
      `const measured = ctx.measure([{ id: 'x', label: 'x', who: 'js', op: () => params.answer + 1 }], { rounds: 3, warmupRounds: 1 });
       return { measured, comparisons: [], notes: [String(ctx.quick), String(typeof globalThis.gc), String(ctx.settings.batchMs)] };`,
    );
    const entries = await discoverTopics(dir);
    expect(entries.map((e) => e.topic.id)).toEqual(['first', 'second']);

    const result = await runGroup(entries[0], entries[0].topic.groups[0], true);
    expect(result.notes).toEqual(['true', 'function', '1']);
    expect(result.measured[0]).toMatchObject({ id: 'x', count: 3 });
  });

  it('reports a group that throws, and one that dies without a result', async () => {
    const dir = tempDir();
    const throwing = { file: topicFiles(dir, 1, 'throws', "throw new Error('the peer is missing');"), topic: null as unknown as Topic };
    throwing.topic = (await import(throwing.file)).default;
    await expect(runGroup(throwing, throwing.topic.groups[0], true)).rejects.toThrow('the peer is missing');

    const dying = { file: topicFiles(dir, 1, 'dies', 'process.exit(3);'), topic: null as unknown as Topic };
    dying.topic = (await import(dying.file)).default;
    await expect(runGroup(dying, dying.topic.groups[0], true)).rejects.toThrow('the child process ended (exit code 3) without a result');
  });

  it('refuses a file in the topics folder that is not a topic', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'oops.mjs'), 'export default 42;\n');
    await expect(discoverTopics(dir)).rejects.toThrow(/oops\.mjs: the default export is not a topic/);
  });
});
