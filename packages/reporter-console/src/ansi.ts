/** The few ANSI sequences the live view needs; written here to stay dependency-free. */
export const ESC = '\u001b[';
export const HIDE_CURSOR = `${ESC}?25l`;
export const SHOW_CURSOR = `${ESC}?25h`;
/** Erase the whole current line. */
export const ERASE_LINE = `${ESC}2K`;
/** Erase from the cursor to the end of the screen. */
export const ERASE_DOWN = `${ESC}J`;

/** Carriage return, then `lines` lines up: back to the top-left of the previous frame. */
export function cursorUp(lines: number): string {
  return lines > 0 ? `\r${ESC}${lines}A` : '\r';
}

export type Style = (text: string) => string;

export interface Palette {
  readonly enabled: boolean;
  bold: Style;
  dim: Style;
  red: Style;
  green: Style;
  yellow: Style;
  cyan: Style;
  magenta: Style;
}

// Each style closes with its own reset (not 0m) so that styles nest.
function sgr(open: number, close: number): Style {
  return (text) => `${ESC}${open}m${text}${ESC}${close}m`;
}

const identity: Style = (text) => text;

const COLORED: Palette = {
  enabled: true,
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  cyan: sgr(36, 39),
  magenta: sgr(35, 39),
};

const PLAIN: Palette = {
  enabled: false,
  bold: identity,
  dim: identity,
  red: identity,
  green: identity,
  yellow: identity,
  cyan: identity,
  magenta: identity,
};

export function palette(color: boolean): Palette {
  return color ? COLORED : PLAIN;
}

// CSI sequences (colours, cursor moves) and OSC sequences (titles, links).
const ANSI_PATTERN = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

const ANSI_AT = new RegExp(ANSI_PATTERN.source, 'y');

export function stripAnsi(text: string): string {
  return text.replace(ANSI_PATTERN, '');
}

/**
 * Text from the user's program (session ids, module names, rule messages) goes to the terminal
 * as plain text: control characters (escape sequences included) and line or paragraph separators
 * become spaces; bidirectional marks, embeddings, overrides and isolates (U+061C, U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069) and the BOM (U+FEFF) are written `\uXXXX`, so that a name cannot
 * reorder or hide the text around it.
 */
export function sanitize(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Terminal columns taken by one code point: 0 for combining marks, 2 for wide East Asian and emoji. */
export function charWidth(codePoint: number): number {
  if (
    (codePoint >= 0x0300 && codePoint <= 0x036f) ||
    (codePoint >= 0x200b && codePoint <= 0x200f) ||
    (codePoint >= 0xfe00 && codePoint <= 0xfe0f) ||
    (codePoint >= 0xe0100 && codePoint <= 0xe01ef)
  ) {
    return 0;
  }
  if (
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf && codePoint !== 0x303f) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1f64f) ||
    (codePoint >= 0x1f900 && codePoint <= 0x1f9ff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** Columns the text takes on a terminal, escape sequences excluded. */
export function visibleWidth(text: string): number {
  let width = 0;
  for (const char of stripAnsi(text)) width += charWidth(char.codePointAt(0)!);
  return width;
}

/**
 * Cuts `text` to at most `width` columns, ending with `…` when cut. Escape sequences are kept
 * (they take no room) and a reset closes any colour left open.
 */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (visibleWidth(text) <= width) return text;
  const budget = width - 1; // room for the ellipsis
  let out = '';
  let used = 0;
  let styled = false;
  let i = 0;
  while (i < text.length) {
    ANSI_AT.lastIndex = i;
    const match = ANSI_AT.exec(text);
    if (match) {
      out += match[0];
      styled = true;
      i += match[0].length;
      continue;
    }
    const codePoint = text.codePointAt(i)!;
    const char = String.fromCodePoint(codePoint);
    const w = charWidth(codePoint);
    if (used + w > budget) break;
    out += char;
    used += w;
    i += char.length;
  }
  return `${out}…${styled ? `${ESC}0m` : ''}`;
}
