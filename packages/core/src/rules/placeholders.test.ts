// Property tests: a `{{…}}` message placeholder reads own data properties of the facts and
// nothing else: never a prototype, an inherited method, a getter or a proxy trap; never code.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { fillMessage, placeholders } from './facts.js';

const NUM_RUNS = 300;

/** Names that lead out of an object's own data when read naively. */
const DANGEROUS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
  '__lookupGetter__',
  'toLocaleString',
  'call',
  'apply',
  'bind',
  'name',
  'length',
  'then',
];
const KNOWN = ['process', 'cpu', 'percent', 'module', 'name', 'tags', 'heap', 'used_mb', '0', '1', 'secret', 'getter', 'proxy'];

const segment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...DANGEROUS) },
  { weight: 3, arbitrary: fc.constantFrom(...KNOWN) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '$', '*', '..', "['x']", '(', ')', '()', '`${1}`', 'process.mainModule') },
);
/** The text between `{{` and `}}`: segments joined by dots, sometimes with spaces or code around. */
const pathText = fc.oneof(
  { weight: 4, arbitrary: fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => s.join('.')) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "constructor.constructor('return process')()",
      'process.constructor.constructor',
      '__proto__.polluted',
      'this.constructor',
      'globalThis.process.exit',
      'module.tags.constructor.name',
    ),
  },
);

/** Facts shaped like the stage's, with values a placeholder may show. */
function plainFacts(): Record<string, unknown> {
  return {
    process: { cpu: { percent: 12.34 }, heap: { used_mb: 40 } },
    module: { name: 'ocr', tags: ['ocr', 'verbose'] },
    '0': 'zero',
  };
}

/** Reference: own data properties only, no unsafe segment; the value rendered as fillMessage does. */
function expected(path: string, facts: Record<string, unknown>): string {
  const segments = path.trim().split('.');
  if (segments.some((s) => s === '' || s === '__proto__' || s === 'constructor' || s === 'prototype')) return '?';
  let node: unknown = facts;
  for (const s of segments) {
    if (node === null || typeof node !== 'object') return '?';
    const descriptor = Object.getOwnPropertyDescriptor(node, s);
    if (!descriptor || !('value' in descriptor)) return '?';
    node = descriptor.value;
  }
  if (typeof node === 'number') return Number.isFinite(node) ? String(Math.round(node * 10) / 10 || 0) : '?';
  if (typeof node === 'string') return node;
  if (typeof node === 'boolean') return String(node);
  if (Array.isArray(node) && node.every((i) => typeof i === 'string')) return node.length ? node.join(', ') : 'none';
  return '?';
}

/** What a prototype walk, a function's source or an object's default string would show. */
const LEAK = /PROTO|native code|\[object|function|=>/;

const realEval = globalThis.eval;
const RealFunction = globalThis.Function;
afterEach(() => {
  globalThis.eval = realEval;
  globalThis.Function = RealFunction;
});

describe('message placeholders: property tests', () => {
  it('a placeholder shows an own data value of the facts or "?", whatever its path', () => {
    const facts = plainFacts();
    fc.assert(
      fc.property(pathText, (path) => {
        fc.pre(!path.includes('{') && !path.includes('}'));
        expect(fillMessage(`[{{${path}}}]`, facts)).toBe(`[${expected(path, facts)}]`);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never reaches a prototype or an inherited method: nothing on Object.prototype, Function or Array shows', () => {
    // A polluted-looking prototype chain: what a prototype walk would find is marked.
    const proto = { secret: 'PROTO-SECRET', cpu: { percent: 'PROTO-CPU' } };
    const facts: Record<string, unknown> = Object.assign(Object.create(proto) as object, {
      process: Object.assign(Object.create(proto) as object, { heap: { used_mb: 1 } }),
      module: JSON.parse('{"name":"m","__proto__":{"secret":"JSON-PROTO"},"tags":[]}') as unknown,
    });
    const before = Object.getOwnPropertyNames(Object.prototype).join();
    fc.assert(
      fc.property(fc.array(pathText, { minLength: 1, maxLength: 4 }), (paths) => {
        const message = paths.map((p) => `{{${p}}}`).join(' | ');
        // Text that is not a placeholder is echoed as written, so the marks count only when the message lacks them.
        fc.pre(!LEAK.test(message));
        expect(fillMessage(message, facts)).not.toMatch(LEAK);
      }),
      { numRuns: NUM_RUNS },
    );
    expect(Object.getOwnPropertyNames(Object.prototype).join()).toBe(before);
    // An own "__proto__" key (JSON.parse makes one) is refused by name, not followed.
    expect(fillMessage('{{module.__proto__.secret}}', facts)).toBe('?');
    expect(fillMessage('{{process.secret}} {{secret}} {{process.cpu.percent}}', facts)).toBe('? ? ?');
  });

  it('never invokes a getter, a proxy trap or a function found in the facts', () => {
    let calls = 0;
    const trap = () => {
      calls++;
      return 'CALLED';
    };
    const withGetter = Object.defineProperty({}, 'getter', { get: trap, enumerable: true });
    const proxy = new Proxy({ proxy: 1 }, { get: trap, getOwnPropertyDescriptor: () => (calls++, undefined), has: () => (calls++, true) });
    const tags = ['a', 'b'];
    Object.defineProperty(tags, '1', { get: trap, enumerable: true });
    const facts: Record<string, unknown> = {
      process: { getter: withGetter, proxy, fn: trap, cpu: { percent: 5 } },
      module: { name: 'm', tags },
      getter: withGetter,
      proxy,
    };
    Object.defineProperty(facts, 'secret', { get: trap, enumerable: true });
    fc.assert(
      fc.property(fc.array(pathText, { minLength: 1, maxLength: 4 }), (paths) => {
        const text = fillMessage(paths.map((p) => `{{${p}}}`).join(' '), facts);
        expect(text).not.toContain('CALLED');
      }),
      { numRuns: NUM_RUNS },
    );
    for (const path of ['getter.getter', 'secret', 'process.getter.getter', 'process.proxy.proxy', 'proxy.proxy', 'process.fn', 'module.tags', 'module.tags.1']) {
      expect(fillMessage(`{{${path}}}`, facts), path).toBe('?');
    }
    expect(calls).toBe(0);
    expect(fillMessage('{{process.cpu.percent}}', facts)).toBe('5');
  });

  it('runs no code: eval and Function are never called, and the source holds neither', () => {
    const called: string[] = [];
    globalThis.eval = ((code: string) => called.push(`eval ${code}`)) as typeof eval;
    globalThis.Function = function (...args: string[]) {
      called.push(`Function ${args.join()}`);
    } as unknown as FunctionConstructor;
    const facts = plainFacts();
    try {
      fc.assert(
        fc.property(fc.string({ maxLength: 80 }), pathText, (text, path) => {
          fillMessage(`${text}{{${path}}}${text}`, facts);
          placeholders(`${text}{{${path}}}`);
        }),
        { numRuns: NUM_RUNS },
      );
    } finally {
      globalThis.eval = realEval;
      globalThis.Function = RealFunction;
    }
    expect(called).toEqual([]);
    const source = readFileSync(new URL('./facts.ts', import.meta.url), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
    expect(source).not.toMatch(/\beval\s*\(|new Function\b|\bFunction\s*\(|JSONPath|jsonpath/);
  });

  it('text outside placeholders comes out unchanged', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        fc.pre(!/\{\{[^{}]*\}\}/.test(text));
        expect(fillMessage(text, plainFacts())).toBe(text);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
