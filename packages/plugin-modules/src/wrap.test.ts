import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { types } from 'node:util';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Profiler } from '@loadlight/core';
import { runtime } from './runtime.js';
import modules, { moduleSpan, profile, profileModule } from './index.js';
import type { defineClasses } from './fixtures/decorated.js';
import { makeProfiler, moreSamples, runScript, seriesByName, stopAll, sumOf } from './test-utils.js';

afterEach(stopAll);

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** The same checks with and without a profiler running: the wrapper must be invisible in both. */
for (const withProfiler of [false, true]) {
  describe(`wrappers are transparent (${withProfiler ? 'profiler running' : 'no profiler'})`, () => {
    const tag = withProfiler ? 'on' : 'off';
    // Not made with makeProfiler: the file's afterEach would stop it after the first test.
    const warnings: string[] = [];
    const profiler = new Profiler(
      { plugins: [modules()], reporters: [], rules: [], sampleIntervalMs: 100 },
      { handleExit: false, warn: (message) => warnings.push(message) },
    );
    beforeAll(async () => {
      if (withProfiler) await profiler.start();
    });
    afterAll(async () => {
      if (withProfiler) await profiler.stop();
    });
    afterEach(() => {
      expect(runtime.hot.running > 0).toBe(withProfiler);
    });

    it('keeps this, arguments, the result, the name and the length of a sync function', () => {
      const target = {
        factor: 3,
        scale(this: { factor: number }, a: number, b: number, ...rest: number[]) {
          return [this.factor * a, b, rest.length, arguments.length];
        },
      };
      const wrapped = profileModule(`wrap.${tag}.sync`, target.scale);
      expect(wrapped.name).toBe('scale');
      expect(wrapped.length).toBe(2);
      expect(wrapped.call(target, 2, 5, 7, 8)).toEqual([6, 5, 2, 4]);
      const result = { big: 1 };
      expect(profileModule(`wrap.${tag}.identity`, () => result)()).toBe(result);
    });

    it('stays sync: a sync function never returns a promise', () => {
      const wrapped = profileModule(`wrap.${tag}.stays-sync`, (x: number) => x + 1);
      const result = wrapped(1);
      expect(result).toBe(2);
      expect(types.isPromise(result)).toBe(false);
      expect(types.isAsyncFunction(wrapped)).toBe(false);
    });

    it('rethrows the very error, synchronously', () => {
      const error = new TypeError('nope');
      const wrapped = profileModule(`wrap.${tag}.throws`, () => {
        throw error;
      });
      let caught: unknown;
      try {
        wrapped();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBe(error);
      const thrownValue = profileModule(`wrap.${tag}.throws-value`, () => {
        throw 42; // eslint-disable-line no-throw-literal
      });
      expect(() => thrownValue()).toThrow(expect.anything());
      try {
        thrownValue();
      } catch (e) {
        expect(e).toBe(42);
      }
    });

    it('keeps the value and the rejection of an async function', async () => {
      const self = { n: 2 };
      const ok = profileModule(`wrap.${tag}.async`, async function (this: { n: number }, a: number) {
        await null;
        return a * this.n;
      });
      await expect(ok.call(self, 21)).resolves.toBe(42);
      const error = new Error('async failure');
      const bad = profileModule(`wrap.${tag}.rejects`, async () => {
        await null;
        throw error;
      });
      const promise = bad();
      expect(promise).toBeInstanceOf(Promise);
      await expect(promise).rejects.toBe(error);
    });

    it('hands back a returned promise untouched (sync function returning a promise)', async () => {
      const shared = Promise.resolve('cached');
      const wrapped = profileModule(`wrap.${tag}.cached-promise`, () => shared);
      expect(wrapped()).toBe(shared);
      await expect(wrapped()).resolves.toBe('cached');
    });

    it('never calls then() on a thenable that is not a promise', async () => {
      let thenCalls = 0;
      const lazy = {
        then(resolve: (v: string) => void) {
          thenCalls++;
          resolve('ran');
        },
      };
      const wrapped = profileModule(`wrap.${tag}.thenable`, () => lazy);
      expect(wrapped()).toBe(lazy);
      expect(thenCalls).toBe(0);
      if (withProfiler) {
        await moreSamples(profiler, 1);
        expect(warnings.join('\n')).toContain(`module "wrap.on.thenable" returned a thenable that is not a promise`);
      }
    });

    it('constructs with new, like the function it wraps', () => {
      function Point(this: { x: number }, x: number) {
        this.x = x;
      }
      const Wrapped = profileModule(`wrap.${tag}.ctor`, Point as unknown as (x: number) => void);
      const p = new (Wrapped as unknown as new (x: number) => { x: number })(4);
      expect(p.x).toBe(4);
      expect(p).toBeInstanceOf(Point);
    });

    it('forwards new.target: a class extending a wrapped class builds instances of itself', () => {
      class Base {
        made: string;
        constructor(public x: number) {
          this.made = new.target.name;
        }
      }
      const WrappedBase = profileModule(`wrap.${tag}.class`, Base as unknown as (x: number) => void) as unknown as typeof Base;
      class Derived extends WrappedBase {
        twice() {
          return this.x * 2;
        }
      }
      const d = new Derived(3);
      expect(d).toBeInstanceOf(Derived);
      expect(d.made).toBe('Derived');
      expect(d.twice()).toBe(6);
      expect(() => (WrappedBase as unknown as (x: number) => void)(1)).toThrow(TypeError); // a class needs new, as before
    });

    it('ends a span once, however often end() is called', () => {
      const end = moduleSpan(`wrap.${tag}.span`);
      expect(() => {
        end();
        end();
        end(new Error('late'));
      }).not.toThrow();
    });

    it('decorates class methods (TypeScript 5 standard decorators)', async () => {
      const { Reader } = loadDecoratedClasses(tag);
      const reader = new Reader(3);
      expect(reader.read(2)).toBe(6);
      expect(Reader.prototype.read.name).toBe('read');
      await expect(reader.readLater(5)).resolves.toBe(15);
      expect(Reader.make(4).read(1)).toBe(4);
      expect(() => reader.fail()).toThrow('bad read');
      expect(reader.reveal()).toBe(42);
    });
  });
}

/**
 * Compiles src/fixtures/decorated.ts with TypeScript itself (standard decorators, not
 * experimentalDecorators: vitest's transform does not lower them) and runs it.
 */
function loadDecoratedClasses(tag: string): ReturnType<typeof defineClasses> {
  const source = readFileSync(path.join(packageDir, 'src', 'fixtures', 'decorated.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, experimentalDecorators: false },
  });
  const module = { exports: {} as { defineClasses: typeof defineClasses } };
  new Function('exports', 'module', outputText)(module.exports, module);
  return module.exports.defineClasses(profile, tag);
}

describe('what the wrappers count', () => {
  it('counts calls, errors and latency of sync, async and span work', async () => {
    const { profiler } = makeProfiler([modules()]);
    await profiler.start();
    const sync = profileModule('count.sync', (fail: boolean) => {
      if (fail) throw new Error('x');
      return 1;
    });
    const asyncFn = profileModule('count.async', async (fail: boolean) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (fail) throw new Error('y');
    });
    for (let i = 0; i < 5; i++) sync(false);
    expect(() => sync(true)).toThrow('x');
    await asyncFn(false);
    await expect(asyncFn(true)).rejects.toThrow('y');
    const end = moduleSpan('count.span');
    end();
    end(); // harmless
    const failed = moduleSpan('count.span');
    failed(new Error('z'));
    const { Reader } = loadDecoratedClasses('count');
    new Reader(1).read(1);
    expect(() => new Reader(1).fail()).toThrow();
    await moreSamples(profiler, 2);
    const session = await profiler.stop();
    const values = seriesByName(session);
    expect(sumOf(values['module.count.sync.calls'])).toBe(6);
    expect(sumOf(values['module.count.sync.errors'])).toBe(1);
    expect(sumOf(values['module.count.async.calls'])).toBe(2);
    expect(sumOf(values['module.count.async.errors'])).toBe(1);
    expect(sumOf(values['module.count.span.calls'])).toBe(2);
    expect(sumOf(values['module.count.span.errors'])).toBe(1);
    expect(sumOf(values['module.decorated.count.calls'])).toBe(2);
    expect(sumOf(values['module.decorated.count.errors'])).toBe(1);
    const asyncModule = session.modules.find((m) => m.name === 'count.async')!;
    expect(asyncModule.minMs).toBeGreaterThanOrEqual(18.5);
    expect(session.catalogue['module.decorated.count.calls']!.module).toBe('decorated.count');
  });

  it('keeps the same wrapper transparent before, while and after a profiler runs, counting only while it runs', async () => {
    const target = {
      factor: 2,
      scale(this: { factor: number }, a: number, b?: number) {
        if (a < 0) throw new RangeError('negative');
        return [this.factor * a, b, arguments.length];
      },
    };
    const wrapped = profileModule('count.phases', target.scale);
    const check = () => {
      // Many calls: V8 optimises the wrapper on the way, in the state it sees.
      for (let i = 0; i < 20_000; i++) expect(wrapped.call(target, i, 1)[0]).toBe(2 * i);
      expect(wrapped.call(target, 3)).toEqual([6, undefined, 1]);
      expect(wrapped.call({ factor: 5 }, 1, 2)).toEqual([5, 2, 2]);
      expect(() => wrapped.call(target, -1)).toThrow(RangeError);
    };
    check();
    const { profiler } = makeProfiler([modules()]);
    await profiler.start();
    check();
    await moreSamples(profiler, 1);
    const session = await profiler.stop();
    check();
    expect(sumOf(seriesByName(session)['module.count.phases.calls']!)).toBe(20_003); // 20,000 + 2 + the one that threw
    expect(sumOf(seriesByName(session)['module.count.phases.errors']!)).toBe(1);
  });

  it('keeps an unhandled rejection unhandled (Node still reports it)', () => {
    const script = `
      import { Profiler } from '@loadlight/core';
      import modules, { profileModule } from '@loadlight/plugin-modules';
      const profiler = new Profiler({ plugins: [modules()], reporters: [], rules: [] }, { handleExit: false });
      await profiler.start();
      const fails = profileModule('unhandled.demo', async () => { throw new Error('nobody handles me'); });
      fails();
      setTimeout(() => {}, 2000);
    `;
    const result = runScript(script);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('nobody handles me');
    // and a handled one stays handled
    const handled = runScript(script.replace('fails();', 'fails().catch(() => {}); await profiler.stop();').replace('setTimeout(() => {}, 2000);', ''));
    expect(handled.stderr).toBe('');
    expect(handled.status).toBe(0);
  });
});

describe('argument checks', () => {
  it('names the call and the problem', () => {
    expect(() => profileModule('Core.OCR', () => 1)).toThrowError(
      'profileModule(): the module name must be lower-case dotted words like "core.ocr" (each word of letters, digits, "_" or "-", the first starting with a letter; at most 100 characters), got "Core.OCR". Did you mean "core.ocr"?',
    );
    expect(() => profileModule('core ocr', () => 1)).toThrowError(/got "core ocr"\. Did you mean "core\.ocr"\?/);
    expect(() => profileModule('ok.name', 42 as never)).toThrowError(
      'profileModule("ok.name", …): the second argument must be the function to profile, got number',
    );
    expect(() => profileModule('ok.name', () => 1, { tags: ['Verbose'] })).toThrowError(
      'profileModule("ok.name", …): each tag must be a lower-case word like "verbose" or "heatmap", got "Verbose"',
    );
    expect(() => profileModule('ok.name', () => 1, { tag: ['x'] } as never)).toThrowError(
      'profileModule("ok.name", …): unknown option "tag". Expected one of: tags.',
    );
    expect(() => moduleSpan('')).toThrowError(/moduleSpan\(\): the module name must be/);
    expect(() => profile('a..b')).toThrowError(/@profile\(\): the module name must be/);
    try {
      profileModule(7 as never, () => 1);
    } catch (error) {
      expect(error).toMatchObject({ name: 'LoadlightError', code: 'PLUGIN_OPTIONS_INVALID', plugin: 'modules' });
    }
  });

  it('refuses a legacy (experimentalDecorators) use and non-method members', () => {
    const decorate = profile('legacy.use');
    expect(() => (decorate as unknown as (...a: unknown[]) => unknown)({}, 'method', {})).toThrowError(
      '@profile("legacy.use"): used as a legacy decorator. @profile is a standard decorator (TypeScript 5); turn "experimentalDecorators" off',
    );
    expect(() => decorate(() => 1, { kind: 'getter', name: 'x' } as never)).toThrowError(
      '@profile("legacy.use"): decorates methods only, not a getter. Wrap other code with profileModule() or moduleSpan()',
    );
  });

  it('rejects unknown plugin options with the nearest name', () => {
    expect(() => modules({ cpuSampleIntervallMs: 5 } as never)).toThrowError(
      'plugin "modules" options: unknown option "cpuSampleIntervallMs". Expected one of: cpu, cpuSampleIntervalMs, memory, memorySampleIntervalKb, memoryReadIntervalMs. Did you mean "cpuSampleIntervalMs"?',
    );
    expect(() => modules({ cpu: 'exact' } as never)).toThrowError(
      'plugin "modules" options: "cpu" must be one of "auto", "sampling", "precise", got string "exact".',
    );
  });
});
