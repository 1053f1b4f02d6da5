import { describe, expect, it } from 'vitest';
import { moduleTags } from './modules.js';
import type { MetricInfo } from './types.js';

const field = (module: string, name: string, tags?: string[]): MetricInfo => ({
  name: `module.${module}.${name}`,
  plugin: 'test',
  unit: 'count',
  kind: 'gauge',
  description: name,
  module: { name: module, field: name, ...(tags ? { tags } : {}) },
});
const plain: MetricInfo = { name: 'process.cpu.percent', plugin: 'test', unit: 'percent', kind: 'gauge', description: 'cpu' };

describe('moduleTags', () => {
  const catalogue = [
    field('ocr', 'calls', ['verbose', 'heatmap']),
    plain,
    field('db', 'calls'),
    field('ocr', 'latency_ms', ['optional', 'heatmap']),
    field('db', 'errors', ['io']),
    field('idle', 'calls'),
  ];

  it('unions the tags of each module over its metrics, sorted, modules in catalogue order', () => {
    expect([...moduleTags(catalogue)]).toEqual([
      ['ocr', ['heatmap', 'optional', 'verbose']],
      ['db', ['io']],
      ['idle', []],
    ]);
  });

  it('counts only the metrics `include` accepts; a module with none accepted has no entry', () => {
    const tags = moduleTags(catalogue, (info) => info.module!.field === 'calls');
    expect([...tags]).toEqual([
      ['ocr', ['heatmap', 'verbose']],
      ['db', []],
      ['idle', []],
    ]);
    expect([...moduleTags(catalogue, (info) => info.module!.name !== 'db').keys()]).toEqual(['ocr', 'idle']);
  });

  it('is empty without module metrics', () => {
    expect(moduleTags([plain]).size).toBe(0);
    expect(moduleTags([]).size).toBe(0);
  });
});
