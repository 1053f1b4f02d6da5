import { describe, expect, it } from 'vitest';
import { fixtureTopic } from './fixtures/topic.js';
import { boundValue, escapeXml, renderTopicSvg } from './svg.mjs';

/**
 * A strict-enough XML well-formedness check for what we write: every `<` opens a well-formed tag
 * with quoted, unique attributes; tags nest and close; `&` only starts a known entity; one root.
 */
function assertWellFormed(xml: string): void {
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[\da-fA-F]+);/y;
  const stack: string[] = [];
  let roots = 0;
  for (let i = 0; i < xml.length; i++) {
    const c = xml[i];
    if (c === '&') {
      entity.lastIndex = i;
      if (!entity.test(xml)) throw new Error(`bare & at ${i}: ${xml.slice(i, i + 20)}`);
    } else if (c === '<') {
      tag.lastIndex = i;
      const m = tag.exec(xml);
      if (!m) throw new Error(`malformed tag at ${i}: ${xml.slice(i, i + 40)}`);
      const [whole, closing, name, attrs, selfClosing] = m;
      const names = [...attrs.matchAll(/([\w:-]+)="/g)].map((a) => a[1]);
      if (new Set(names).size !== names.length) throw new Error(`duplicate attribute in ${whole}`);
      for (const value of attrs.matchAll(/="([^"]*)"/g)) {
        if (/&(?!(?:amp|lt|gt|quot|apos);)/.test(value[1])) throw new Error(`bare & in attribute of ${whole}`);
      }
      if (closing) {
        if (stack.pop() !== name) throw new Error(`</${name}> closes nothing open at ${i}`);
      } else if (!selfClosing) {
        if (stack.length === 0) roots++;
        stack.push(name);
      } else if (stack.length === 0) roots++;
      i += whole.length - 1;
    } else if (stack.length === 0 && c.trim() !== '') {
      throw new Error(`text outside the root at ${i}`);
    }
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
}

describe('assertWellFormed (the checker itself)', () => {
  it('rejects what a broken writer would produce', () => {
    expect(() => assertWellFormed('<svg><g></svg>')).toThrow();
    expect(() => assertWellFormed('<svg><text>a & b</text></svg>')).toThrow(/bare &/);
    expect(() => assertWellFormed('<svg x="1" x="2"></svg>')).toThrow(/duplicate/);
    expect(() => assertWellFormed('<svg width=1></svg>')).toThrow(/malformed/);
    expect(() => assertWellFormed('<svg/><svg/>')).toThrow(/2 root/);
    expect(() => assertWellFormed('<svg><text>a &lt; b</text><rect x="1"/></svg>\n')).not.toThrow();
  });
});

describe('renderTopicSvg', () => {
  const svg = renderTopicSvg(fixtureTopic());

  it('is a well-formed SVG document with no undefined or NaN in it', () => {
    assertWellFormed(svg);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('escapes labels', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
    expect(svg).toContain('loadlight profileModule(name, fn) &lt;sync&gt; &amp; co');
  });

  it('draws one bar per measured case, with its value and ratio, and says which were not measured', () => {
    const bars = svg.match(/<rect x="350" /g) ?? [];
    expect(bars).toHaveLength(6);
    expect(svg).toContain('>5.91 ns/op  ·  1.31x</text>');
    expect(svg).toContain('>4.50 ns/op</text>');
    expect(svg).toContain('>not measured: not built</text>');
  });

  it('draws the bound where the bounded case may reach, and states the verdict', () => {
    // trackOcrCall ≤ 2x a 4.5 ns baseline: 9 ns, on a 360 px panel scaled to 46.03 ns x 1.05.
    const x = 350 + (9 / (46.03 * 1.05)) * 360;
    const lines = [...svg.matchAll(/<line x1="([\d.]+)"[^>]*stroke-dasharray/g)].map((m) => Number(m[1]));
    expect(lines).toContain(Math.round(x * 10) / 10);
    expect(svg).toContain('≤ 2x: MET');
    expect(svg).toContain('≤ 1.5x: MISSED');
    expect(svg).toContain('≤ 1.5x: UNMEASURED');
  });

  it('shows the errors of failed groups', () => {
    expect(svg).toContain('ERROR in broken: timed out after 120 s');
  });
});

describe('boundValue', () => {
  it('turns a ratio bound into a value through the row’s own ratio, and takes the tighter of two', () => {
    const row = { id: 'r', label: 'r', who: 'loadlight', value: 12, spread: 0, ratio: 1.2, baseline: false };
    expect(boundValue({ ...row, bound: { ratio: 1.5, text: '' } })).toBeCloseTo(15, 12);
    expect(boundValue({ ...row, bound: { ratio: 1.5, value: 14, text: '' } })).toBe(14);
    expect(boundValue({ ...row, value: null, ratio: null, bound: { ratio: 1.5, text: '' } })).toBeNull();
    expect(boundValue(row)).toBeNull();
  });
});
