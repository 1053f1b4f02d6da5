// Loaded into a profiled Node.js program with --import by `loadlight run`.
import { isMainThread } from 'node:worker_threads';
import { startProfiling } from '@loadlight/core';

const configFile = process.env.LOADLIGHT_CONFIG || undefined;
// The program's own children should not be profiled twice.
delete process.env.LOADLIGHT_CONFIG;
if (process.env.NODE_OPTIONS) {
  process.env.NODE_OPTIONS = process.env.NODE_OPTIONS.replace(/\s*--import="[^"]*preload\.js"/, '').trim();
}

// NODE_OPTIONS reaches worker threads too: only the main thread profiles (workers are watched
// from it with watchWorker).
if (isMainThread) {
  try {
    await startProfiling(configFile ? { configFile } : {});
  } catch (error) {
    const message = error instanceof Error && error.name === 'LoadlightError' ? error.message : String((error as Error)?.stack ?? error);
    process.stderr.write(`loadlight: ${message}\n`);
    process.exit(1);
  }
}
