import { dirname, resolve } from 'node:path';
import {
  LoadlightError,
  describeError,
  validateOptions,
  type Plugin,
  type Profiler,
  type SessionProfile,
} from '@loadlight/core';
import { displayPath, writeFileAtomic, writeFileAtomicSync } from './atomic.js';
import { Journal, nodeJournalIO, type JournalIO } from './journal.js';
import { safeFileName } from './safe-file-name.js';
import { sessionJsonChunks } from './serialize.js';
import { TraceExport, traceOptionSchema, type TraceOption } from './trace.js';

export { safeFileName, MAX_FILE_NAME_LENGTH } from './safe-file-name.js';
export { writeFileAtomic, writeFileAtomicSync, type FileData } from './atomic.js';
export { sessionJsonChunks, sessionJson } from './serialize.js';
export { Journal, journalFiles, nodeJournalIO, type JournalIO } from './journal.js';
export { rebuildSession, readJournalHeader, type RecoveredJournal } from './journal-read.js';
export { JOURNAL_SUFFIX, OLD_JOURNAL_SUFFIX, JOURNAL_VERSION, type JournalHeader } from './journal-format.js';
export { traceJsonChunks, traceFileFor, DEFAULT_TRACE_MAX_EVENTS, type TraceInput, type TraceOption, type TraceOptions } from './trace.js';

export interface JsonReporterOptions {
  /** Directory of session files, relative to the config's directory. Default `perf/samples`. */
  dir?: string;
  /** Indent the JSON (bigger file, readable by eye). Default false. */
  pretty?: boolean;
  /** Do not print `[loadlight] session written to ...` on stderr. Default false. */
  quiet?: boolean;
  /**
   * Also write the module calls as a Chrome trace, `<session>.trace.json` (Perfetto,
   * chrome://tracing): `true`, or `{ maxEvents }` (default 100,000, the newest kept). Default false.
   */
  trace?: TraceOption;
  /**
   * Keep a journal beside the session file while running (`<session>.journal.jsonl`, one line per
   * sample, fsync'd once a second), so that `loadlight recover <dir>` can rebuild the session of a
   * process killed before it could write it. Removed once the session file is written. Default true.
   */
  journal?: boolean;
}

/** Not options: what tests change in the reporter's machinery. */
export interface JsonReporterInternals {
  /** The file system calls of the journal (default: node:fs). */
  journalIO?: JournalIO;
}

/** The `json` reporter; `lastFile` tells programs and tests where the session went. */
export interface JsonReporter extends Plugin {
  readonly name: 'json';
  /** The file the latest export (or exit fallback) wrote, or null before the first. */
  readonly lastFile: string | null;
}

const NAME = 'json';

const DEFAULTS: Required<JsonReporterOptions> = { dir: 'perf/samples', pretty: false, quiet: false, trace: false, journal: true };

const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dir: { type: 'string', minLength: 1 },
    pretty: { type: 'boolean' },
    quiet: { type: 'boolean' },
    trace: traceOptionSchema,
    journal: { type: 'boolean' },
  },
};

interface SessionState {
  file: string;
  exported: boolean;
  onExit: (() => void) | null;
  journal: Journal | null;
}

/** The end of a message when the session could not be written but its journal stays. */
function kept(state: SessionState): string {
  const journal = state.journal;
  return journal ? `; its journal stays: run "loadlight recover ${displayPath(journal.dir)}" to rebuild it` : '';
}

/**
 * Writes the session profile to `<dir>/<sessionId>.json` when the profiler stops, atomically
 * (temp file, fsync, rename). A program that calls `process.exit()` while profiling still gets
 * its session: an `exit` listener writes it synchronously.
 *
 * @example new Profiler({ reporters: [json({ dir: 'perf/samples', pretty: true })] })
 */
export default function json(options: JsonReporterOptions = {}, internals: JsonReporterInternals = {}): JsonReporter {
  options ??= {};
  validateOptions(NAME, optionsSchema, options);
  const settings: Required<JsonReporterOptions> = {
    dir: options.dir ?? DEFAULTS.dir,
    pretty: options.pretty ?? DEFAULTS.pretty,
    quiet: options.quiet ?? DEFAULTS.quiet,
    trace: options.trace ?? DEFAULTS.trace,
    journal: options.journal ?? DEFAULTS.journal,
  };
  const journalIO = internals.journalIO ?? nodeJournalIO;
  // Per profiler, so that one reporter object can serve two profilers without mixing them.
  const sessions = new WeakMap<Profiler, SessionState>();
  // `trace`: the module calls beside the session, as a Chrome trace (trace.ts).
  const trace = new TraceExport(settings.trace, settings.quiet);
  let lastFile: string | null = null;

  const fileFor = (profiler: Profiler, sessionId: string): string =>
    resolve(profiler.config.baseDir, settings.dir, `${safeFileName(sessionId)}.json`);

  // The file's bytes, formatted chunk by chunk as they are written (see serialize.ts).
  const serialize = (profile: SessionProfile): Iterable<Uint8Array> => sessionJsonChunks(profile, { pretty: settings.pretty });

  const written = (file: string): void => {
    lastFile = file;
    if (!settings.quiet) process.stderr.write(`[loadlight] session written to ${displayPath(file)}\n`);
  };

  const detach = (state: SessionState): void => {
    if (state.onExit) process.removeListener('exit', state.onExit);
    state.onExit = null;
  };

  return {
    name: NAME,
    get lastFile() {
      return lastFile;
    },
    apply(profiler: Profiler) {
      profiler.hooks.start.tapPromise(NAME, async () => {
        const previous = sessions.get(profiler);
        if (previous) detach(previous);
        if (previous?.journal) await previous.journal.close();
        const file = fileFor(profiler, profiler.sessionId);
        const state: SessionState = { file, exported: false, onExit: null, journal: null };
        if (settings.journal) {
          state.journal = new Journal(profiler, dirname(file), safeFileName(profiler.sessionId), journalIO);
          state.journal.start();
        }
        // Runs only when the program exits without stopping the profiler (process.exit()):
        // signals and beforeExit are handled by the core, which stops and exports.
        state.onExit = () => {
          state.onExit = null;
          if (state.exported) return;
          try {
            const profile = profiler.session();
            writeFileAtomicSync(state.file, serialize(profile));
            state.exported = true;
            state.journal?.removeSync();
            written(state.file);
            trace.writeSync(profiler, state.file, profile);
          } catch (error) {
            state.journal?.closeSync();
            profiler.warn(`could not write the session to ${displayPath(state.file)} on exit: ${describeError(error)}${kept(state)}`);
          }
        };
        process.on('exit', state.onExit);
        sessions.set(profiler, state);
        trace.start(profiler);
      });

      // The journal: every committed row, and what the evaluations recorded.
      profiler.hooks.sample.tap(NAME, (sample) => {
        sessions.get(profiler)?.journal?.sample(sample.t);
      });
      profiler.hooks.evaluated.tap(NAME, (evaluation) => {
        sessions.get(profiler)?.journal?.evaluated(evaluation);
      });

      profiler.hooks.export.tapPromise(NAME, async (profile) => {
        const state = sessions.get(profiler);
        const file = fileFor(profiler, profile.sessionId);
        try {
          await writeFileAtomic(file, serialize(profile));
          if (state) state.exported = true;
          await state?.journal?.remove();
          written(file);
          await trace.write(profiler, file, profile);
        } catch (error) {
          // The session is not on disk: the journal stays, complete, for `loadlight recover`.
          if (state && !state.exported) await state.journal?.close();
          throw new LoadlightError('PLUGIN_ERROR', `could not write the session to ${displayPath(file)}: ${describeError(error)}${state && !state.exported ? kept(state) : ''}`, {
            plugin: NAME,
            hook: 'export',
            cause: error,
          });
        } finally {
          if (state) detach(state);
        }
      });
    },
  };
}
