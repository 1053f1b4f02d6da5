import { describe, expect, it } from 'vitest';
import { FactIndex, MODULE_FIELDS, STANDARD_PATHS, buildFacts, factCatalogue, fillMessage, placeOf, resolvePath } from './facts.js';
import { FRAMES_METRICS, IO_METRICS, OCR_METRICS, SYSTEM_METRICS, T0, commit, declareModule, makeStore } from './test-support.js';

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

  it('joins a list of names (a module\'s tags), and says "none" for an empty one', () => {
    expect(fillMessage('{{module.name}} [{{module.tags}}]', { module: { name: 'ocr', tags: ['ocr', 'verbose'] } })).toBe('ocr [ocr, verbose]');
    expect(fillMessage('[{{module.tags}}]', { module: { tags: [] } })).toBe('[none]');
    expect(fillMessage('[{{module.tags}}]', { module: { tags: ['a', 1] } })).toBe('[?]');
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
    expect(facts.modules.get('ocr')).toEqual({ name: 'ocr', tags: [], cpu_percent: 35, memory_mb: null });
  });

  it('gives each module fact the union of the tags declared on its metrics, [] when none', () => {
    const store = makeStore({}, [{ name: 'plain', fields: ['cpu_percent'] }]);
    declareModule(store, { name: 'ocr', tags: ['ocr', 'heavy'], fields: ['cpu_percent'] });
    declareModule(store, { name: 'ocr', tags: ['verbose', 'ocr'], fields: ['memory_mb'] });
    declareModule(store, { name: 'ocr', fields: ['calls_per_minute'] });
    // from a plugin, not typed: only non-empty strings count
    store.declare({
      name: 'module.ocr.errors',
      plugin: 'modules',
      unit: 'count',
      kind: 'gauge',
      description: '',
      module: { name: 'ocr', field: 'errors', tags: [7, '', 'x'] as unknown as string[] },
    });
    commit(store, T0 + 1000, { 'module.ocr.cpu_percent': 30, 'module.plain.cpu_percent': 5 });
    const facts = buildFacts(store, 60, T0 + 1000);
    expect(facts.modules.get('ocr')).toEqual({
      name: 'ocr',
      tags: ['ocr', 'heavy', 'verbose', 'x'],
      cpu_percent: 30,
      memory_mb: null,
      calls_per_minute: null,
      errors: null,
    });
    expect(facts.modules.get('plain')).toEqual({ name: 'plain', tags: [], cpu_percent: 5 });
    // a re-declaration (the same plugin) with other tags replaces the old ones of that metric
    declareModule(store, { name: 'plain', tags: ['optional'], fields: ['cpu_percent'] });
    expect(buildFacts(store, 60, T0 + 1000).modules.get('plain')?.tags).toEqual(['optional']);
  });

  it('never lets a metric take the place of a module\'s name or tags', () => {
    const store = makeStore({}, [{ name: 'ocr', tags: ['ocr'], fields: ['cpu_percent'] }]);
    for (const field of ['name', 'tags']) {
      const info = { name: `module.ocr.${field}_metric`, plugin: 'modules', unit: 'count', kind: 'gauge', description: '', module: { name: 'ocr', field } } as const;
      store.declare(info);
      expect(placeOf(store.info(info.name)!)).toEqual({ kind: 'none', reason: `module field "${field}" cannot be used as a fact path` });
    }
    commit(store, T0 + 1000, { 'module.ocr.cpu_percent': 1, 'module.ocr.name_metric': 5, 'module.ocr.tags_metric': 5 });
    expect(buildFacts(store, 60, T0 + 1000).modules.get('ocr')).toEqual({ name: 'ocr', tags: ['ocr'], cpu_percent: 1 });
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
    expect(module.map((e) => e.path)).toEqual(MODULE_FIELDS.map((field) => `$.${field}`));
    for (const entry of module) expect(entry.available).toBe(false);
  });

  it('lists $.tags as a module path, available once a module is profiled', () => {
    const without = factCatalogue(makeStore()).find((e) => e.fact === 'module' && e.path === '$.tags');
    expect(without).toMatchObject({ metric: null, unit: null, aggregate: null, available: false });
    const withModule = factCatalogue(makeStore(undefined, ['ocr'])).find((e) => e.fact === 'module' && e.path === '$.tags');
    expect(withModule).toMatchObject({ metric: null, unit: null, available: true });
    expect(withModule?.description).toMatch(/tags declared on the module's metrics/);
  });
});

describe('FactIndex', () => {
  it('knows $.tags and every plugin-modules field as module paths; $.tags is declared once a module is', () => {
    const empty = new FactIndex(makeStore().catalogue());
    expect(empty.knownPaths('module')).toEqual(expect.arrayContaining(['$.tags', '$.calls', '$.errors', '$.total_ms', '$.latency_min_ms', '$.latency_max_ms', '$.latency_p50_ms', '$.latency_p99_ms']));
    expect(empty.isDeclared('module', '$.tags')).toBe(false);
    const index = new FactIndex(makeStore(undefined, ['ocr']).catalogue());
    expect(index.isDeclared('module', '$.tags')).toBe(true);
    expect(index.isDeclared('module', '$.name')).toBe(true);
    expect(index.isDeclared('module', '$.latency_p99_ms')).toBe(false);
  });

  it('knows the paths of plugin-ocr, plugin-frames and plugin-io before they are loaded: exactly their metric names', () => {
    const pathsOf = (metrics: Record<string, unknown>) => Object.keys(metrics).map((name) => `$.${name.split('.').slice(1).join('.')}`);
    expect(STANDARD_PATHS.ocr).toEqual(pathsOf(OCR_METRICS));
    expect(STANDARD_PATHS.frames).toEqual(pathsOf(FRAMES_METRICS));
    expect(STANDARD_PATHS.io).toEqual(pathsOf(IO_METRICS));
    const index = new FactIndex(makeStore(SYSTEM_METRICS).catalogue());
    for (const fact of ['ocr', 'frames', 'io']) {
      expect(index.isLoaded(fact)).toBe(false);
      expect(index.knownPaths(fact)).toEqual(STANDARD_PATHS[fact]);
    }
  });
});
