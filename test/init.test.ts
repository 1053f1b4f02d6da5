// `loadlight init` end to end: the files it writes make a project that validates and runs as is.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadlight, root, sessionsIn, tempProject } from './helpers.js';

const RULES = ['load-levels.json', 'recommendations.json', 'alerts.json'];

describe('loadlight init', () => {
  it('writes perf.config.ts and the default rules; the project validates, runs and compares as is', async () => {
    const project = tempProject({});
    const init = await loadlight(['init'], { cwd: project });
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('wrote perf.config.ts');
    expect(init.stdout).toContain(`copied the default rules to loadlight-rules/: ${RULES.join(', ')}`);
    expect(init.stdout).toMatch(/Next steps:\n {2}1\. npx loadlight validate/);
    for (const file of RULES) {
      expect(readFileSync(path.join(project, 'loadlight-rules', file), 'utf8')).toBe(readFileSync(path.join(root, 'rules', file), 'utf8'));
    }

    const validate = await loadlight(['validate'], { cwd: project });
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain('config: perf.config.ts (ok)');
    expect(validate.stdout).toContain('plugins: system');
    expect(validate.stdout).toContain('reporters: console, json');
    for (const file of RULES) expect(validate.stdout).toMatch(new RegExp(`loadlight-rules/${file.replace('.', '\\.')}: \\d+ rules`));

    const run = await loadlight(['run', '--duration', '1500ms', '--', 'node', '-e', 'setInterval(() => {}, 100)'], { cwd: project });
    expect(run.code, run.stderr).toBe(0);
    const [session] = sessionsIn(path.join(project, 'perf/samples'));
    expect(session?.data.config.rules.map((r: { file: string }) => r.file)).toEqual(RULES.map((f) => `loadlight-rules/${f}`));
    const compare = await loadlight(['compare', session!.file, session!.file], { cwd: project });
    expect(compare.code, compare.stderr).toBe(0);
    expect(compare.stdout).toContain('budgets: none in the config: exit code 0');
  }, 30_000);

  it('every plugin, reporter and budget it leaves commented out validates once uncommented', async () => {
    const project = tempProject({});
    expect((await loadlight(['init'], { cwd: project })).code).toBe(0);
    const file = path.join(project, 'perf.config.ts');
    const text = readFileSync(file, 'utf8');
    // `    // 'ocr', // what it does` -> `    'ocr', // what it does`; the budgets block likewise.
    const uncommented = text
      .split('\n')
      .map((line) => line.replace(/^( {4})\/\/ (['[])/, '$1$2').replace(/^( {2})\/\/ (budgets: \{$| {2}'|\},$)/, '$1$2'))
      .join('\n');
    expect(uncommented).not.toBe(text);
    writeFileSync(file, uncommented);
    const validate = await loadlight(['validate'], { cwd: project });
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain('plugins: system, modules, ocr, frames, io');
    expect(validate.stdout).toContain('reporters: console, json, dashboard, prometheus');
    expect(uncommented).toMatch(/^ {2}budgets: \{\n {4}'process\.cpu\.percent'/m);
  });

  it('refuses to overwrite any file without --force, naming each; --force overwrites', async () => {
    const project = tempProject({});
    expect((await loadlight(['init'], { cwd: project })).code).toBe(0);
    writeFileSync(path.join(project, 'perf.config.ts'), 'export default { sampleIntervalMs: 500 };\n');
    const again = await loadlight(['init'], { cwd: project });
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toBe(
      'loadlight: init: nothing written, these would be overwritten or conflict:\n' +
        '  - perf.config.ts exists\n' +
        RULES.map((f) => `  - loadlight-rules/${f} exists\n`).join('') +
        'Run "loadlight init --force" to overwrite them.\n',
    );
    expect(readFileSync(path.join(project, 'perf.config.ts'), 'utf8')).toBe('export default { sampleIntervalMs: 500 };\n');

    const forced = await loadlight(['init', '--force'], { cwd: project });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('wrote perf.config.ts (overwritten)');
    expect(readFileSync(path.join(project, 'perf.config.ts'), 'utf8')).toContain("import { defineConfig } from '@loadlight/core';");
  });

  it('--dir writes into another folder, created if needed, and the next steps say cd there', async () => {
    const project = tempProject({});
    const init = await loadlight(['init', '--dir', 'services/bot'], { cwd: project });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain('wrote services/bot/perf.config.ts');
    expect(init.stdout).toContain('1. cd services/bot && npx loadlight validate');
    const validate = await loadlight(['validate', '--config', 'services/bot/perf.config.ts'], { cwd: project });
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stdout).toMatch(/services\/bot\/loadlight-rules\/alerts\.json: \d+ rules/);
    const bad = await loadlight(['init', 'services/bot'], { cwd: project });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('loadlight init: unexpected argument "services/bot" (the folder is given with --dir)\nRun "loadlight init --help" for usage.\n');
  });
});
