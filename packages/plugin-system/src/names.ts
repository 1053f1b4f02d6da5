/** One segment of a metric name, as core's Store accepts it (`module.<segment>.cpu_percent`). */
const SEGMENT = /^[a-z0-9_][a-z0-9_-]*$/;
const MAX_NAME_LENGTH = 64;

/**
 * Normalises a watched process's name into one metric-name segment: trimmed, lower case, runs
 * of spaces and dots become `_` (`"OCR Worker"` -> `ocr_worker`). Anything else that a metric
 * name cannot hold is an error rather than silently rewritten, so two names never collide.
 * Throws an Error whose message completes a sentence about the name: `"<where>" must ...`.
 */
export function processModuleName(name: unknown): string {
  if (typeof name !== 'string') throw new Error(`must be a string, got ${name === null ? 'null' : typeof name}.`);
  const normalised = name.trim().toLowerCase().replace(/[\s.]+/g, '_');
  if (normalised.length === 0) throw new Error(`must not be empty, got ${JSON.stringify(name)}.`);
  if (normalised.length > MAX_NAME_LENGTH) {
    throw new Error(`must be at most ${MAX_NAME_LENGTH} characters, got ${normalised.length}.`);
  }
  if (!SEGMENT.test(normalised)) {
    throw new Error(
      `must hold only letters, digits, "_" and "-" (spaces and dots become "_"), ` +
        `because it names the metrics module.<name>.cpu_percent and module.<name>.memory_mb; got ${JSON.stringify(name)}.`,
    );
  }
  return normalised;
}
