import { LoadlightError } from '@loadlight/core';

export const PLUGIN_NAME = 'modules';

/**
 * A module name: lower-case dotted words (`core.ocr`, `ui.heatmap-render`). It becomes part of
 * metric names (`module.core.ocr.cpu_percent`), so it is checked rather than rewritten: two
 * spellings never silently become one module.
 */
const MODULE_NAME = /^[a-z][a-z0-9_-]*(\.[a-z0-9_][a-z0-9_-]*)*$/;
const MAX_NAME_LENGTH = 100;
const TAG = /^[a-z][a-z0-9_-]*$/;
const MAX_TAGS = 16;

/** `describe(value)` for error messages: strings quoted, the rest by type. */
export function describeArgument(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/** Throws PLUGIN_OPTIONS_INVALID naming the call (`profileModule("Core", fn)`) unless `name` is a valid module name. */
export function checkModuleName(name: unknown, call: string): string {
  if (typeof name !== 'string') {
    throw invalid(`${call}: the module name must be a string like "core.ocr", got ${describeArgument(name)}`);
  }
  if (name.length === 0 || name.length > MAX_NAME_LENGTH || !MODULE_NAME.test(name)) {
    const hint = suggestName(name);
    throw invalid(
      `${call}: the module name must be lower-case dotted words like "core.ocr" ` +
        `(each word of letters, digits, "_" or "-", the first starting with a letter; at most ${MAX_NAME_LENGTH} characters), ` +
        `got ${JSON.stringify(name)}.${hint ? ` Did you mean "${hint}"?` : ''}`,
    );
  }
  return name;
}

/** Checks `{ tags }` and returns them sorted and unique. */
export function checkTags(tags: unknown, call: string): string[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags)) throw invalid(`${call}: "tags" must be an array of words like ["verbose"], got ${describeArgument(tags)}`);
  if (tags.length > MAX_TAGS) throw invalid(`${call}: at most ${MAX_TAGS} tags, got ${tags.length}`);
  for (const tag of tags) {
    if (typeof tag !== 'string' || !TAG.test(tag)) {
      throw invalid(`${call}: each tag must be a lower-case word like "verbose" or "heatmap", got ${describeArgument(tag)}`);
    }
  }
  return [...new Set(tags as string[])].sort();
}

/** Checks the `{ tags }` options object of profileModule, profile, moduleSpan and watchWorker. */
export function checkModuleOptions(options: unknown, call: string): string[] {
  if (options === undefined) return [];
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalid(`${call}: options must be an object like { tags: ["verbose"] }, got ${describeArgument(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'tags') throw invalid(`${call}: unknown option "${key}". Expected one of: tags.`);
  }
  return checkTags((options as { tags?: unknown }).tags, call);
}

function suggestName(name: string): string | undefined {
  const fixed = name
    .trim()
    .toLowerCase()
    .replace(/[\s/:]+/g, '.')
    .replace(/[^a-z0-9_.-]/g, '')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^a-z]+|\.+$/g, '');
  return fixed !== name && fixed.length > 0 && MODULE_NAME.test(fixed) ? fixed : undefined;
}

function invalid(message: string): LoadlightError {
  return new LoadlightError('PLUGIN_OPTIONS_INVALID', message, { plugin: PLUGIN_NAME });
}
