import { validateOptions, type JsonSchema } from '@loadlight/core';

export const PLUGIN_NAME = 'io';

export interface IoOptions {
  /**
   * Host disk and network throughput and CPU iowait, besides this program's own IO waits.
   * Default true. With false, only the `io.wait*` metrics from `trackIoWait()` / `timeIo()`.
   */
  host?: boolean;
}

export type ResolvedIoOptions = Required<IoOptions>;

/** The defaults, in one place. */
export const DEFAULT_OPTIONS: Readonly<ResolvedIoOptions> = Object.freeze({ host: true });

export const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    host: { type: 'boolean' },
  },
};

/** Validates once (a clear PLUGIN_OPTIONS_INVALID error naming the option) and applies the defaults. */
export function resolveOptions(options: IoOptions | undefined): ResolvedIoOptions {
  validateOptions(PLUGIN_NAME, optionsSchema, options);
  return { host: options?.host ?? DEFAULT_OPTIONS.host };
}
