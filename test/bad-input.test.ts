// Property tests: every first-party plugin and reporter factory, called with any option value,
// returns a plugin or throws a PLUGIN_OPTIONS_INVALID LoadlightError naming the plugin and the
// option; never a TypeError. Through a config, the error also names the config entry.
import { isLoadlightError, Profiler, type LoadlightError, type Plugin } from '@loadlight/core';
import consoleReporter from '@loadlight/reporter-console';
import dashboard from '@loadlight/reporter-dashboard';
import json from '@loadlight/reporter-json';
import prometheus from '@loadlight/reporter-prometheus';
import frames from '@loadlight/plugin-frames';
import io from '@loadlight/plugin-io';
import modules from '@loadlight/plugin-modules';
import ocr from '@loadlight/plugin-ocr';
import system from '@loadlight/plugin-system';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const NUM_RUNS = 150;

interface Factory {
  /** The name the config and messages use. */
  name: string;
  kind: 'plugin' | 'reporter';
  make: (options?: unknown) => Plugin;
  /** Options that validate, every option set. */
  valid: Record<string, unknown>;
}

const FACTORIES: Factory[] = [
  {
    name: 'system',
    kind: 'plugin',
    make: system as Factory['make'],
    valid: { host: true, process: true, eventLoop: true, gc: false, eventLoopResolutionMs: 20, processes: [{ pid: 1, name: 'init' }] },
  },
  {
    name: 'modules',
    kind: 'plugin',
    make: modules as Factory['make'],
    valid: { cpu: 'sampling', cpuSampleIntervalMs: 10, memory: 'off', memorySampleIntervalKb: 64, memoryReadIntervalMs: 5000 },
  },
  { name: 'ocr', kind: 'plugin', make: ocr as Factory['make'], valid: {} },
  { name: 'frames', kind: 'plugin', make: frames as Factory['make'], valid: { targetFps: 60 } },
  { name: 'io', kind: 'plugin', make: io as Factory['make'], valid: { host: false } },
  { name: 'json', kind: 'reporter', make: json as Factory['make'], valid: { dir: 'perf/x', pretty: true, quiet: true, trace: false } },
  {
    name: 'console',
    kind: 'reporter',
    make: consoleReporter as Factory['make'],
    valid: { refreshMs: 100, color: false, compact: true, maxModules: 3, maxRecommendations: 2, stream: { write: () => true } },
  },
  {
    name: 'dashboard',
    kind: 'reporter',
    make: dashboard as Factory['make'],
    valid: { host: '127.0.0.1', port: 0, readsNeedToken: true, allowRemote: false, title: 't', token: 'a'.repeat(16), quiet: true, uiDir: 'ui' },
  },
  {
    name: 'prometheus',
    kind: 'reporter',
    make: prometheus as Factory['make'],
    valid: { host: '127.0.0.1', port: 0, path: '/m', labels: { bot: 'a' }, prefix: 'x_', quiet: true },
  },
];

const odd = fc.constantFrom<unknown>(
  Number.NaN,
  Infinity,
  -1,
  0,
  1e300,
  2 ** 53 + 1,
  10n,
  Symbol('s'),
  () => 1,
  new Date(0),
  new Map(),
  Object.create(null) as unknown,
  '',
  ' ',
  '\u0000',
  '../../etc',
  'x'.repeat(100_000),
  [],
  [1, 'a'],
  { write: 1 },
  { __proto__: null, a: 1 },
  JSON.parse('{"__proto__": {"polluted": true}}') as unknown,
  undefined,
  null,
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 2, arbitrary: odd },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2, withBigInt: true, withMap: true, withSet: true, withNullPrototype: true }) },
);
const key = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', ''), fc.string({ maxLength: 16 }));

/** Options: the valid set with one option replaced, removed or added; or any value at all. */
function optionsFor(factory: Factory): fc.Arbitrary<{ options: unknown; option: string | null }> {
  const names = Object.keys(factory.valid);
  const change = fc.record({ pick: fc.nat(), kind: fc.constantFrom('replace', 'delete', 'extra'), value: anyValue, key }).map(({ pick, kind, value, key }) => {
    const options: Record<string, unknown> = { ...factory.valid };
    if (kind === 'extra' || names.length === 0) {
      Object.defineProperty(options, key, { value, enumerable: true, writable: true, configurable: true });
      return { options, option: key };
    }
    const name = names[pick % names.length]!;
    if (kind === 'delete') delete options[name];
    else options[name] = value;
    return { options, option: name };
  });
  return fc.oneof({ weight: 3, arbitrary: change }, { weight: 1, arbitrary: anyValue.map((options) => ({ options, option: null })) });
}

function attempt(factory: Factory, options: unknown): LoadlightError | null {
  let plugin: Plugin;
  try {
    plugin = factory.make(options);
  } catch (error) {
    if (!isLoadlightError(error)) {
      throw new Error(`${factory.name}: not a LoadlightError: ${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error)}`);
    }
    return error;
  }
  expect(typeof plugin.name).toBe('string');
  expect(typeof plugin.apply).toBe('function');
  return null;
}

describe('plugin and reporter options: property tests', () => {
  for (const factory of FACTORIES) {
    it(`${factory.kind} "${factory.name}": any options give the plugin or PLUGIN_OPTIONS_INVALID naming the option`, () => {
      expect(attempt(factory, factory.valid)).toBeNull();
      expect(attempt(factory, undefined)).toBeNull();
      let refused = 0;
      fc.assert(
        fc.property(optionsFor(factory), ({ options, option }) => {
          const error = attempt(factory, options);
          if (!error) return;
          refused++;
          expect(error.code).toBe('PLUGIN_OPTIONS_INVALID');
          expect(error.plugin).toBe(factory.name);
          expect(error.message).toContain(`plugin "${factory.name}"`);
          expect(error.message).not.toMatch(/\n\s+at .*:\d+:\d+/);
          if (option !== null && option !== '') expect(error.message).toContain(option.slice(0, 40));
        }),
        { numRuns: NUM_RUNS },
      );
      expect(refused, 'options refused (the checks above ran)').toBeGreaterThan(0);
    });
  }

  it('through a config, the error names the config entry too ("plugins[0]")', async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...FACTORIES),
        fc.dictionary(key, anyValue, { minKeys: 1, maxKeys: 3 }).filter((o) => Object.keys(o).some((k) => k !== '')),
        async (factory, options) => {
          const field = `${factory.kind}s`;
          const profiler = new Profiler({ [field]: [[factory.name, options]], ...(factory.kind === 'plugin' ? { reporters: [] } : { plugins: [] }), rules: [] }, { handleExit: false });
          try {
            await profiler.prepare();
          } catch (error) {
            if (!isLoadlightError(error)) throw error;
            refused++;
            expect(error.message).toContain(`"${field}[0]"`);
            expect(error.message).toContain(`plugin "${factory.name}"`);
          }
        },
      ),
      { numRuns: 40 },
    );
    expect(refused, 'configs refused (the checks above ran)').toBeGreaterThan(0);
  });
});
