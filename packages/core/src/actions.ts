import { describeError, LoadlightError } from './errors.js';
import type { Profiler } from './profiler.js';
import type { ActionRecord, Recommendation } from './types.js';

export interface ActionContext {
  profiler: Profiler;
  /** The current recommendation that names this action, if any. */
  recommendation: Recommendation | null;
}

/** Changes the profiled program (lower a cadence, turn a mode off); may return a short result. */
export type ActionHandler = (context: ActionContext) => unknown;

const ACTION_ID = /^[a-z0-9][a-z0-9_.-]*$/;
const MAX_HISTORY = 1000;

/** A JSON-safe copy of a handler's result, or null. */
function jsonSafe(value: unknown): unknown {
  if (value === undefined) return null;
  try {
    const text = JSON.stringify(value);
    return text === undefined || text.length > 10_000 ? null : (JSON.parse(text) as unknown);
  } catch {
    return null;
  }
}

/**
 * Actions the profiled program registers, so that a recommendation naming one can be applied:
 * `profiler.actions.register('ocr.reduce-frequency', () => bot.setOcrEvery(4))`, then
 * `await profiler.actions.run('ocr.reduce-frequency')`. Every run is recorded in the session.
 */
export class Actions {
  private readonly handlers = new Map<string, { handler: ActionHandler; description: string }>();
  private readonly records: ActionRecord[] = [];
  private count = 0;

  constructor(private readonly profiler: Profiler) {}

  /** Registers a handler; returns a function that unregisters it. */
  register(id: string, handler: ActionHandler, options: { description?: string } = {}): () => void {
    if (typeof id !== 'string' || !ACTION_ID.test(id)) {
      throw new LoadlightError('ACTION_INVALID', `action id ${JSON.stringify(id)} must be lower case letters, digits, ".", "-" or "_"`);
    }
    if (typeof handler !== 'function') throw new LoadlightError('ACTION_INVALID', `action "${id}": the handler must be a function`);
    if (this.handlers.has(id)) throw new LoadlightError('ACTION_INVALID', `action "${id}" is already registered`);
    const entry = { handler, description: options.description ?? '' };
    this.handlers.set(id, entry);
    return () => {
      if (this.handlers.get(id) === entry) this.handlers.delete(id);
    };
  }

  has(id: string): boolean {
    return this.handlers.has(id);
  }

  list(): Array<{ id: string; description: string }> {
    return [...this.handlers].map(([id, { description }]) => ({ id, description }));
  }

  /**
   * Runs a registered action and records the outcome. Rejects only for an unknown id; a handler
   * that throws gives a record with `ok: false` and the error.
   */
  async run(id: string, options: { source?: string } = {}): Promise<ActionRecord> {
    const entry = this.handlers.get(id);
    if (!entry) {
      const known = [...this.handlers.keys()];
      throw new LoadlightError(
        'ACTION_NOT_FOUND',
        `no action "${id}" is registered${known.length ? ` (registered: ${known.join(', ')})` : ''}`,
      );
    }
    const recommendation = this.profiler.evaluation?.recommendations.find((r) => r.action === id) ?? null;
    const started = performance.now();
    const record: ActionRecord = {
      id,
      at: new Date().toISOString(),
      source: options.source ?? 'api',
      ok: true,
      durationMs: 0,
      recommendation: recommendation?.id ?? null,
      result: null,
      error: null,
    };
    try {
      record.result = jsonSafe(await entry.handler({ profiler: this.profiler, recommendation }));
    } catch (error) {
      record.ok = false;
      record.error = describeError(error);
    }
    record.durationMs = performance.now() - started;
    if (this.records.length >= MAX_HISTORY) this.records.shift();
    this.records.push(record);
    this.count++;
    return { ...record };
  }

  /** How many runs finished so far (the history keeps the last 1,000): changes with every run. */
  get runs(): number {
    return this.count;
  }

  /** Every run so far, oldest first. */
  history(): ActionRecord[] {
    return this.records.map((r) => ({ ...r }));
  }
}
