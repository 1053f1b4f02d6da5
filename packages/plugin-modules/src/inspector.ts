import { createRequire } from 'node:module';
import type { Session } from 'node:inspector';
import { describeError } from '@loadlight/core';

type InspectorModule = typeof import('node:inspector');

/** node:inspector, or why it cannot be had (a Node built without it throws on require). */
function loadInspector(): InspectorModule | string {
  try {
    return createRequire(import.meta.url)('node:inspector') as InspectorModule;
  } catch (error) {
    return `node:inspector is not available in this Node.js build (${describeError(error)})`;
  }
}

/** Where a function's code starts, as V8's profiles name it: `scriptId:line:column` (0-based). */
export type LocationKey = string;

export function locationKey(scriptId: string, lineNumber: number, columnNumber: number): LocationKey {
  return `${scriptId}:${lineNumber}:${columnNumber}`;
}

const GLOBAL_HANDOFF = '__loadlightLocate__';

/**
 * One in-process inspector session for the samplers and the worker watch. An in-process
 * session answers `post` synchronously (its callback runs before `post` returns), which this
 * relies on, and does not keep the process alive.
 */
export class InspectorLink {
  readonly inspector: InspectorModule;
  private session: Session | null;

  private constructor(inspector: InspectorModule) {
    this.inspector = inspector;
    const session = new inspector.Session();
    session.connect();
    this.session = session;
  }

  /** A connected link, or the reason there cannot be one. */
  static open(): InspectorLink | string {
    const inspector = loadInspector();
    if (typeof inspector === 'string') return inspector;
    try {
      return new InspectorLink(inspector);
    } catch (error) {
      return `cannot open an inspector session: ${describeError(error)}`;
    }
  }

  get connected(): boolean {
    return this.session !== null;
  }

  /** Sends a command and returns its result; throws the protocol error. */
  post<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>): T {
    const session = this.session;
    if (!session) throw new Error('the inspector session is closed');
    let answered = false;
    let failure: Error | null = null;
    let result: T | undefined;
    session.post(method, params ?? {}, (error: Error | null, value?: unknown) => {
      answered = true;
      failure = error;
      result = value as T;
    });
    if (!answered) throw new Error(`the inspector did not answer ${method} synchronously`);
    if (failure) throw failure;
    return result as T;
  }

  /** Sends a command whose answer may come later (worker messages). */
  postAsync(method: string, params: Record<string, unknown>): void {
    this.session?.post(method, params, () => undefined);
  }

  /** Listens to a notification; returns the function that stops listening. */
  on(event: string, listener: (message: { params: Record<string, unknown> }) => void): () => void {
    const session = this.session;
    session?.on(event, listener as (message: unknown) => void);
    return () => session?.off(event, listener as (message: unknown) => void);
  }

  /**
   * The source locations of functions (`[[FunctionLocation]]`, the start of their parameter
   * list, as in CPU and heap profiles), or null for native and bound functions. About 70 us
   * per function; `deadline` (performance.now()) stops early, the rest are `undefined`.
   */
  locate(fns: Function[], deadline: number): Array<LocationKey | null | undefined> {
    const out: Array<LocationKey | null | undefined> = new Array(fns.length).fill(undefined);
    if (fns.length === 0) return out;
    const group = 'loadlight-locate';
    const global = globalThis as Record<string, unknown>;
    global[GLOBAL_HANDOFF] = fns;
    try {
      const array = this.post<{ result: { objectId?: string } }>('Runtime.evaluate', {
        expression: `globalThis.${GLOBAL_HANDOFF}`,
        objectGroup: group,
        silent: true,
      }).result.objectId;
      if (!array) return out;
      const elements = this.post<{ result: Array<{ name: string; value?: { objectId?: string } }> }>('Runtime.getProperties', {
        objectId: array,
        ownProperties: true,
      }).result;
      for (const element of elements) {
        if (performance.now() > deadline) break;
        const index = Number(element.name);
        if (!Number.isInteger(index) || index < 0 || index >= fns.length) continue;
        const objectId = element.value?.objectId;
        if (!objectId) {
          out[index] = null;
          continue;
        }
        const properties = this.post<{ internalProperties?: Array<{ name: string; value?: { value?: unknown } }> }>(
          'Runtime.getProperties',
          { objectId, ownProperties: true, nonIndexedPropertiesOnly: true },
        );
        const location = properties.internalProperties?.find((p) => p.name === '[[FunctionLocation]]')?.value?.value as
          | { scriptId: string; lineNumber: number; columnNumber: number }
          | undefined;
        out[index] = location ? locationKey(location.scriptId, location.lineNumber, location.columnNumber) : null;
      }
    } finally {
      delete global[GLOBAL_HANDOFF];
      try {
        this.post('Runtime.releaseObjectGroup', { objectGroup: group });
      } catch {
        // the session went away: nothing is held any more
      }
    }
    return out;
  }

  close(): void {
    const session = this.session;
    this.session = null;
    if (!session) return;
    try {
      session.disconnect();
    } catch {
      // already disconnected
    }
  }
}
