import { describe, expect, it } from 'vitest';
import { parseArgs } from './args.mjs';

const known = ['hot-path', 'memory'];

describe('parseArgs', () => {
  it('runs every topic by default, in full', () => {
    expect(parseArgs([], known)).toEqual({ topics: ['hot-path', 'memory'], quick: false, strict: false, list: false, help: false });
  });

  it('selects topics and flags in any order, once each', () => {
    expect(parseArgs(['memory', '--quick', 'memory', '--strict'], known)).toMatchObject({ topics: ['memory'], quick: true, strict: true });
  });

  it('names the known topics when given an unknown one', () => {
    expect(() => parseArgs(['hotpath'], known)).toThrow('unknown topic "hotpath". Known topics: hot-path, memory');
  });

  it('rejects an unknown option with the usage', () => {
    expect(() => parseArgs(['--fast'], known)).toThrow(/unknown option "--fast"[\s\S]*usage: node bench\/run\.mjs/);
  });
});
