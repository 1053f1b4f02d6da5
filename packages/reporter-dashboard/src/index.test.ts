import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { definePlugin, isLoadlightError, resolveConfig } from '@loadlight/core';
import { blockLoop, createTestProfiler, stopTestProfilers, until } from '@loadlight/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import dashboard, { dashboard as named, DashboardServer, isLoopback } from './index.js';
import { resolveSettings, TOKEN_ENV } from './options.js';
import { send, SseReader } from './test-client.js';

afterEach(async () => {
  vi.restoreAllMocks();
  await stopTestProfilers();
});

const packagesDir = fileURLToPath(new URL('../../', import.meta.url));
const coreEntry = path.join(packagesDir, 'core', 'dist', 'index.js');
const dashboardEntry = path.join(packagesDir, 'reporter-dashboard', 'dist', 'index.js');

function needBuilt(): void {
  for (const entry of [coreEntry, dashboardEntry]) {
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" first`);
  }
}

function optionError(options: unknown): string {
  try {
    dashboard(options as never);
  } catch (error) {
    expect(isLoadlightError(error) && error.code).toBe('PLUGIN_OPTIONS_INVALID');
    return (error as Error).message;
  }
  throw new Error(`options ${JSON.stringify(options)} were accepted`);
}

describe('options', () => {
  it('are validated at construction, and errors name the option', () => {
    expect(named).toBe(dashboard);
    expect(optionError({ port: 70000 })).toBe('plugin "dashboard" options: "port" must be <= 65535, got number 70000.');
    expect(optionError({ port: 'x' })).toMatch(/"port" must be integer/);
    expect(optionError({ prot: 1 })).toMatch(/unknown option "prot".*Did you mean "port"\?/);
    expect(optionError({ token: 'short' })).toMatch(/"token" must match pattern/);
    expect(optionError({ readsNeedToken: 'no' })).toMatch(/"readsNeedToken" must be boolean/);
    expect(optionError({ host: 'a b' })).toMatch(/"host" must match pattern/);
    expect(optionError({ title: '' })).toMatch(/"title" must NOT have fewer than 1 characters/);
  });

  it('refuse a host beyond loopback unless allowRemote is true', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'example.com']) {
      expect(optionError({ host })).toMatch(new RegExp(`"host" is "${host.replace(/\./g, '\\.')}", which is not a loopback address.*"allowRemote": true`));
    }
    expect(() => dashboard({ host: '0.0.0.0', allowRemote: true })).not.toThrow();
    expect(() => dashboard({ host: 'localhost' })).not.toThrow();
    expect(() => dashboard({ host: '::1' })).not.toThrow();
  });

  it('know loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', 'app.localhost', '::1', '::ffff:127.0.0.1']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com', '127.example.com']) expect(isLoopback(host), host).toBe(false);
  });

  it('take the token from the environment when the option is absent, and check it', () => {
    expect(resolveSettings({}, {}).token).toBeNull();
    expect(resolveSettings({}, { [TOKEN_ENV]: 'abcdefghijklmnop' }).token).toBe('abcdefghijklmnop');
    expect(resolveSettings({ token: 'qrstuvwxyz_-0123' }, { [TOKEN_ENV]: 'abcdefghijklmnop' }).token).toBe('qrstuvwxyz_-0123');
    expect(() => resolveSettings({}, { [TOKEN_ENV]: 'short' })).toThrow(`the ${TOKEN_ENV} environment variable must be`);
  });
});

describe('the reporter', () => {
  it('exposes and prints its URL while it listens, with a new token per session', async () => {
    const reporter = dashboard({ port: 0 });
    expect(reporter.url).toBeNull();
    const printed: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    const first = createTestProfiler([], { reporters: [reporter] }).profiler;
    await first.start();
    const url = reporter.url!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    expect(printed).toEqual([`loadlight dashboard: ${url}\n`]);
    const answer = await send(new URL(url).origin, `/api/snapshot?token=${new URL(url).searchParams.get('token')}`);
    expect(answer.status).toBe(200);
    await first.stop();
    expect(reporter.url).toBeNull();

    const second = createTestProfiler([], { reporters: [reporter] }).profiler;
    await second.start();
    expect(new URL(reporter.url!).searchParams.get('token')).not.toBe(new URL(url).searchParams.get('token'));
    await second.stop();
  });

  it('keeps a fixed token across sessions, and reports a port in use as a fault', async () => {
    const token = 'fixed-token-for-tests-0123456789';
    const first = dashboard({ port: 0, quiet: true, token });
    const a = createTestProfiler([], { reporters: [first] }).profiler;
    await a.start();
    expect(new URL(first.url!).searchParams.get('token')).toBe(token);
    const port = Number(new URL(first.url!).port);

    const second = dashboard({ port, quiet: true, token });
    const { profiler: b, warnings } = createTestProfiler([], { reporters: [second] });
    await b.start();
    expect(second.url).toBeNull();
    expect(warnings).toEqual([
      `plugin "dashboard" failed in start: cannot listen on 127.0.0.1:${port}: the port is in use (set the "port" option to another port, or 0 for any free one) (further failures are counted in the session's faults)`,
    ]);
    await b.stop();
    await a.stop();
  });

  it('listens beyond loopback only with allowRemote, and warns', async () => {
    const reporter = dashboard({ host: '0.0.0.0', allowRemote: true, port: 0, quiet: true });
    const { profiler, warnings } = createTestProfiler([], { reporters: [reporter] });
    await profiler.start();
    expect(warnings).toEqual([expect.stringContaining('the dashboard listens on 0.0.0.0, beyond loopback')]);
    const url = new URL(reporter.url!);
    // Any Host is accepted there (the names people use are unknown); the token still protects.
    const answer = await send(`http://127.0.0.1:${url.port}`, '/api/snapshot', { headers: { Host: `machine.lan:${url.port}` } });
    expect(answer.status).toBe(401);
    const authorised = await send(`http://127.0.0.1:${url.port}`, `/api/snapshot?token=${url.searchParams.get('token')}`, { headers: { Host: `machine.lan:${url.port}` } });
    expect(authorised.status).toBe(200);
  });

  it('resolves from a config by name: "dashboard" and ["dashboard", options]', async () => {
    needBuilt();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-dashboard-config-'));
    const resolved = await resolveConfig({ plugins: [], reporters: ['dashboard', ['dashboard', { port: 0, quiet: true }]] }, { baseDir: dir });
    expect(resolved.reporters.map((r) => r.name)).toEqual(['dashboard', 'dashboard']);
    await expect(resolveConfig({ plugins: [], reporters: [['dashboard', { port: -1 }]] }, { baseDir: dir })).rejects.toThrow(
      '"reporters[0]": plugin "dashboard" options: "port" must be >= 0, got number -1.',
    );
    await expect(resolveConfig({ plugins: [], reporters: ['dashbord'] }, { baseDir: dir })).rejects.toThrow('Did you mean "dashboard"?');
  });
});

describe('resources', () => {
  it('drops an SSE client that stops reading, and caps the connections', async () => {
    const wide = definePlugin({
      name: 'wide',
      metrics: Object.fromEntries(
        Array.from({ length: 400 }, (_, i) => [`wide.metric_${i}`, { unit: 'count' as const, kind: 'gauge' as const, description: `metric number ${i} of many` }]),
      ),
      apply() {},
    });
    const { profiler } = createTestProfiler([wide]);
    await profiler.start();
    const token = 'resource-test-token-0123456789';
    const limit = 1024 * 1024;
    const server = new DashboardServer(profiler, {
      host: '127.0.0.1',
      port: 0,
      readsNeedToken: true,
      remote: false,
      title: 't',
      token,
      quiet: true,
      uiDir: os.tmpdir(),
      maxBufferedBytes: limit,
      maxClients: 2,
    });
    await server.listen();
    try {
      // A client that sends its request and never reads a byte.
      const stalled = connect(server.port, '127.0.0.1');
      stalled.write(`GET /api/events?token=${token} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
      stalled.pause();
      const reading = new SseReader(server.origin, `/api/events?token=${token}`);
      await reading.ready;
      await until(() => server.clientCount === 2, 'two clients');
      const third = await send(server.origin, `/api/events?token=${token}`);
      expect([third.status, (third.json as { error: string }).error]).toEqual([503, 'too many dashboard connections (2); close a tab']);

      const snapshot = profiler.snapshot();
      let published = 0;
      while (server.clientCount === 2 && published < 5000) {
        server.publishSnapshot(snapshot);
        published++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(server.clientCount).toBe(1);
      // The reading client got them all.
      await until(() => reading.named('snapshot').length === published + 1, 'every snapshot at the reading client');
      stalled.destroy();
      reading.close();
    } finally {
      await server.close();
    }
  });

  it('answers 503 beyond maxQueued reads waiting for their turn; checks that fail are answered at once', async () => {
    const { profiler } = createTestProfiler([]);
    await profiler.start();
    const token = 'queue-test-token-0123456789';
    const server = new DashboardServer(profiler, {
      host: '127.0.0.1',
      port: 0,
      readsNeedToken: true,
      remote: false,
      title: 't',
      token,
      quiet: true,
      uiDir: os.tmpdir(),
      maxQueued: 4,
    });
    await server.listen();
    try {
      // Twelve connections whose requests all arrive in the same event-loop turn.
      const sockets = await Promise.all(
        Array.from({ length: 12 }, () => new Promise<Socket>((resolve) => {
          const socket = connect(server.port, '127.0.0.1', () => resolve(socket));
        })),
      );
      await until(() => server.connectionCount === 12, 'the server to accept the connections');
      const answers = sockets.map(
        (socket) =>
          new Promise<string>((resolve) => {
            let text = '';
            socket.setEncoding('utf8');
            socket.on('data', (chunk: string) => (text += chunk));
            socket.on('close', () => resolve(text));
          }),
      );
      sockets.forEach((socket, i) => {
        const auth = i < 10 ? `Authorization: Bearer ${token}\r\n` : '';
        socket.write(`GET /api/snapshot HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n${auth}Connection: close\r\n\r\n`);
      });
      blockLoop(100); // the server reads them all in its next poll
      const texts = await Promise.all(answers);
      const statuses = texts.map((text) => Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]));
      expect(statuses).toEqual([200, 200, 200, 200, 503, 503, 503, 503, 503, 503, 401, 401]);
      expect(texts[4]).toMatch(/Retry-After: 1\r\n[\s\S]*"the dashboard is busy \(4 requests waiting\); try again in a moment"/i);
      // Once served, the queue takes requests again.
      expect((await send(server.origin, '/api/snapshot', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('never keeps the process alive: a program that ends stops the profiler and closes the streams', async () => {
    needBuilt();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-dashboard-exit-'));
    const script = path.join(dir, 'program.mjs');
    writeFileSync(
      script,
      `
import { Profiler } from ${JSON.stringify(pathToFileURL(coreEntry).href)};
import dashboard from ${JSON.stringify(pathToFileURL(dashboardEntry).href)};
const reporter = dashboard({ port: 0, quiet: true });
const profiler = new Profiler({ plugins: [], reporters: [reporter], rules: [], sampleIntervalMs: 50 });
await profiler.start();
process.stdout.write(reporter.url + '\\n');
// The program's own work: it lasts until a dashboard client connected, then the program ends.
const work = setInterval(() => { if (reporter.server.clientCount > 0) clearInterval(work); }, 20);
process.on('exit', (code) => process.stderr.write('exited ' + code + '\\n'));
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const url = await new Promise<URL>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('\n')) resolve(new URL(stdout.trim()));
      }),
    );
    const stream = new SseReader(url.origin, `/api/events?token=${url.searchParams.get('token')}`);
    await stream.ready;
    const code = await exited;
    clearTimeout(guard);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('exited 0');
    await until(() => stream.ended, 'the stream to end');
    expect(stream.events.map((e) => e.event)).toEqual(expect.arrayContaining(['hello', 'snapshot', 'stopped']));
    expect(stream.events.at(-1)!.event).toBe('stopped');
  });
});
