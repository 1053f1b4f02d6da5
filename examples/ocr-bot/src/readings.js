// What the bot read against what it drew, shared with the `bot` metric source in perf.config.ts.
// It lives on globalThis: the config is loaded by jiti, which gives it its own copy of this file.
const KEY = Symbol.for('ocr-bot.readings');

/** Counts since the start; the metric source keeps its own last-read values. */
export const readings = (globalThis[KEY] ??= { reads: 0, fieldsRead: 0, fieldsRight: 0 });
