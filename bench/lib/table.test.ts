import { describe, expect, it } from 'vitest';
import { fixtureTopic } from './fixtures/topic.js';
import { columns, formatTopicTable } from './table.mjs';

describe('columns', () => {
  it('pads every column to its widest cell, left or right aligned, without trailing spaces', () => {
    expect(columns([['a', '1', 'x'], ['bbb', '22', '']], ['l', 'r', 'l'])).toEqual(['a     1  x', 'bbb  22']);
  });

  it('counts characters, not UTF-16 units, so ± and µ line up', () => {
    expect(columns([['µs', '±1%'], ['ms', '2%']], ['l', 'r'])).toEqual(['µs  ±1%', 'ms   2%']);
  });
});

describe('formatTopicTable', () => {
  it('prints one block per comparison with ratios, bounds, verdicts, notes, errors and a tally', () => {
    expect(formatTopicTable(fixtureTopic()).split('\n')).toEqual([
      '== demo: a fixture topic (quick run, 1.2 s) ==',
      'ns/op: median of fixtures',
      '',
      'trackOcrCall() vs Counter.inc()   [ratios against prom-client Counter.inc()]',
      '  profiler running',
      '  case                                           ns/op      ±  ratio  bound   verdict',
      '  -----------------------------------------------------------------------------------',
      '  loadlight trackOcrCall()                        5.91  ±1.2%  1.31x  ≤ 2x    MET',
      '  prom-client Counter.inc() (baseline)            4.50  ±1.2%  1.00x',
      '  bare count++                                    1.60  ±1.2%  0.36x',
      '  OpenTelemetry Counter.add(1)                    46.0  ±1.2%  10.2x',
      '',
      'profileModule vs hrtime   [ratios against 2x process.hrtime.bigint()]',
      '  case                                           ns/op      ±  ratio  bound   verdict',
      '  -----------------------------------------------------------------------------------',
      '  loadlight profileModule(name, fn) <sync> & co    160  ±1.2%  1.70x  ≤ 1.5x  MISSED',
      '  2x process.hrtime.bigint() (baseline)           94.0  ±1.2%  1.00x',
      '  loadlight moduleSpan()                           n/a             -  ≤ 1.5x  UNMEASURED',
      '      n/a: not built',
      '',
      'notes:',
      '  a note',
      '',
      'ERROR in broken: timed out after 120 s',
      '',
      'bounds: 1 met, 1 missed, 1 not measured (of 3)',
    ]);
  });
});
