import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const cliBin = path.join(root, 'packages/cli/bin/loadlight.js');

/** A throwaway project inside the repo, so that its imports find the workspace packages. */
export function tempProject(files: Record<string, string>): string {
  const base = path.join(root, 'test/.tmp');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(path.join(base, 'project-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'fixture', private: true, type: 'module' }));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function start(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd ?? root,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Runs the loadlight CLI to completion. */
export function loadlight(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return start([cliBin, ...args], options).done;
}

/** Session files (parsed) written under `dir`. */
export function sessionsIn(dir: string): Array<{ file: string; data: Record<string, any> }> {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('.trace.json'));
  } catch {
    return [];
  }
  return names.map((f) => ({ file: path.join(dir, f), data: JSON.parse(readFileSync(path.join(dir, f), 'utf8')) }));
}
