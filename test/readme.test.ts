import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateSession } from '@loadlight/core';
import { loadlight, root, sessionsIn, tempProject } from './helpers.js';

/** The fenced blocks of one section of the README. */
function blocks(section: string): Array<{ lang: string; code: string }> {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const start = readme.indexOf(`## ${section}\n`);
  expect(start, `README section "${section}"`).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  const text = readme.slice(start, end === -1 ? undefined : end);
  return [...text.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

describe('README', () => {
  it('the custom plugin and rule from "Write a plugin" work as written', async () => {
    const [config, rule] = blocks('Write a plugin');
    expect(config!.lang).toBe('ts');
    expect(rule!.lang).toBe('json');
    const dir = tempProject({
      // the README's config, with the reporters quiet and the session in a known place
      'perf.config.ts': config!.code.replace("reporters: ['console', 'json']", "reporters: [['json', { dir: 'out' }]], sampleIntervalMs: 200"),
      'rules/handles.json': rule!.code,
      // a program that leaks timers: the custom rule must notice
      'app.js': 'for (let i = 0; i < 80; i++) setTimeout(() => {}, 60_000); setTimeout(() => process.exit(0), 2000);',
    });
    const validate = await loadlight(['validate', '--facts'], { cwd: dir });
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stdout).toMatch(/handles\s+\$\.active\s+count/);

    const run = await loadlight(['run', '--', 'node', 'app.js'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const [session] = sessionsIn(path.join(dir, 'out'));
    validateSession(session!.data);
    expect(session!.data.statistics['handles.active'].max).toBeGreaterThanOrEqual(80);
    const recommendation = session!.data.recommendations.find((r: { id: string }) => r.id === 'handles.close-leaked');
    expect(recommendation?.message).toMatch(/^[\d.]+ handles are open/);
  });

  it('the quick start commands are the ones package.json runs', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(readme).toContain('npm install && npm run demo');
    expect(readme).toContain('npm test');
    expect(pkg.scripts.demo).toContain('scripts/demo.mjs');
    expect(pkg.scripts.test).toContain('vitest run');
  });
});
