// Helpers for this package's tests: a strict parser of the Prometheus text format (0.0.4), and
// where to find Prometheus's own tools. Not part of the package's API.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  type: string;
  help: string;
  samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function unescape(text: string, quotes: boolean, where: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = text[++i];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else if (next === '"' && quotes) out += '"';
    else throw new Error(`${where}: bad escape "\\${next ?? ''}"`);
  }
  return out;
}

function parseValue(text: string, where: string): number {
  const lower = text.toLowerCase();
  if (lower === 'nan') return Number.NaN;
  if (lower === '+inf' || lower === 'inf') return Number.POSITIVE_INFINITY;
  if (lower === '-inf') return Number.NEGATIVE_INFINITY;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: "${text}" is not a number`);
  return Number(text);
}

/** Parses `{a="1",b="x\"y"}` starting at `text[start] === '{'`; returns the labels and the index after `}`. */
function parseLabels(text: string, start: number, where: string): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    if (text[i] === '}') return { labels, end: i + 1 };
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without "="`);
    const name = text.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name "${name}"`);
    if (name in labels) throw new Error(`${where}: label "${name}" given twice`);
    if (text[eq + 1] !== '"') throw new Error(`${where}: label "${name}" value is not quoted`);
    let j = eq + 2;
    let raw = '';
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') raw += text[j++];
      raw += text[j];
    }
    if (j >= text.length) throw new Error(`${where}: unterminated value of label "${name}"`);
    labels[name] = unescape(raw, true, where);
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`${where}: expected "," or "}" after label "${name}"`);
  }
}

/**
 * Parses an exposition strictly: every sample belongs to a family announced by `# TYPE` (with a
 * `# HELP`), names and label names are valid, no series is given twice, and every line parses.
 */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  const series = new Set<string>();
  const helps = new Map<string, string>();
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const lines = text.split('\n');
  for (const [n, line] of lines.entries()) {
    const where = `line ${n + 1}`;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!match) continue; // a comment
      const [, keyword, name, rest] = match as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`);
      if (keyword === 'HELP') {
        if (helps.has(name)) throw new Error(`${where}: second HELP for ${name}`);
        helps.set(name, unescape(rest, false, where));
      } else {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type "${rest}"`);
        if (families.has(name)) throw new Error(`${where}: second TYPE for ${name}`);
        families.set(name, { name, type: rest, help: helps.get(name) ?? '', samples: [] });
      }
      continue;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nameMatch) throw new Error(`${where}: a sample must start with a metric name: ${line}`);
    const name = nameMatch[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i, where));
    const rest = line.slice(i).trim().split(/\s+/);
    if (rest.length < 1 || rest.length > 2 || rest[0] === '') throw new Error(`${where}: expected a value (and a timestamp) after the labels`);
    const value = parseValue(rest[0]!, where);
    const family = families.get(name);
    if (!family) throw new Error(`${where}: sample of ${name} before its # TYPE line`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) throw new Error(`${where}: series given twice: ${line}`);
    series.add(key);
    family.samples.push({ name, labels, value });
  }
  for (const family of families.values()) {
    if (!helps.has(family.name)) throw new Error(`${family.name} has no # HELP line`);
    family.help = helps.get(family.name)!;
  }
  return families;
}

/** The one sample of `family` whose labels include `labels`, or undefined. Throws when several match. */
export function sampleOf(families: Map<string, ParsedFamily>, family: string, labels: Record<string, string> = {}): ParsedSample | undefined {
  const found = (families.get(family)?.samples ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${family} match ${JSON.stringify(labels)}`);
  return found[0];
}

/** A Prometheus tool (`prometheus`, `promtool`): `$LOADLIGHT_<TOOL>`, /usr/bin, then the PATH; null when absent. */
export function findTool(tool: 'prometheus' | 'promtool'): string | null {
  const fromEnv = process.env[`LOADLIGHT_${tool.toUpperCase()}`];
  const candidates = [fromEnv, `/usr/bin/${tool}`, ...(process.env.PATH ?? '').split(path.delimiter).map((dir) => dir && path.join(dir, tool))];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return null;
}

export interface ToolCheck {
  /** The tool's path, or null when it is missing. */
  bin: string | null;
  /** Skip the tests that need it: only when it is missing and this is not CI. */
  skip: boolean;
  /** Why it is missing (null when found). */
  reason: string | null;
}

/**
 * Finds `tool` for a test. When it is missing, the test is skipped with a printed reason, except
 * under CI (`CI=true`), which installs it (scripts/install-prometheus.sh): there the test runs
 * and must fail with `reason`.
 */
export function checkTool(tool: 'prometheus' | 'promtool', what: string): ToolCheck {
  const bin = findTool(tool);
  if (bin) return { bin, skip: false, reason: null };
  const reason = `${tool} not found (looked at $LOADLIGHT_${tool.toUpperCase()}, /usr/bin/${tool} and the PATH): run scripts/install-prometheus.sh`;
  const skip = process.env.CI !== 'true';
  if (skip) console.warn(`[reporter-prometheus] skipped ${what}: ${reason}`);
  return { bin, skip, reason };
}

export { freePort } from '../../../test/support/net.js';
