import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFixtures, withTypeAnnotation } from './run.mjs';

describe('startup fixtures', () => {
  it('are four projects: examples/basic and a minimal config, each as is and with a type annotation', () => {
    const fixtures = makeFixtures();
    try {
      for (const [name, file] of Object.entries(fixtures.files)) {
        const dir = path.dirname(file);
        expect(path.basename(dir)).toBe(name);
        expect(JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'))).toMatchObject({ private: true });
        expect(existsSync(path.join(dir, 'node_modules', '@loadlight', 'core', 'package.json'))).toBe(true);
        expect(existsSync(path.join(dir, 'rules', 'handles.json'))).toBe(true);
      }
      const read = (name: keyof typeof fixtures.files) => readFileSync(fixtures.files[name], 'utf8');
      expect(read('basic')).toBe(readFileSync(path.resolve(__dirname, '../../../examples/basic/perf.config.ts'), 'utf8'));
      expect(read('basic-typed')).toContain('const handles: Plugin = definePlugin(');
      expect(read('minimal')).not.toMatch(/: LoadlightConfig/);
      expect(read('minimal-typed')).toMatch(/const config: LoadlightConfig =/);
    } finally {
      fixtures.remove();
    }
    expect(existsSync(fixtures.dir)).toBe(false);
  });

  it('withTypeAnnotation says so when examples/basic no longer has the line it annotates', () => {
    expect(() => withTypeAnnotation('export default {};')).toThrow(/no longer declares/);
  });
});
