import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LoadlightError } from '@loadlight/core';

/** A usage mistake: printed with the command's help hint, exit code 1. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30s`, `2m`, `500ms`, `1h`, or a plain number of seconds. */
export function parseDuration(text: string, option = '--duration'): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${option} expects a duration such as 30s, 2m or 500ms, got "${text}"`);
  const ms = Number(match[1]) * UNITS_MS[match[2] ?? 's']!;
  if (!(ms > 0)) throw new UsageError(`${option} must be more than zero, got "${text}"`);
  return ms;
}

/** parseArgs (strict), with its errors turned into UsageError messages a person can act on. */
export function parse<const T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>({ strict: true, ...config });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.replace(/\. To specify a positional argument.*$/s, '.'));
  }
}

/**
 * `text` with control, line-separator and bidirectional-override characters written as `\uXXXX`
 * (line breaks and tabs kept): a path or argument echoed in a message cannot hide or reorder it.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function isLoadlightLike(error: unknown): error is LoadlightError {
  return error instanceof Error && error.name === 'LoadlightError';
}
