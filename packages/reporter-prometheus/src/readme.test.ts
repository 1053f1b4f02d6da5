import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Profiler } from '@loadlight/core';
import { moreSamples } from '@loadlight/core/testing';
import frames from '@loadlight/plugin-frames';
import io from '@loadlight/plugin-io';
import modules, { profileModule } from '@loadlight/plugin-modules';
import ocr from '@loadlight/plugin-ocr';
import system from '@loadlight/plugin-system';
import { beforeAll, describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../test/support/readme.js';
import prometheus, { exposedName, exposedType } from './index.js';
import { optionsSchema } from './options.js';
import { parseExposition, type ParsedFamily } from './test-support.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');

/** The fenced blocks without a language (outputs), in order. */
const outputs = [...readme.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].filter((m) => m[1] === '').map((m) => m[2]!);
/** Rows of the table whose header starts with `header`. */
function table(header: string): string[][] {
  const start = readme.indexOf(header);
  if (start < 0) throw new Error(`README has no table "${header}"`);
  const lines = readme.slice(start).split('\n');
  const rows: string[][] = [];
  for (const line of lines.slice(2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((cell) => cell.trim()));
  }
  return rows;
}
const code = (cell: string) => /^`([^`]*)`$/.exec(cell)?.[1] ?? cell;
/** `name{label="v",other="w"} 1` -> `name{label,other}`. */
const shape = (line: string) => line.replace(/=("(?:[^"\\]|\\.)*")/g, '').replace(/ \S+$/, '');

describe('README', () => {
  it('runs its example, which prints the series the README shows', () => {
    const result = runReadmeExample(packageDir, { lang: 'js' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^loadlight prometheus: http:\/\/127\.0\.0\.1:\d+\/metrics$/m);
    const printed = result.stdout.trim().split('\n');
    const shown = outputs[0]!.trim().split('\n');
    expect(printed.map(shape).sort()).toEqual(shown.map(shape).sort());
    for (const line of printed) expect(line).toMatch(/ \d+(\.\d+)?$/);
  });

  describe('against a real exposition', () => {
    let families: Map<string, ParsedFamily>;
    let catalogue: Array<{ name: string; prometheus: string; unit: string; type: string }>;

    beforeAll(async () => {
      const reporter = prometheus({ port: 0, quiet: true });
      const profiler = new Profiler(
        { plugins: [system(), modules(), ocr(), frames(), io()], reporters: [reporter], watchRules: false, sampleIntervalMs: 50 },
        { handleExit: false, warn: () => undefined },
      );
      const read = profileModule('core.ocr', () => JSON.stringify({ frame: 1 }));
      await profiler.start();
      read();
      await moreSamples(profiler, 3);
      await profiler.stop();
      families = parseExposition(await reporter.exposition());
      const seen = new Set<string>();
      catalogue = [];
      for (const info of profiler.store.catalogue()) {
        const name = info.module ? `module.<module>.${info.module.field}` : info.name;
        if (seen.has(name)) continue;
        seen.add(name);
        catalogue.push({ name, prometheus: `loadlight_${exposedName(info)}${info.module ? '{module}' : ''}`, unit: info.unit, type: exposedType(info) });
      }
    });

    it('maps every metric of loadlight’s plugins as its table says', () => {
      const rows = table('| loadlight metric |').map(([name, unit, series, type]) => ({
        name: code(name!),
        prometheus: code(series!),
        unit: unit!,
        type: type!,
      }));
      expect(rows).toEqual(catalogue);
    });

    it('lists exactly the reporter’s own series, with their types', () => {
      const fromMetrics = new Set(catalogue.map((c) => c.prometheus.replace('{module}', '')));
      const own = [...families.values()].filter((f) => !fromMetrics.has(f.name)).map((f) => [f.name, f.type]);
      const rows = table('| series | type |').map(([series, type]) => [code(series!).replace(/\{.*\}$/, ''), type]);
      expect(rows.sort()).toEqual(own.sort());
    });

    it('shows an excerpt of the exposition that matches the real one in names, types and HELP texts', () => {
      const excerpt = outputs.find((o) => o.startsWith('# HELP'));
      expect(excerpt).toBeDefined();
      const shown = parseExposition(excerpt!.endsWith('\n') ? excerpt! : `${excerpt}\n`);
      expect(shown.size).toBeGreaterThanOrEqual(10);
      for (const family of shown.values()) {
        const real = families.get(family.name);
        expect(real, family.name).toBeDefined();
        expect(family.type, family.name).toBe(real!.type);
        expect(family.help, family.name).toBe(real!.help);
      }
    });
  });

  it('documents exactly the options the schema accepts', () => {
    const documented = table('| option |').map(([name]) => code(name!));
    expect(documented).toEqual(Object.keys(optionsSchema.properties));
  });

  it('quotes the error a reserved label really gives', () => {
    const quoted = /`(plugin "prometheus" options: "labels\.job"[^`]*)`/.exec(readme)?.[1];
    expect(quoted).toBeDefined();
    expect(() => prometheus({ labels: { job: 'a' } })).toThrowError(quoted);
  });
});
