import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { printable, printableLine, shownPath } from './args.js';

describe('printable text', () => {
  it('escapes controls and bidirectional marks; printable keeps tabs and line breaks, printableLine does not', () => {
    const text = 'a\tb\nc\u0007d\u202ee\u0085f\ufeff';
    expect(printable(text)).toBe('a\tb\nc\\u0007d\\u202ee\\u0085f\\ufeff');
    expect(printableLine(text)).toBe('a\\u0009b\\u000ac\\u0007d\\u202ee\\u0085f\\ufeff');
    expect(printableLine('plain é ✓')).toBe('plain é ✓');
  });

  it('shows a path relative to the current folder, on one printable line', () => {
    expect(shownPath(path.join(process.cwd(), 'perf', 'x\ny.json'))).toBe(`${path.join('perf', 'x')}\\u000ay.json`);
    expect(shownPath(process.cwd())).toBe(process.cwd());
    expect(shownPath(process.cwd(), '.')).toBe('.');
  });
});
