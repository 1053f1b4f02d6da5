import path from 'node:path';
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
 * Characters a terminal would act on or not show: C0/C1 controls (tab and line feed included),
 * line and paragraph separators, bidirectional marks, embeddings, overrides and isolates (U+061C,
 * U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and the zero-width no-break space (BOM, U+FEFF).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
const escapeChar = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * A message of one or more lines with those characters written as `\uXXXX` (its line breaks and
 * tabs kept): a path or argument echoed in it cannot hide or reorder the text.
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => (c === '\t' || c === '\n' ? c : escapeChar(c)));
}

/**
 * A name, or a message meant as one line (a usage error), with tabs and line breaks written as
 * `\u0009`/`\u000a` too: a quoted argument cannot start a line of its own.
 */
export function printableLine(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** A file as messages show it: relative to the current folder (`fallback` when it is that folder), printable on one line. */
export function shownPath(file: string, fallback = file): string {
  return printableLine(path.relative(process.cwd(), file) || fallback);
}

export function isLoadlightLike(error: unknown): error is LoadlightError {
  return error instanceof Error && error.name === 'LoadlightError';
}
