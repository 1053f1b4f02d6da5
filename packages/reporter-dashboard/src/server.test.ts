import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { definePlugin, validateSession, type ActionRecord, type LoadlightConfig, type SessionProfile } from '@loadlight/core';
import { createTestProfiler, moreSamples, stopTestProfilers, until } from '@loadlight/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import dashboard, { type DashboardOptions } from './index.js';
import type { DashboardSnapshot, HelloPayload, HistoryResponse, RulesResponse } from './protocol.js';
import { send, SseReader, type Answer } from './test-client.js';

afterEach(stopTestProfilers);

const SECRET = 'the-secret-outside-the-ui-folder';
let uiDir = '';
let emptyUiDir = '';

beforeAll(() => {
  // A built page, and beside it a file the server must never give away.
  const root = mkdtempSync(path.join(os.tmpdir(), 'loadlight-dashboard-'));
  uiDir = path.join(root, 'dist', 'ui');
  mkdirSync(path.join(uiDir, 'assets'), { recursive: true });
  writeFileSync(path.join(uiDir, 'index.html'), '<!doctype html><title>panel</title><script type="module" src="/assets/app-1a2b.js"></script>');
  writeFileSync(path.join(uiDir, 'assets', 'app-1a2b.js'), 'console.log("panel");');
  writeFileSync(path.join(uiDir, 'assets', 'app-1a2b.css'), 'body{margin:0}');
  writeFileSync(path.join(uiDir, 'assets', '.hidden'), SECRET);
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ secret: SECRET }));
  writeFileSync(path.join(root, 'dist', 'secret.txt'), SECRET);
  symlinkSync(path.join(root, 'package.json'), path.join(uiDir, 'assets', 'leak.json'));
  emptyUiDir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-dashboard-empty-'));
});

function source() {
  let n = 0;
  return definePlugin({
    name: 'source',
    metrics: {
      'work.value': { unit: 'count', kind: 'gauge', description: 'grows by one per tick' },
      'module.ocr.cpu_percent': { unit: 'percent', kind: 'gauge', description: 'OCR CPU', module: { name: 'ocr', field: 'cpu_percent', tags: ['heavy'] } },
      'module.ocr.memory_mb': { unit: 'mb', kind: 'gauge', description: 'OCR memory', module: { name: 'ocr', field: 'memory_mb' } },
    },
    apply(profiler) {
      profiler.hooks.collect.tapPromise('source', async (w) => {
        w.set('work.value', ++n);
        w.set('module.ocr.cpu_percent', 80);
        w.set('module.ocr.memory_mb', 12);
      });
    },
  });
}

async function start(options: DashboardOptions = {}, config: LoadlightConfig = {}) {
  const reporter = dashboard({ port: 0, quiet: true, uiDir, ...options });
  const { profiler, warnings } = createTestProfiler([source()], { reporters: [reporter], ...config });
  const runs: string[] = [];
  profiler.actions.register('test.bump', () => runs.push('bump') && { bumped: runs.length }, { description: 'adds one' });
  await profiler.start();
  const url = new URL(reporter.url!);
  const token = url.searchParams.get('token')!;
  const origin = url.origin;
  return { profiler, reporter, warnings, runs, origin, token, auth: { Authorization: `Bearer ${token}` } };
}

const noCors = (answer: Answer) => Object.keys(answer.headers).filter((h) => h.startsWith('access-control-'));

describe('security of the API', () => {
  it('refuses bad requests with 401, 403, 404, 400 and the rest, and none of them runs an action', async () => {
    const { profiler, origin, token, auth, runs } = await start();
    const json = { 'Content-Type': 'application/json' };
    const cases: Array<{ what: string; path: string; method?: string; headers?: Record<string, string>; body?: string; status: number; message: RegExp }> = [
      { what: 'no token', path: '/api/actions/test.bump', method: 'POST', headers: { Origin: origin }, status: 401, message: /needs the dashboard token/ },
      { what: 'wrong token', path: '/api/actions/test.bump', method: 'POST', headers: { Origin: origin, Authorization: 'Bearer wrong-token-wrong-token' }, status: 401, message: /wrong dashboard token/ },
      { what: 'wrong token in the query', path: `/api/actions/test.bump?token=${token}x`, method: 'POST', headers: { Origin: origin }, status: 401, message: /wrong/ },
      { what: 'header and query disagree', path: '/api/actions/test.bump?token=nope', method: 'POST', headers: { ...auth, Origin: origin }, status: 401, message: /wrong/ },
      { what: 'not a bearer header', path: '/api/actions/test.bump', method: 'POST', headers: { Origin: origin, Authorization: `Basic ${token}` }, status: 401, message: /Bearer/ },
      { what: 'wrong origin', path: '/api/actions/test.bump', method: 'POST', headers: { ...auth, Origin: 'http://evil.example' }, status: 403, message: /cross-origin/ },
      { what: 'same host, other port', path: '/api/actions/test.bump', method: 'POST', headers: { ...auth, Origin: 'http://127.0.0.1:1' }, status: 403, message: /cross-origin/ },
      { what: 'cross-site fetch metadata', path: '/api/actions/test.bump', method: 'POST', headers: { ...auth, Origin: origin, 'Sec-Fetch-Site': 'cross-site' }, status: 403, message: /cross-site/ },
      { what: 'no Origin and the token only in the query', path: `/api/actions/test.bump?token=${token}`, method: 'POST', status: 403, message: /without an Origin/ },
      { what: 'a rebinding Host', path: '/api/actions/test.bump', method: 'POST', headers: { ...auth, Host: 'evil.example', Origin: 'http://evil.example' }, status: 403, message: /Host header/ },
      { what: 'unknown action', path: '/api/actions/test.nothing', method: 'POST', headers: { ...auth, Origin: origin }, status: 404, message: /no action "test.nothing".*test\.bump/ },
      { what: 'bad action id', path: '/api/actions/Test%20Bump', method: 'POST', headers: { ...auth, Origin: origin }, status: 400, message: /not an action id/ },
      { what: 'bad percent-encoding', path: '/api/actions/%E0%A4%A', method: 'POST', headers: { ...auth, Origin: origin }, status: 400, message: /percent-encoding/ },
      { what: 'malformed JSON', path: '/api/actions/test.bump', method: 'POST', headers: { ...auth, ...json, Origin: origin }, body: '{"recommendation": ', status: 400, message: /not valid JSON/ },
      { what: 'an array body', path: '/api/actions/test.bump', method: 'POST', headers: { ...auth, ...json, Origin: origin }, body: '[]', status: 400, message: /JSON object/ },
      { what: 'an unknown field', path: '/api/actions/test.bump', method: 'POST', headers: { ...auth, ...json, Origin: origin }, body: '{"force": true}', status: 400, message: /unknown field.*force/ },
      { what: 'a recommendation that is no id', path: '/api/actions/test.bump', method: 'POST', headers: { ...auth, ...json, Origin: origin }, body: '{"recommendation": 3}', status: 400, message: /recommendation/ },
      { what: 'not JSON', path: '/api/actions/test.bump', method: 'POST', headers: { ...auth, 'Content-Type': 'text/plain', Origin: origin }, body: 'run', status: 415, message: /application\/json/ },
      { what: 'a body too large', path: '/api/actions/test.bump', method: 'POST', headers: { ...auth, ...json, Origin: origin }, body: JSON.stringify({ recommendation: 'x'.repeat(20_000) }), status: 413, message: /larger than/ },
      { what: 'GET on an action', path: '/api/actions/test.bump', headers: auth, status: 405, message: /use POST/ },
      { what: 'POST on a read', path: '/api/snapshot', method: 'POST', headers: { ...auth, Origin: origin }, status: 405, message: /use GET/ },
      { what: 'an unknown endpoint', path: '/api/nothing', headers: auth, status: 404, message: /no endpoint/ },
    ];
    for (const c of cases) {
      const answer = await send(origin, c.path, { method: c.method ?? 'GET', headers: c.headers ?? {}, ...(c.body !== undefined ? { body: c.body } : {}) });
      expect({ what: c.what, status: answer.status }).toEqual({ what: c.what, status: c.status });
      expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
      expect((answer.json as { error: string }).error, c.what).toMatch(c.message);
      expect(noCors(answer), c.what).toEqual([]);
    }
    expect(runs).toEqual([]);
    expect(profiler.actions.history()).toEqual([]);
    expect(profiler.session().actions).toEqual([]);
  });

  it('needs the token for reads unless readsNeedToken is false, and never for writes', async () => {
    const guarded = await start();
    for (const endpoint of ['/api/snapshot', '/api/session', '/api/rules', '/api/history', '/api/events']) {
      expect((await send(guarded.origin, endpoint)).status, endpoint).toBe(401);
    }
    expect((await send(guarded.origin, `/api/snapshot?token=${guarded.token}`)).status).toBe(200);

    const open = await start({ readsNeedToken: false });
    for (const endpoint of ['/api/snapshot', '/api/session', '/api/rules', '/api/history']) {
      expect((await send(open.origin, endpoint)).status, endpoint).toBe(200);
    }
    const events = new SseReader(open.origin, '/api/events');
    await events.ready;
    expect(events.status).toBe(200);
    await until(() => events.named('hello').length === 1, 'hello without a token');
    events.close();
    // A wrong token is still refused, and writes still need it.
    expect((await send(open.origin, '/api/snapshot?token=nope')).status).toBe(401);
    expect((await send(open.origin, '/api/actions/test.bump', { method: 'POST', headers: { Origin: open.origin } })).status).toBe(401);
    expect(open.runs).toEqual([]);
  });

  it('runs an action for a right request and records it in the session', async () => {
    const { profiler, origin, auth, runs } = await start();
    const fromPage = await send(origin, '/api/actions/test.bump', {
      method: 'POST',
      headers: { ...auth, Origin: origin, 'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'application/json' },
      body: '{"recommendation":"ocr-too-frequent"}',
    });
    expect(fromPage.status).toBe(200);
    const record = (fromPage.json as { record: ActionRecord }).record;
    expect(record).toMatchObject({ id: 'test.bump', source: 'dashboard', ok: true, result: { bumped: 1 }, error: null });
    // A non-browser client: no Origin, the token in the header, no body.
    const fromScript = await send(origin, '/api/actions/test.bump', { method: 'POST', headers: auth });
    expect(fromScript.status).toBe(200);
    expect(runs).toEqual(['bump', 'bump']);
    expect(profiler.session().actions.map((a) => [a.id, a.source])).toEqual([
      ['test.bump', 'dashboard'],
      ['test.bump', 'dashboard'],
    ]);
    const session = (await send(origin, '/api/session', { headers: auth })).json as SessionProfile;
    expect(session.actions).toHaveLength(2);
  });

  it('answers 200 with ok: false when the handler throws', async () => {
    const { profiler, origin, auth } = await start();
    profiler.actions.register('test.fail', () => {
      throw new Error('cannot lower it further');
    });
    const answer = await send(origin, '/api/actions/test.fail', { method: 'POST', headers: auth });
    expect(answer.status).toBe(200);
    expect((answer.json as { record: ActionRecord }).record).toMatchObject({ ok: false, error: 'cannot lower it further' });
  });
});

describe('the JSON API', () => {
  it('serves the snapshot with module rows, the session (valid), the rules and the history', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-dashboard-rules-'));
    const rulesFile = path.join(dir, 'levels.json');
    const rule = {
      name: 'module-hot',
      description: 'A module uses more than half a core.',
      conditions: { all: [{ fact: 'module', path: '$.cpu_percent', operator: 'greaterThan', value: 50 }] },
      event: { type: 'load-level', params: { level: 'red' } },
    };
    writeFileSync(rulesFile, JSON.stringify({ rules: [rule] }));
    const { profiler, origin, auth } = await start({}, { rules: [rulesFile], watchRules: false });
    await until(() => profiler.evaluation !== null, 'an evaluation');
    await moreSamples(profiler, 2);

    const snapshot = (await send(origin, '/api/snapshot', { headers: auth })).json as DashboardSnapshot;
    expect(snapshot.sessionId).toBe(profiler.sessionId);
    expect(snapshot.metrics['work.value']!.value).toBeGreaterThan(0);
    expect(snapshot.modules).toEqual([{ name: 'ocr', level: 'red', tags: ['heavy'], fields: { cpu_percent: 80, memory_mb: 12 } }]);
    expect(snapshot.actions).toEqual([{ id: 'test.bump', description: 'adds one' }]);
    expect(snapshot.recentActions).toEqual([]);

    const session = await send(origin, '/api/session', { headers: auth });
    expect(session.headers['content-disposition']).toBeUndefined();
    expect(() => validateSession(session.json, 'GET /api/session')).not.toThrow();
    expect((session.json as SessionProfile).samples.t.length).toBeGreaterThan(1);
    const download = await send(origin, '/api/session?download=1', { headers: auth });
    expect(download.headers['content-disposition']).toBe(`attachment; filename="${profiler.sessionId.replace(/[^A-Za-z0-9._-]/g, '_')}.json"`);

    // The rules in force, with their bodies; an edit on disk that was not loaded does not show.
    writeFileSync(rulesFile, JSON.stringify({ rules: [{ ...rule, conditions: { all: [] } }] }));
    const rules = (await send(origin, '/api/rules', { headers: auth })).json as RulesResponse;
    expect(rules.error).toBeNull();
    expect(rules.files).toEqual([{ file: rulesFile, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), rules: 1 }]);
    expect(rules.rules).toEqual([
      { file: rulesFile, name: 'module-hot', description: rule.description, type: 'load-level', active: true, conditions: rule.conditions, event: rule.event },
    ]);

    const recent = (await send(origin, '/api/history?seconds=60', { headers: auth })).json as HistoryResponse;
    expect(Object.keys(recent.values)).toEqual(['work.value']);
    expect(recent.values['work.value']).toHaveLength(recent.t.length);
    expect(recent.values['work.value']!.at(-1)).toBeGreaterThan(1);
    const one = (await send(origin, '/api/history?seconds=0.05&metrics=module.ocr.cpu_percent', { headers: auth })).json as HistoryResponse;
    expect(one.t).toHaveLength(1);
    expect(one.values).toEqual({ 'module.ocr.cpu_percent': [80] });
    expect((await send(origin, '/api/history?seconds=-1', { headers: auth })).status).toBe(400);
    const unknown = await send(origin, '/api/history?metrics=nope.metric', { headers: auth });
    expect([unknown.status, (unknown.json as { error: string }).error]).toEqual([400, 'unknown metric: nope.metric']);
  });
});

describe('Server-Sent Events', () => {
  it('sends hello and a snapshot on connect, snapshots at the report interval, actions, and stopped at stop', async () => {
    const { profiler, reporter, origin, token, auth } = await start({ title: 'bot' }, { sampleIntervalMs: 50, reportIntervalMs: 150 });
    const stream = new SseReader(origin, `/api/events?token=${token}`);
    await stream.ready;
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(noCors({ status: 200, headers: stream.headers, text: '', json: null })).toEqual([]);
    await until(() => stream.named('snapshot').length >= 5, '5 snapshots');
    expect(stream.retry).toBe(1000);
    expect(stream.events[0]!.event).toBe('hello');
    const hello = stream.events[0]!.data as HelloPayload;
    expect(hello).toEqual({
      protocol: 1,
      sessionId: profiler.sessionId,
      startedAt: profiler.startedAt,
      reportIntervalMs: 150,
      sampleIntervalMs: 50,
      windowSeconds: profiler.config.windowSeconds,
      title: 'bot',
      pid: process.pid,
      readsNeedToken: true,
    });
    // After the one sent on connect, one snapshot per report: never closer than the report
    // interval less core's slack for a late tick (half a sample interval: 150 - 50 / 2).
    const times = stream.named('snapshot').slice(1).map((e) => (e.data as DashboardSnapshot).t);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(125);
    expect((stream.named('snapshot').at(-1)!.data as DashboardSnapshot).modules[0]!.name).toBe('ocr');

    await send(origin, '/api/actions/test.bump', { method: 'POST', headers: { ...auth, Origin: origin } });
    await until(() => stream.named('action').length === 1, 'the action event');
    expect(stream.named('action')[0]!.data).toMatchObject({ id: 'test.bump', source: 'dashboard', ok: true });
    await until(() => (stream.named('snapshot').at(-1)!.data as DashboardSnapshot).recentActions.length === 1, 'the action in a snapshot');

    expect(reporter.server!.clientCount).toBe(1);
    await profiler.stop();
    await until(() => stream.ended, 'the stream to end');
    expect(stream.events.at(-1)).toEqual({ event: 'stopped', data: { sessionId: profiler.sessionId, t: expect.any(Number) } });
    expect(reporter.url).toBeNull();
    await expect(send(origin, `/api/snapshot?token=${token}`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('sends a ping comment at the ping interval', async () => {
    const { reporter, origin, token } = await start();
    const stream = new SseReader(origin, `/api/events?token=${token}`);
    await stream.ready;
    // The interval is 15 s; the server's ping is the same code path as its broadcasts.
    (reporter.server as unknown as { broadcastRaw(chunk: Buffer): void }).broadcastRaw(Buffer.from(': ping\n\n'));
    await until(() => stream.comments.includes('ping'), 'a ping');
    stream.close();
  });
});

describe('static files', () => {
  it('serves the built page and its assets with their types, the CSP and no token', async () => {
    const { origin } = await start();
    const page = await send(origin, '/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<title>panel</title>');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cache-control']).toBe('no-cache');
    const script = await send(origin, '/assets/app-1a2b.js?v=1');
    expect([script.status, script.headers['content-type'], script.headers['cache-control']]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'public, max-age=31536000, immutable',
    ]);
    expect((await send(origin, '/assets/app-1a2b.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    const head = await send(origin, '/index.html', { method: 'HEAD' });
    expect([head.status, head.text]).toEqual([200, '']);
    expect(noCors(page)).toEqual([]);
    expect((await send(origin, '/assets/nothing.js')).status).toBe(404);
    expect((await send(origin, '/', { method: 'POST' })).status).toBe(405);
  });

  it('refuses paths that leave the page folder, however they are written', async () => {
    const { origin } = await start();
    const attempts = [
      '/assets/../../package.json',
      '/assets/../../../package.json',
      '/../package.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/assets/%2E%2E/%2E%2E/package.json',
      '/assets/..%2f..%2fpackage.json',
      '/assets/..%2F..%2Fsecret.txt',
      '/%2e%2e%2f%2e%2e%2fpackage.json',
      '/assets/..%5c..%5cpackage.json',
      '/assets/%252e%252e/%252e%252e/package.json',
      '/..%00/package.json',
      '//etc/passwd',
      '/assets/leak.json',
      '/assets/.hidden',
      '/assets/%2ehidden',
      '/.',
    ];
    for (const attempt of attempts) {
      const answer = await send(origin, attempt);
      expect([400, 404], attempt).toContain(answer.status);
      expect(answer.text, attempt).not.toContain(SECRET);
      expect(answer.text, attempt).not.toContain('root:');
      expect(answer.headers['content-type'], attempt).toBe('application/json; charset=utf-8');
    }
  });

  it('answers 503 with a clear page while the UI is not built; the API still works', async () => {
    const { origin, auth } = await start({ uiDir: emptyUiDir });
    const page = await send(origin, '/');
    expect(page.status).toBe(503);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('is not built');
    expect(page.text).toContain('npm run build -w @loadlight/reporter-dashboard');
    const asset = await send(origin, '/assets/app.js');
    expect(asset.status).toBe(503);
    expect((asset.json as { error: string }).error).toMatch(/not built/);
    expect((await send(origin, '/api/snapshot', { headers: auth })).status).toBe(200);
  });
});
