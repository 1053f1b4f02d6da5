import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FactIndex, FactPlan, MODULE_FIELDS, fillPending, STANDARD_PATHS, buildFacts, factCatalogue, fillMessage, placeOf, resolvePath } from './facts.js';
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

describe('fillMessage against its former one-regex form', () => {
  /** fillMessage as it was, a regex replace per call (its templates are now split once and cached). */
  function reference(template: string, facts: Record<string, unknown>): string {
    return template.replace(/\{\{([^{}]*)\}\}/g, (_whole, inner: string) => {
      let node: unknown = facts;
      for (const segment of inner.trim().split('.')) {
        if (!['__proto__', 'constructor', 'prototype', ''].every((bad) => segment !== bad) || node === null || typeof node !== 'object' || !Object.hasOwn(node, segment)) return '?';
        node = (node as Record<string, unknown>)[segment];
      }
      if (typeof node === 'number') return Number.isFinite(node) ? String(Math.round(node * 10) / 10 || 0) : '?';
      if (typeof node === 'string') return node;
      if (typeof node === 'boolean') return String(node);
      if (Array.isArray(node) && node.every((item) => typeof item === 'string')) return node.length ? node.join(', ') : 'none';
      return '?';
    });
  }

  it('gives the same text for any template and facts', () => {
    const piece = fc.oneof(
      fc.constantFrom('{{a.x}}', '{{ a.x }}', '{{a}}', '{{a.y.z}}', '{{b.tags}}', '{{}}', '{{a.__proto__}}', '{{a..x}}', '{{', '}}', '{', '}', ' ', '{{{a.x}}}', '{{a.x}}}'),
      fc.string({ maxLength: 5 }),
    );
    const value = fc.oneof(fc.double(), fc.string({ maxLength: 3 }), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 2 }), { maxLength: 2 }));
    const facts = fc.record(
      { a: fc.oneof(fc.record({ x: value, y: fc.oneof(fc.record({ z: value }), value) }, { requiredKeys: [] }), value), b: fc.record({ tags: value }) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), facts, (pieces, data) => {
        const template = pieces.join('');
        expect(fillMessage(template, data)).toBe(reference(template, data));
      }),
      { numRuns: 500 },
    );
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

  it('never lets a metric take the place of a module\'s name or tags, or go under them', () => {
    const store = makeStore({}, [{ name: 'ocr', tags: ['ocr'], fields: ['cpu_percent'] }]);
    for (const field of ['name', 'tags', 'tags.0', 'name.x']) {
      const info = { name: `module.ocr.${field.replace('.', '_')}_metric`, plugin: 'modules', unit: 'count', kind: 'gauge', description: '', module: { name: 'ocr', field } } as const;
      store.declare(info);
      expect(placeOf(store.info(info.name)!)).toEqual({ kind: 'none', reason: `module field "${field}" cannot be used as a fact path` });
    }
    commit(store, T0 + 1000, { 'module.ocr.cpu_percent': 1, 'module.ocr.name_metric': 5, 'module.ocr.tags_metric': 5, 'module.ocr.tags_0_metric': 5, 'module.ocr.name_x_metric': 5 });
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

describe('FactPlan (the facts the rules read, computed lazily)', () => {
  const gauge = { unit: 'count', kind: 'gauge', description: '', plugin: 'custom' } as const;
  /** What json-rules-engine reads at (fact, path): the fact missing, the whole fact, or a path into it. */
  const read = (facts: { global: Record<string, unknown>; modules: Map<string, Record<string, unknown>> }, fact: string, path: string | undefined, module?: string) => {
    const run = fact === 'module' ? { module: facts.modules.get(module!) } : facts.global;
    if (!Object.hasOwn(run, fact)) return undefined;
    const value = run[fact];
    if (!path) {
      fillPending(value, path);
      return value;
    }
    if (value === null || typeof value !== 'object') return value;
    // as the compiled rules read a planned fact: what is found is final, else the plan fills it
    const found = resolvePath(value, path);
    if (found !== undefined) return found;
    fillPending(value, path);
    return resolvePath(value, path);
  };

  it('gives the values buildFacts gives at every path read, for any catalogue (prefixes, subtrees, whole facts)', () => {
    const names = ['custom.a', 'custom.a.b', 'custom.a.b.c', 'custom.a.d', 'custom.e', 'other.x', 'other.y.z'];
    const moduleFields = ['cpu_percent', 'memory_mb', 'io.read', 'io', 'io.read.bytes', 'tags.0', 'name.x'];
    const paths = ['$.a', '$.a.b', '$.a.b.c', '$.a.d', '$.e', '$.x', '$.y', '$.y.z', '$', '', undefined, '$.nope', '$.a.b.c.d', '$.__proto__'];
    const modulePaths = ['$.name', '$.tags', '$.cpu_percent', '$.memory_mb', '$.io', '$.io.read', '$.io.read.bytes', '$', undefined, '$.tags.0', '$.nope'];
    fc.assert(
      fc.property(
        fc.shuffledSubarray(names, { minLength: 1 }),
        fc.array(fc.record({ module: fc.constantFrom('m1', 'm2'), field: fc.constantFrom(...moduleFields), tags: fc.subarray(['ocr', 'verbose']) }), { maxLength: 6 }),
        fc.array(fc.record({ fact: fc.constantFrom('custom', 'other', 'session', 'absent', 'module'), path: fc.constantFrom(...paths, ...modulePaths) }), { maxLength: 12 }),
        fc.array(fc.option(fc.double({ min: 0, max: 100, noNaN: true }), { nil: null }), { minLength: 20, maxLength: 20 }),
        (declared, modules, reads, values) => {
          const store = makeStore({});
          for (const name of declared) store.declare({ name, ...gauge });
          for (const { module, field, tags } of modules) {
            store.declare({ name: `module.${module}.${field.replaceAll('.', '_')}_m`, ...gauge, module: { name: module, field, tags } });
          }
          const row: Record<string, number | null> = {};
          store.catalogue().forEach((info, i) => (row[info.name] = values[i % values.length]!));
          commit(store, T0 + 1000, row);
          const full = buildFacts(store, 60, T0 + 1000);
          const plan = new FactPlan(store, reads);
          const lazy = plan.build(60, T0 + 1000);
          expect(Object.keys(lazy.global)).toEqual(Object.keys(full.global));
          expect([...lazy.modules.keys()]).toEqual([...full.modules.keys()]);
          for (const { fact, path } of reads) {
            if (fact === 'module') {
              for (const name of full.modules.keys()) expect(read(lazy, fact, path, name), `${name} ${path}`).toStrictEqual(read(full, fact, path, name));
            } else expect(read(lazy, fact, path), `${fact} ${path}`).toStrictEqual(read(full, fact, path));
          }
          expect(lazy.global.session).toStrictEqual(full.global.session);
          expect(plan.windows).toBeLessThanOrEqual(store.metricCount);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('fills a subtree whole when a path under it is read first', () => {
    const store = makeStore({});
    for (const name of ['custom.a.b', 'custom.a.d', 'custom.e']) store.declare({ name, ...gauge });
    commit(store, T0 + 1000, { 'custom.a.b': 1, 'custom.a.d': 2, 'custom.e': 3 });
    const plan = new FactPlan(store, [
      { fact: 'custom', path: '$.a.b' },
      { fact: 'custom', path: '$.a' },
    ]);
    const facts = plan.build(60, T0 + 1000);
    expect(read(facts, 'custom', '$.a.b')).toBe(1);
    expect(read(facts, 'custom', '$.a')).toStrictEqual({ b: 1, d: 2 });
    expect(read(facts, 'custom', '$.e')).toBeUndefined(); // not planned
  });

  it('computes only the windows read, each once', () => {
    const store = makeStore(SYSTEM_METRICS, ['a', 'b']);
    commit(store, T0 + 1000, { 'process.cpu.percent': 10, 'module.a.cpu_percent': 5 });
    const plan = new FactPlan(store, [
      { fact: 'process', path: '$.cpu.percent' },
      { fact: 'process', path: '$.cpu.percent' },
      { fact: 'process', path: '$.heap' }, // a subtree: used_mb and growth_mb_per_minute
      { fact: 'module', path: '$.cpu_percent' },
      { fact: 'module', path: '$.tags' },
    ]);
    const facts = plan.build(60, T0 + 1000);
    expect(plan.windows).toBe(0); // nothing read yet
    const a = facts.modules.get('a')!;
    fillPending(a, '$.cpu_percent');
    fillPending(a, '$.cpu_percent');
    expect(plan.windows).toBe(1);
    expect(a).toEqual({ name: 'a', tags: [], cpu_percent: 5 });
    fillPending(facts.global.process, undefined); // the whole fact: every read planned in it
    expect(plan.windows).toBe(1 + 1 + 2);
    expect(facts.global.process).toEqual({ cpu: { percent: 10 }, heap: { used_mb: null, growth_mb_per_minute: null } });
    expect(facts.global.system).toEqual({});
    // fillMessage fills what its placeholders read
    expect(fillMessage('{{module.name}} {{module.cpu_percent}}', { module: facts.modules.get('b')! })).toBe('b ?');
    expect(plan.windows).toBe(5);
  });

  it('knows when the catalogue changed: a metric declared, or re-declared with other tags', () => {
    const store = makeStore({}, [{ name: 'a', fields: ['cpu_percent'] }]);
    const plan = new FactPlan(store, [{ fact: 'module', path: '$.tags' }]);
    expect(plan.fits(store)).toBe(true);
    commit(store, T0 + 1000, { 'module.a.cpu_percent': 5 }); // rows change nothing
    expect(plan.fits(store)).toBe(true);
    declareModule(store, { name: 'a', tags: ['verbose'], fields: ['cpu_percent'] });
    expect(plan.fits(store)).toBe(false);
    const replanned = new FactPlan(store, [{ fact: 'module', path: '$.tags' }]);
    expect(replanned.build(60, T0).modules.get('a')?.tags).toEqual(['verbose']);
    expect(replanned.fits(store)).toBe(true);
    store.declare({ name: 'custom.b', ...gauge });
    expect(replanned.fits(store)).toBe(false);
    // another Store with the same catalogue is not the one planned for
    expect(new FactPlan(store, []).fits(makeStore({}, [{ name: 'a', fields: ['cpu_percent'] }]))).toBe(false);
  });
});
