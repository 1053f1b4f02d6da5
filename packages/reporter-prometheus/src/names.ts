import type { MetricInfo } from '@loadlight/core';

/** Bytes in one MB as loadlight counts it (MiB). */
export const MB = 1024 * 1024;

/**
 * How a loadlight unit is exposed: the unit word a Prometheus name ends in, and the conversion of
 * the value. Base units where the conversion is plain (ms -> seconds, MB -> bytes); percent,
 * ratio, per-minute and fps stay as they are, with the unit in the name.
 */
export interface ExposedUnit {
  /** Unit word appended to the name (`seconds`), or '' for none (counts, load averages). */
  suffix: string;
  /** Loadlight value -> exposed value. */
  convert: (value: number) => number;
  /** Whether `convert` changes the value (ms -> seconds, MB -> bytes). */
  scaled: boolean;
}

const same = (value: number) => value;
/** ms -> seconds; a whole number of microseconds (loadlight's resolution of ms) gives its exact decimal (33.03 -> 0.03303). */
export function msToSeconds(value: number): number {
  const us = value * 1000;
  const whole = Math.round(us);
  // Within float noise of a whole number: that number (a real fraction of a microsecond is kept).
  return Math.abs(us - whole) <= Math.max(1e-6, Math.abs(us) * 1e-12) ? whole / 1e6 : value / 1000;
}
/** MB -> bytes, whole: loadlight holds MB to 1/1000, about 1 KB, so a fraction of a byte says nothing. */
const mbToBytes = (value: number) => Math.round(value * MB);

const UNITS: Readonly<Record<string, ExposedUnit>> = Object.freeze({
  percent: { suffix: 'percent', convert: same, scaled: false },
  ratio: { suffix: 'ratio', convert: same, scaled: false },
  ms: { suffix: 'seconds', convert: msToSeconds, scaled: true },
  ms_per_minute: { suffix: 'seconds_per_minute', convert: msToSeconds, scaled: true },
  mb: { suffix: 'bytes', convert: mbToBytes, scaled: true },
  mb_per_minute: { suffix: 'bytes_per_minute', convert: mbToBytes, scaled: true },
  bytes: { suffix: 'bytes', convert: same, scaled: false },
  bytes_per_second: { suffix: 'bytes_per_second', convert: same, scaled: false },
  count: { suffix: '', convert: same, scaled: false },
  per_minute: { suffix: 'per_minute', convert: same, scaled: false },
  fps: { suffix: 'fps', convert: same, scaled: false },
  seconds: { suffix: 'seconds', convert: same, scaled: false },
  load: { suffix: '', convert: same, scaled: false },
});

/** A unit loadlight does not know (a plugin in plain JavaScript): exposed as written, no suffix. */
const UNKNOWN: ExposedUnit = Object.freeze({ suffix: '', convert: same, scaled: false });

export function exposedUnit(unit: string): ExposedUnit {
  return Object.hasOwn(UNITS, unit) ? UNITS[unit]! : UNKNOWN;
}

/**
 * Module fields whose plain translation would read wrongly: `total_ms` (the summed latency of the
 * tick's calls) would become `module_seconds_total`.
 */
const MODULE_FIELD_NAMES: Readonly<Record<string, string>> = Object.freeze({ total_ms: 'call_duration_ms' });

/** `prometheus` for a gauge or counter family; a derived metric (a window aggregate) is a gauge. */
export function exposedType(info: Pick<MetricInfo, 'kind' | 'derivedFrom'>): 'gauge' | 'counter' {
  return info.kind === 'counter' && !info.derivedFrom ? 'counter' : 'gauge';
}

/**
 * The Prometheus name of a loadlight metric, without the prefix. Dots and dashes become `_`; the
 * unit ending of the name (`_ms`, `.percent`) is replaced by the exposed unit (`_seconds`,
 * `_percent`), or the exposed unit is appended when the name has none (counts, load averages and
 * units loadlight does not know have no unit word and keep the name as it is); counters end in `_total`
 * (a `count` or `total` word before it is dropped: `ocr.calls.count` is `ocr_calls_total`). A
 * module's metric is one family for every module, named after its field
 * (`module.core.ocr.cpu_percent` is `module_cpu_percent{module="core.ocr"}`).
 */
export function exposedName(info: Pick<MetricInfo, 'name' | 'unit' | 'kind' | 'derivedFrom' | 'module'>): string {
  const source = info.module ? `module.${MODULE_FIELD_NAMES[info.module.field] ?? info.module.field}` : info.name;
  let stem = source.replace(/[.-]/g, '_');
  const { suffix } = exposedUnit(info.unit);
  const ending = `_${info.unit}`;
  // Only a unit word that is replaced goes: `cpu.load` (load) and `ui.frames` (unknown) keep theirs.
  if (suffix && stem.endsWith(ending) && stem.length > ending.length) stem = stem.slice(0, -ending.length);
  const counter = exposedType(info) === 'counter';
  if (counter) stem = stem.replace(/_(?:count|total)$/, '') || stem;
  if (suffix && !stem.endsWith(`_${suffix}`)) stem = `${stem}_${suffix}`;
  return counter ? `${stem}_total` : stem;
}
