import type { Writable } from 'node:stream';
import { validateOptions, type Plugin, type Profiler, type Snapshot } from '@loadlight/core';
import { cursorUp, ERASE_DOWN, ERASE_LINE, HIDE_CURSOR, SHOW_CURSOR } from './ansi.js';
import { isLiveTerminal, resolveColor } from './color.js';
import { RENDER_DEFAULTS, renderFrame, renderLine, renderSummary } from './render.js';

export { renderFrame, renderLine, renderSummary, levelBadge, levelStyle, severityBadge, priorityBadge, type RenderOptions } from './render.js';
export { resolveColor, isLiveTerminal, type ColorEnv } from './color.js';
export { palette, sanitize, stripAnsi, truncate, visibleWidth, type Palette, type Style } from './ansi.js';
export { formatValue, formatDuration } from './format.js';

/** Anything with `write`; `isTTY`, `columns` and `rows` are read when present, as on a tty.WriteStream. */
export type ConsoleStream = (NodeJS.WritableStream | Writable) & { isTTY?: boolean; columns?: number; rows?: number };

export interface ConsoleReporterOptions {
  /** Least time between two renders. Default 0: render at every report. */
  refreshMs?: number;
  /** Where to write. Default: stdout when it is a TTY (the live view), else stderr. */
  stream?: ConsoleStream;
  /** Colour. Default: from FORCE_COLOR, NO_COLOR, TERM and whether the stream is a TTY. */
  color?: boolean;
  /** One status line instead of the full view (redrawn in place on a TTY). Default false. */
  compact?: boolean;
  /** Modules listed in the full view. Default 10. */
  maxModules?: number;
  /** Recommendations listed in the full view. Default 3. */
  maxRecommendations?: number;
}

export interface ConsoleReporter extends Plugin {
  readonly name: 'console';
}

const NAME = 'console';

const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    refreshMs: { type: 'number', minimum: 0 },
    stream: { type: 'object', required: ['write'], properties: { write: { isFunction: true } } },
    color: { type: 'boolean' },
    compact: { type: 'boolean' },
    maxModules: { type: 'integer', minimum: 0 },
    maxRecommendations: { type: 'integer', minimum: 0 },
  },
};

interface ViewState {
  stream: ConsoleStream;
  color: boolean;
  /** Redraw in place (a TTY) rather than append lines. */
  live: boolean;
  lastRenderAt: number;
  /** Lines of the previous frame, which the next one overwrites. */
  frameHeight: number;
  cursorHidden: boolean;
  stopped: boolean;
  onExit: (() => void) | null;
}

/**
 * The live terminal view. On a TTY it redraws one frame in place (host, process, modules,
 * alerts, recommendations, overhead); elsewhere it prints one status line per report.
 *
 * @example new Profiler({ plugins: [system()], reporters: [consoleReporter({ refreshMs: 2000 })] })
 */
export default function consoleReporter(options: ConsoleReporterOptions = {}): ConsoleReporter {
  options ??= {};
  validateOptions(NAME, optionsSchema, options);
  const refreshMs = options.refreshMs ?? 0;
  const compact = options.compact ?? false;
  const maxModules = options.maxModules ?? RENDER_DEFAULTS.maxModules;
  const maxRecommendations = options.maxRecommendations ?? RENDER_DEFAULTS.maxRecommendations;
  const views = new WeakMap<Profiler, ViewState>();

  const liveLines = (state: ViewState, snapshot: Snapshot): string[] => {
    const columns = state.stream.columns;
    const rows = state.stream.rows;
    // One column and one row stay free: a line as wide as the terminal wraps early on some
    // terminals (Windows console), and a frame as tall scrolls its top out of cursor reach.
    const width = columns && columns > 1 ? columns - 1 : undefined;
    const height = rows && rows > 1 ? rows - 1 : undefined;
    if (compact) return [renderLine(snapshot, { color: state.color, ...(width ? { width } : {}) })];
    return renderFrame(snapshot, {
      color: state.color,
      maxModules,
      maxRecommendations,
      ...(width ? { width } : {}),
      ...(height ? { height } : {}),
    });
  };

  const showCursor = (state: ViewState): void => {
    if (state.onExit) process.removeListener('exit', state.onExit);
    state.onExit = null;
    if (state.cursorHidden) {
      state.cursorHidden = false;
      state.stream.write(SHOW_CURSOR);
    }
  };

  const draw = (state: ViewState, lines: string[]): void => {
    let out = '';
    if (!state.cursorHidden) {
      out += HIDE_CURSOR;
      state.cursorHidden = true;
      // A program that calls process.exit() mid-session must not leave the cursor hidden.
      state.onExit = () => showCursor(state);
      process.on('exit', state.onExit);
    }
    if (state.frameHeight > 0) out += cursorUp(state.frameHeight);
    for (const line of lines) out += `${ERASE_LINE}${line}\n`;
    out += ERASE_DOWN;
    state.frameHeight = lines.length;
    // One write per frame, so that the terminal never shows half a frame.
    state.stream.write(out);
  };

  const render = (state: ViewState, snapshot: Snapshot): void => {
    if (state.live) draw(state, liveLines(state, snapshot));
    else state.stream.write(`${renderLine(snapshot, { color: state.color, ...(state.stream.columns ? { width: state.stream.columns } : {}) })}\n`);
  };

  return {
    name: NAME,
    apply(profiler: Profiler) {
      profiler.hooks.start.tapPromise(NAME, async () => {
        const previous = views.get(profiler);
        if (previous) showCursor(previous);
        // stdout for the live view: it is the output the user asked to watch, and it keeps
        // stderr for warnings. Off a TTY, status lines go to stderr, out of the program's data.
        const stream: ConsoleStream = options.stream ?? (process.stdout.isTTY ? process.stdout : process.stderr);
        const isTTY = stream.isTTY === true;
        views.set(profiler, {
          stream,
          color: resolveColor(options.color, isTTY),
          live: isLiveTerminal(isTTY),
          lastRenderAt: -Infinity,
          frameHeight: 0,
          cursorHidden: false,
          stopped: false,
          onExit: null,
        });
      });

      profiler.hooks.report.tapPromise(NAME, async (snapshot) => {
        const state = views.get(profiler);
        if (!state || state.stopped) return;
        const now = Date.now();
        if (now - state.lastRenderAt < refreshMs) return;
        state.lastRenderAt = now;
        render(state, snapshot);
      });

      profiler.hooks.stop.tapPromise(NAME, async () => {
        const state = views.get(profiler);
        if (!state || state.stopped) return;
        state.stopped = true;
        const snapshot = profiler.snapshot();
        try {
          // The final frame stays on screen, with the cursor back, below it the summary.
          if (state.live) draw(state, liveLines(state, snapshot));
        } finally {
          showCursor(state);
        }
        state.stream.write(`${renderSummary(snapshot, { color: state.color })}\n`);
      });
    },
  };
}
