import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { definePlugin, loadConfig, Profiler, type Plugin } from '@loadlight/core';
import { watchProcess } from '@loadlight/plugin-system';
import { parse, parseDuration, UsageError } from './args.js';

export const RUN_HELP = `Usage: loadlight run [--config <file>] [--duration <time>] -- <command> [args...]

Profiles a program while it runs.
  A Node.js program (node <script>, or a .js/.mjs/.cjs file) is profiled from inside,
  without changes to its code: loadlight is preloaded with --import and reads perf.config.*.
  Any other command is sampled from outside: CPU and memory of its process tree.

Options:
  -c, --config <file>    config file (default: perf.config.* found from the current folder)
  -d, --duration <time>  stop the program after this long (30s, 2m, 500ms); default: until it exits
  -h, --help             show this help

Examples:
  loadlight run -- node examples/basic/index.js
  loadlight run --duration 20s -- node bot.js --fast
  loadlight run -- python3 worker.py
`;

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Whether `command args` starts Node.js (so that loadlight can be preloaded into it). */
export function isNodeCommand(command: string, args: string[] = []): boolean {
  const base = path.basename(command).toLowerCase();
  if (command === process.execPath || base === 'node' || base === 'node.exe' || /^node\d+$/.test(base)) return true;
  return args.length === 0 && /\.(c|m)?js$/.test(command);
}

function preloadUrl(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return pathToFileURL(path.join(here, 'preload.js')).href;
}

/** A module name from a command (`python3 worker.py` -> `python3`). */
export function moduleNameFor(command: string): string {
  const base = path.basename(command).toLowerCase().replace(/\.[a-z]+$/, '');
  return base.replace(/[^a-z0-9_-]+/g, '_').replace(/^[^a-z0-9]+/, '') || 'command';
}

/** Descendants of `pid` read from /proc (Linux); an empty list elsewhere. */
export function descendantsOf(pid: number): number[] {
  if (process.platform !== 'linux') return [];
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // the command name may hold spaces and parentheses: the fields after the last ')' are fixed
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // the process ended while we read
    }
  }
  const out: number[] = [];
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length > 0) {
    const next = queue.shift()!;
    out.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return out;
}

/** Watches a child and, on Linux, every process it starts, as modules `<name>` and `<name>.<pid>`. */
function processTreePlugin(child: ChildProcess, name: string): Plugin {
  const watched = new Map<number, () => void>();
  return definePlugin({
    name: 'process-tree',
    apply(profiler) {
      profiler.hooks.start.tap('process-tree', () => {
        if (child.pid) watched.set(child.pid, watchProcess(child.pid, name, profiler));
        if (process.platform !== 'linux') profiler.warn('only the command itself is watched: its child processes are found on Linux only');
      });
      profiler.hooks.collect.tap('process-tree', () => {
        if (!child.pid) return;
        for (const pid of descendantsOf(child.pid)) {
          if (!watched.has(pid)) watched.set(pid, watchProcess(pid, `${name}.${pid}`, profiler));
        }
      });
      profiler.hooks.stop.tap('process-tree', () => {
        for (const unwatch of watched.values()) unwatch();
        watched.clear();
      });
    },
  });
}

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      duration: { type: 'string', short: 'd' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  const [command, ...args] = positionals;
  if (!command) throw new UsageError('missing the command to run, after "--" (for example: loadlight run -- node app.js)');
  const durationMs = values.duration === undefined ? undefined : parseDuration(values.duration);
  const configFile = values.config ? path.resolve(values.config) : undefined;
  if (configFile && !existsSync(configFile)) throw new UsageError(`config file "${values.config}" does not exist`);

  if (isNodeCommand(command, args)) {
    const nodeArgs = command === process.execPath || /^node/.test(path.basename(command)) ? args : [command, ...args];
    const nodeCommand = nodeArgs === args ? command : process.execPath;
    const nodeOptions = [process.env.NODE_OPTIONS ?? '', `--import=${JSON.stringify(preloadUrl())}`].join(' ').trim();
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: nodeOptions };
    if (configFile) env.LOADLIGHT_CONFIG = configFile;
    return supervise(spawn(nodeCommand, nodeArgs, { stdio: 'inherit', env }), durationMs, false);
  }

  // Not Node: sample the process tree from outside, with the user's reporters and rules.
  const loaded = await loadConfig(configFile ? { configFile } : {});
  const child = spawn(command, args, { stdio: 'inherit' });
  const spawned = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  if (!spawned) throw new UsageError(`cannot start "${command}": no such command, or it is not executable`);
  const profiler = new Profiler(
    {
      ...(loaded?.config ?? {}),
      plugins: [['system', { process: false, eventLoop: false, gc: false }], processTreePlugin(child, moduleNameFor(command))],
    },
    { configFile: loaded?.filepath ?? null, handleExit: false },
  );
  await profiler.start();
  const code = await supervise(child, durationMs, true);
  await profiler.stop();
  return code;
}

/** Sends a signal to a process and (on Linux) everything it started; ignores those already gone. */
function killTree(pid: number, signal: NodeJS.Signals): void {
  for (const target of [...descendantsOf(pid).reverse(), pid]) {
    try {
      process.kill(target, signal);
    } catch {
      // already exited
    }
  }
}

/**
 * Waits for the child, stops it after `durationMs`, forwards SIGTERM, and returns its exit code.
 * `wholeTree`: a command sampled from outside is stopped with everything it started.
 */
function supervise(child: ChildProcess, durationMs: number | undefined, wholeTree: boolean): Promise<number> {
  let stoppedByUs = false;
  const terminate = () => (wholeTree && child.pid ? killTree(child.pid, 'SIGTERM') : child.kill('SIGTERM'));
  const timer =
    durationMs === undefined
      ? null
      : setTimeout(() => {
          stoppedByUs = true;
          terminate();
        }, durationMs);
  // Ctrl-C reaches the whole process group: the child handles it, we wait for it to finish.
  const onInt = () => undefined;
  const onTerm = terminate;
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      process.removeListener('SIGINT', onInt);
      process.removeListener('SIGTERM', onTerm);
      if (stoppedByUs && (signal === 'SIGTERM' || code === 143 || code === 0)) resolve(0);
      else resolve(code ?? 128 + (SIGNAL_NUMBERS[signal ?? ''] ?? 1));
    });
  });
}
