import { validateOptions, type JsonSchema } from '@loadlight/core';

export const PLUGIN_NAME = 'frames';

export interface FramesOptions {
  /**
   * The frame rate the program aims for. Default 30. A frame that takes longer than its budget
   * (`1000 / targetFps` ms) is late.
   */
  targetFps?: number;
}

export type ResolvedFramesOptions = Required<FramesOptions>;

/** The defaults, in one place. */
export const DEFAULT_OPTIONS: Readonly<ResolvedFramesOptions> = Object.freeze({ targetFps: 30 });

export const optionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    targetFps: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
  },
};

/** Validates once (a PLUGIN_OPTIONS_INVALID error naming the option) and applies the defaults. */
export function resolveOptions(options: FramesOptions | undefined): ResolvedFramesOptions {
  validateOptions(PLUGIN_NAME, optionsSchema, options);
  return { targetFps: options?.targetFps ?? DEFAULT_OPTIONS.targetFps };
}
