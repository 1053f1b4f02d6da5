import { LoadlightError, validateOptions, type JsonSchema } from '@loadlight/core';
import { processModuleName } from './names.js';

export const PLUGIN_NAME = 'system';

/** A process to watch from the start, as `module.<name>.cpu_percent` and `module.<name>.memory_mb`. */
export interface WatchedProcessOption {
  pid: number;
  name: string;
}

export interface SystemOptions {
  /** Host CPU, memory and load average. Default true. */
  host?: boolean;
  /** This process: CPU, RSS, heap and heap growth. Default true. */
  process?: boolean;
  /** Event-loop delay (p50, p99, max) and utilisation. Default true. */
  eventLoop?: boolean;
  /** Garbage-collection pauses and counts per minute. Default true. */
  gc?: boolean;
  /**
   * Period of the event-loop delay monitor's timer. Default 50, at least 10: a finer monitor
   * keeps an idle loop busy. Delays shorter than this are not seen.
   */
  eventLoopResolutionMs?: number;
  /** Other processes to watch (through pidusage), for example worker processes. */
  processes?: WatchedProcessOption[];
}

export type ResolvedSystemOptions = Required<SystemOptions>;

/** The defaults, in one place. */
export const DEFAULT_OPTIONS: Readonly<Omit<ResolvedSystemOptions, 'processes'>> = Object.freeze({
  host: true,
  process: true,
  eventLoop: true,
  gc: true,
  eventLoopResolutionMs: 50,
});

export const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    host: { type: 'boolean' },
    process: { type: 'boolean' },
    eventLoop: { type: 'boolean' },
    gc: { type: 'boolean' },
    eventLoopResolutionMs: { type: 'integer', minimum: 10, maximum: 1000 },
    processes: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['pid', 'name'],
        properties: {
          pid: { type: 'integer', minimum: 1 },
          name: { type: 'string', minLength: 1 },
        },
      },
    },
  },
};

/** Validates once (a clear PLUGIN_OPTIONS_INVALID error naming the option) and applies the defaults. */
export function resolveOptions(options: SystemOptions | undefined): ResolvedSystemOptions {
  validateOptions(PLUGIN_NAME, optionsSchema, options);
  const given = options ?? {};
  const processes = (given.processes ?? []).map((entry, i) => {
    try {
      return { pid: entry.pid, name: processModuleName(entry.name) };
    } catch (error) {
      throw new LoadlightError(
        'PLUGIN_OPTIONS_INVALID',
        `plugin "${PLUGIN_NAME}" options: "processes[${i}].name" ${(error as Error).message}`,
        { plugin: PLUGIN_NAME, cause: error },
      );
    }
  });
  return { ...DEFAULT_OPTIONS, ...stripUndefined(given), processes };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
