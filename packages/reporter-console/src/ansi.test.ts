import { describe, expect, it } from 'vitest';
import { palette, sanitize, stripAnsi, truncate, visibleWidth } from './ansi.js';
import { isLiveTerminal, resolveColor } from './color.js';
import { formatDuration, formatValue } from './format.js';

describe('ANSI helpers', () => {
  it('measures visible width without escapes, wide characters as two', () => {
    expect(visibleWidth(palette(true).red('abc'))).toBe(3);
    expect(visibleWidth('日本')).toBe(4);
    expect(visibleWidth('e\u0301')).toBe(1);
    expect(stripAnsi('\u001b[1ma\u001b[22m\u001b]0;title\u0007b')).toBe('ab');
  });

  it('truncates to the width with an ellipsis and closes colours', () => {
    expect(truncate('abcdef', 6)).toBe('abcdef');
    expect(truncate('abcdefg', 6)).toBe('abcde…');
    expect(truncate('日本語です', 5)).toBe('日本…');
    const cut = truncate(`${palette(true).green('green text')} tail`, 4);
    expect(stripAnsi(cut)).toBe('gre…');
    expect(cut.endsWith('\u001b[0m')).toBe(true);
    expect(truncate('abc', 0)).toBe('');
  });

  it('turns control characters into spaces', () => {
    expect(sanitize('a\u001b[2Jb\nc\u0007')).toBe('a [2Jb c ');
  });

  it('writes bidirectional controls and the BOM as \\uXXXX, and line separators as spaces', () => {
    expect(sanitize('ocr\u202e.gnp\u2066x\u2069\u2028y\ufeff\u200f')).toBe('ocr\\u202e.gnp\\u2066x\\u2069 y\\ufeff\\u200f');
  });
});

describe('resolveColor', () => {
  // [option, isTTY, env, expected]
  const table: Array<[boolean | undefined, boolean, Record<string, string>, boolean]> = [
    [undefined, true, {}, true],
    [undefined, false, {}, false],
    [undefined, true, { NO_COLOR: '1' }, false],
    [undefined, true, { NO_COLOR: 'anything' }, false],
    [undefined, true, { NO_COLOR: '' }, true], // empty means unset
    [undefined, false, { FORCE_COLOR: '1' }, true],
    [undefined, false, { FORCE_COLOR: '3' }, true],
    [undefined, false, { FORCE_COLOR: '' }, true],
    [undefined, false, { FORCE_COLOR: 'true' }, true],
    [undefined, true, { FORCE_COLOR: '0' }, false],
    [undefined, true, { FORCE_COLOR: 'false' }, false],
    [undefined, false, { FORCE_COLOR: '1', NO_COLOR: '1' }, true], // FORCE_COLOR wins, as in Node
    [undefined, true, { FORCE_COLOR: '0', NO_COLOR: '' }, false],
    [undefined, true, { TERM: 'dumb' }, false],
    [undefined, false, { TERM: 'dumb', FORCE_COLOR: '1' }, true],
    [true, false, { NO_COLOR: '1' }, true], // the option wins over the environment
    [false, true, { FORCE_COLOR: '1' }, false],
  ];
  it.each(table)('option %j, tty %j, env %j -> %j', (option, isTTY, env, expected) => {
    expect(resolveColor(option, isTTY, env)).toBe(expected);
  });

  it('redraws only on a TTY that is not dumb', () => {
    expect(isLiveTerminal(true, {})).toBe(true);
    expect(isLiveTerminal(false, {})).toBe(false);
    expect(isLiveTerminal(true, { TERM: 'dumb' })).toBe(false);
  });
});

describe('formatValue', () => {
  it.each([
    [34.4, 'percent', '34%'],
    [3.44, 'percent', '3.4%'],
    [0.123, 'ratio', '0.12'],
    [80.4, 'mb', '80MB'],
    [2048, 'mb', '2.0GB'],
    [1.5, 'mb_per_minute', '+1.5MB/min'],
    [12_345, 'ms', '12s'],
    [0.42, 'ms', '0.42ms'],
    [1536, 'bytes_per_second', '1.5KB/s'],
    [90, 'seconds', '1m30s'],
    [7, 'count', '7'],
    [null, 'percent', '-'],
  ] as const)('%j %s -> %s', (value, unit, expected) => {
    expect(formatValue(value, unit)).toBe(expected);
  });

  it('formats durations', () => {
    expect(formatDuration(12_400)).toBe('12s');
    expect(formatDuration(83_000)).toBe('1m23s');
    expect(formatDuration(2 * 3600_000 + 5 * 60_000)).toBe('2h05m');
  });
});
