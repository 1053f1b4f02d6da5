import { describe, expect, it } from 'vitest';
import { buildFacts, factCatalogue, fillMessage, resolvePath } from './facts.js';
import { T0, commit, makeStore } from './test-support.js';

describe('fillMessage', () => {
  const facts = {
    process: { cpu: { percent: 87.26 }, heap: { used_mb: null } },
    module: { name: 'ocr', memory_mb: 12 },
    session: { samples: 3 },
  };

  it.each([
    ['CPU {{process.cpu.percent}}%', 'CPU 87.3%'],
    ['{{ module.name }} holds {{module.memory_mb}} MB', 'ocr holds 12 MB'],
    ['heap {{process.heap.used_mb}} MB', 'heap ? MB'], // null: not measured
    ['{{process.missing}} {{nofact.x}} {{process}}', '? ? ?'], // missing, unknown, an object
    ['{{}} {{session.samples}}', '? 3'],
    ['no placeholders', 'no placeholders'],
  ])('%s', (template, expected) => expect(fillMessage(template, facts)).toBe(expected));

  it('cannot reach prototypes or run code', () => {
    const templates = [
      '{{__proto__}}',
      '{{__proto__.polluted}}',
      '{{constructor}}',
      '{{constructor.name}}',
      '{{process.constructor.name}}',
      '{{process.cpu.percent.constructor}}',
      '{{process.toString}}',
      '{{module.name.length}}',
      '{{prototype}}',
      "{{constructor.constructor('return process')()}}",
      '{{process.cpu.percent; globalThis.hacked = 1}}',
    ];
    for (const template of templates) expect(fillMessage(template, facts), template).toBe('?');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((globalThis as Record<string, unknown>).hacked).toBeUndefined();
  });

  it('rounds to one decimal and never prints -0 or NaN', () => {
    expect(fillMessage('{{a}} {{b}} {{c}} {{d}}', { a: 0.04, b: -0.04, c: Number.NaN, d: 1234.55 })).toBe('0 0 ? 1234.6');
  });
});

describe('resolvePath (the engine path resolver)', () => {
  it('walks own properties only', () => {
    const value = { cpu: { percent: 5 } };
    expect(resolvePath(value, '$.cpu.percent')).toBe(5);
    expect(resolvePath(value, '$')).toBe(value);
    expect(resolvePath(value, '$.cpu.constructor')).toBeUndefined();
    expect(resolvePath(value, '$.__proto__')).toBeUndefined();
    expect(resolvePath(value, '$..percent')).toBeUndefined();
    expect(resolvePath(value, '$[?(@.percent)]')).toBeUndefined();
  });
});

describe('buildFacts', () => {
  it('aggregates each metric over the window as declared', () => {
    const store = makeStore(
      {
        'process.cpu.percent': { unit: 'percent', kind: 'gauge', description: '' },
        'process.heap.used_mb': { unit: 'mb', kind: 'gauge', description: '' },
        'process.heap.growth_mb_per_minute': {
          unit: 'mb_per_minute',
          kind: 'gauge',
          description: '',
          derivedFrom: 'process.heap.used_mb',
          aggregate: 'slope_per_minute',
        },
        'process.event_loop.delay_max_ms': { unit: 'ms', kind: 'gauge', description: '', aggregate: 'max' },
        'queue.jobs': { unit: 'count', kind: 'counter', description: '' },
        'queue.unmeasured': { unit: 'count', kind: 'gauge', description: '' },
      },
      ['ocr'],
    );
    // Outside the 60 s window: must not count.
    commit(store, T0 + 10_000, { 'process.cpu.percent': 1000, 'queue.jobs': 1000 });
    commit(store, T0 + 90_000, {
      'process.cpu.percent': 10,
      'process.heap.used_mb': 100,
      'process.event_loop.delay_max_ms': 40,
      'queue.jobs': 5,
      'module.ocr.cpu_percent': 30,
    });
    commit(store, T0 + 120_000, {
      'process.cpu.percent': 20,
      'process.heap.used_mb': 110,
      'process.event_loop.delay_max_ms': 7,
      'queue.jobs': 7,
      'module.ocr.cpu_percent': 40,
    });
    const facts = buildFacts(store, 60, T0 + 120_000);
    expect(facts.global.process).toEqual({
      cpu: { percent: 15 },
      heap: { used_mb: 105, growth_mb_per_minute: 20 },
      event_loop: { delay_max_ms: 40 },
    });
    // counter: (5 + 7) over the 60 s window (the previous sample is older) = 12 per minute
    expect(facts.global.queue).toEqual({ jobs: 12, unmeasured: null });
    expect(facts.global.session).toEqual({ uptime_seconds: 120, samples: 3 });
    expect(facts.modules.get('ocr')).toEqual({ name: 'ocr', cpu_percent: 35, memory_mb: null });
  });

  it('gives null for a metric the platform cannot measure', () => {
    const store = makeStore({});
    store.declare({ name: 'system.cpu.percent', plugin: 'system', unit: 'percent', kind: 'gauge', description: '', unavailable: 'not on this OS' });
    commit(store, T0 + 1000, { 'system.cpu.percent': 50 });
    expect(buildFacts(store, 60, T0 + 1000).global.system).toEqual({ cpu: { percent: null } });
  });
});

describe('factCatalogue', () => {
  it('lists metric paths, module fields, session facts, and the standard facts not loaded', () => {
    const store = makeStore(undefined, ['ocr']);
    store.declare({ name: 'process.gc.rare', plugin: 'system', unit: 'count', kind: 'counter', description: 'x', unavailable: 'no GC observer' });
    const entries = factCatalogue(store);
    const find = (fact: string, path: string) => entries.find((e) => e.fact === fact && e.path === path);
    expect(find('process', '$.cpu.percent')).toEqual({
      fact: 'process',
      path: '$.cpu.percent',
      metric: 'process.cpu.percent',
      unit: 'percent',
      aggregate: 'mean',
      description: 'test metric',
      available: true,
    });
    expect(find('process', '$.heap.growth_mb_per_minute')?.aggregate).toBe('slope_per_minute');
    expect(find('process', '$.gc.rare')).toMatchObject({ aggregate: 'rate_per_minute', available: false, reason: 'no GC observer' });
    expect(find('module', '$.cpu_percent')).toMatchObject({ metric: 'module.<name>.cpu_percent', unit: 'percent', available: true });
    expect(find('module', '$.latency_p95_ms')).toMatchObject({ available: false, reason: 'no module declares the field "latency_p95_ms"' });
    expect(find('module', '$.name')).toMatchObject({ available: true });
    expect(find('session', '$.uptime_seconds')).toMatchObject({ unit: 'seconds', available: true });
    expect(find('ocr', '$.*')).toMatchObject({ available: false });
    expect(find('ocr', '$.*')?.reason).toMatch(/no ocr\.\* metrics declared: load @loadlight\/plugin-ocr/);
    expect(find('system', '$.*')).toBeUndefined();
  });

  it('says why the module fact is unavailable when no module is profiled', () => {
    const module = factCatalogue(makeStore()).filter((e) => e.fact === 'module');
    expect(module.length).toBe(8);
    for (const entry of module) expect(entry.available).toBe(false);
  });
});
