export type LoadlightErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_LOAD_FAILED'
  | 'RULES_INVALID'
  | 'RULES_NOT_FOUND'
  | 'PLUGIN_ERROR'
  | 'PLUGIN_NOT_FOUND'
  | 'PLUGIN_OPTIONS_INVALID'
  | 'METRIC_INVALID'
  | 'SESSION_INVALID'
  | 'ACTION_INVALID'
  | 'ACTION_NOT_FOUND'
  | 'PROFILER_STATE';

/**
 * Every error loadlight raises on purpose: a stable `code`, the file / plugin / hook where it
 * applies, and the original as `cause`. The CLI prints `message` alone, without a stack.
 */
export class LoadlightError extends Error {
  override readonly name = 'LoadlightError';
  readonly code: LoadlightErrorCode;
  readonly file?: string;
  readonly plugin?: string;
  readonly hook?: string;

  constructor(
    code: LoadlightErrorCode,
    message: string,
    details: { file?: string; plugin?: string; hook?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    if (details.file !== undefined) this.file = details.file;
    if (details.plugin !== undefined) this.plugin = details.plugin;
    if (details.hook !== undefined) this.hook = details.hook;
  }
}

export function isLoadlightError(error: unknown): error is LoadlightError {
  return error instanceof Error && (error as { name?: string }).name === 'LoadlightError' && 'code' in error;
}

/** A one-line description of anything thrown, for fault records and warnings. */
export function describeError(error: unknown): string {
  try {
    if (error instanceof Error) return error.message || error.name;
    if (typeof error === 'string') return error;
    try {
      return `non-error thrown: ${JSON.stringify(error)}`;
    } catch {
      return `non-error thrown: ${String(error)}`;
    }
  } catch {
    return 'non-error thrown (it cannot be described: reading it threw)'; // a throwing getter, toJSON and toString
  }
}
