import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { configSearchPlaces, defaultRuleFiles, isLoadlightError, loadConfig, normalizeConfig } from '@loadlight/core';
import { CONFIG_FILE, initCommand, RULES_DIR, starterConfig } from './init.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A folder inside the repository, so that `@loadlight/core` resolves from it as from a project. */
function tempDir(): string {
  const base = path.join(root, 'test/.tmp');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(path.join(base, 'init-'));
}

function capture(): Writable & { text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return Object.assign(stream, { text: () => text });
}

/**
 * tsc's diagnostics for one file, against core's published types (dist). The file lives outside
 * the repository (the root tsconfig type-checks everything under test/, a wrong config included).
 */
function typeErrors(file: string): string[] {
  const program = ts.createProgram([file], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    paths: { '@loadlight/core': [path.join(root, 'packages/core/dist/index.d.ts')] },
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === file || !d.file)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('the starter config', () => {
  const text = starterConfig(defaultRuleFiles().map((f) => path.basename(f)));

  it('lists every built-in plugin and reporter with what it does, the first of each on', () => {
    for (const name of ['system', 'modules', 'ocr', 'frames', 'io']) expect(text).toMatch(new RegExp(`^ {4}(// )?\\[?'${name}'.*, // \\S.{20,}$`, 'm'));
    for (const name of ['console', 'json', 'dashboard', 'prometheus']) expect(text).toMatch(new RegExp(`^ {4}(// )?\\[?'${name}'.*, // \\S.{20,}$`, 'm'));
    expect(text).toMatch(/^ {4}'system', \/\//m);
    expect(text).toMatch(/^ {4}'console', \/\//m);
    expect(text).toMatch(/^ {4}\/\/ 'modules', \/\//m);
    expect(text).toContain(`'./${RULES_DIR}/load-levels.json',`);
  });

  it('type-checks under tsc (defineConfig), and a wrong budget in it does not', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loadlight-init-types-'));
    try {
      const good = path.join(dir, CONFIG_FILE);
      writeFileSync(good, text);
      expect(typeErrors(good)).toEqual([]);
      const bad = path.join(dir, 'bad.config.ts');
      writeFileSync(bad, text.replace('  // budgets: {', "  budgets: { 'process.cpu.percent': { maxIncreasePercnt: 20 } },\n  // budgets: {"));
      expect(typeErrors(bad).join('\n')).toMatch(/'maxIncreasePercnt' does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});

describe('initCommand', () => {
  it('writes the config and the rules, which load and validate; the next steps name them', async () => {
    const dir = tempDir();
    const out = capture();
    expect(await initCommand(['--dir', dir], out)).toBe(0);
    for (const source of defaultRuleFiles()) {
      expect(readFileSync(path.join(dir, RULES_DIR, path.basename(source)), 'utf8')).toBe(readFileSync(source, 'utf8'));
    }
    const loaded = await loadConfig({ cwd: dir });
    expect(loaded?.filepath).toBe(path.join(dir, CONFIG_FILE));
    const config = normalizeConfig(loaded!.config, { configFile: loaded!.filepath });
    expect(config.rules).toEqual(defaultRuleFiles().map((f) => path.join(dir, RULES_DIR, path.basename(f))));
    expect(out.text()).toContain('Next steps:');
    expect(out.text()).toContain('npx loadlight validate');
  });

  it('refuses to overwrite, naming each file, and writes nothing; --force overwrites', async () => {
    const dir = tempDir();
    await initCommand(['--dir', dir], capture());
    const edited = path.join(dir, RULES_DIR, 'alerts.json');
    writeFileSync(edited, '{"rules": []}');
    const error = await initCommand(['--dir', dir], capture()).catch((e: unknown) => e);
    expect(isLoadlightError(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(/^init: nothing written, these would be overwritten or conflict:\n/);
    expect(message).toContain(`${path.relative(process.cwd(), path.join(dir, CONFIG_FILE))} exists`);
    for (const source of defaultRuleFiles()) expect(message).toContain(`${path.basename(source)} exists`);
    expect(message).toContain('Run "loadlight init --force" to overwrite them.');
    expect(readFileSync(edited, 'utf8')).toBe('{"rules": []}');
    expect(await initCommand(['--dir', dir, '--force'], capture())).toBe(0);
    expect(readFileSync(edited, 'utf8')).not.toBe('{"rules": []}');
  });

  it('treats another config file as a conflict, and warns with --force that it is read first', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', perf: { plugins: ['system'] } }));
    const error = await initCommand(['--dir', dir], capture()).catch((e: unknown) => e);
    expect((error as Error).message).toContain('package.json ("perf" key) is a loadlight config already');
    const out = capture();
    expect(await initCommand(['--dir', dir, '--force'], out)).toBe(0);
    expect(out.text()).toContain(`warning: package.json ("perf" key) is read before ${CONFIG_FILE}: remove it for the new config to take effect.`);
  });

  it('treats a config at any place core searches as a conflict, and warns of those read before perf.config.ts', async () => {
    const dir = tempDir();
    const places = configSearchPlaces().filter((place) => place !== 'package.json' && place !== CONFIG_FILE);
    expect(places).toEqual(expect.arrayContaining(['.perfrc', '.config/perfrc.yaml', 'perf.config.mjs', 'perf.config.mts']));
    mkdirSync(path.join(dir, '.config'));
    for (const place of places) writeFileSync(path.join(dir, place), '');
    const message = ((await initCommand(['--dir', dir], capture()).catch((e: unknown) => e)) as Error).message;
    for (const place of places) expect(message).toContain(`${path.relative(process.cwd(), path.join(dir, place))} is a loadlight config already`);
    const out = capture();
    expect(await initCommand(['--dir', dir, '--force'], out)).toBe(0);
    const before = configSearchPlaces().slice(1, configSearchPlaces().indexOf(CONFIG_FILE));
    expect(out.text()).toContain(`warning: ${before.join(', ')} are read before ${CONFIG_FILE}: remove them for the new config to take effect.`);
  });

  it('never writes through a loadlight-rules symbolic link, --force included, nor over a file of that name: refuses before writing anything', async () => {
    const dir = tempDir();
    const elsewhere = tempDir();
    writeFileSync(path.join(elsewhere, 'alerts.json'), '{"rules": []}');
    symlinkSync(elsewhere, path.join(dir, RULES_DIR));
    for (const args of [['--dir', dir], ['--dir', dir, '--force']]) {
      const error = await initCommand(args, capture()).catch((e: unknown) => e);
      expect(isLoadlightError(error), String(error)).toBe(true);
      expect((error as Error).message).toBe(
        `init: nothing written: ${path.relative(process.cwd(), path.join(dir, RULES_DIR))} is a symbolic link (to ${elsewhere}), and init writes the rules only into a folder ` +
          'of its own, never through a link (--force included): remove it, or use --dir for another folder.',
      );
    }
    expect(readdirSync(elsewhere)).toEqual(['alerts.json']);
    expect(readFileSync(path.join(elsewhere, 'alerts.json'), 'utf8')).toBe('{"rules": []}');
    expect(readdirSync(dir)).toEqual([RULES_DIR]);

    const other = tempDir();
    writeFileSync(path.join(other, RULES_DIR), 'notes');
    await expect(initCommand(['--dir', other, '--force'], capture())).rejects.toThrow(`${RULES_DIR} is not a folder, and init writes the rules only into a folder of its own: remove it`);
    expect(readdirSync(other)).toEqual([RULES_DIR]);
  });

  it('escapes control characters, line breaks and bidirectional marks of --dir in its messages', async () => {
    const dir = path.join(tempDir(), 'a\nb\u202ec\u200fd\ufeff');
    mkdirSync(dir);
    writeFileSync(path.join(dir, CONFIG_FILE), '');
    const error = await initCommand(['--dir', dir], capture()).catch((e: unknown) => e);
    expect((error as Error).message).toContain('a\\u000ab\\u202ec\\u200fd\\ufeff/perf.config.ts exists');
    const out = capture();
    expect(await initCommand(['--dir', dir, '--force'], out)).toBe(0);
    expect(out.text()).toContain('a\\u000ab\\u202ec\\u200fd\\ufeff/perf.config.ts (overwritten)');
    expect(out.text()).not.toMatch(/[\u202e\u200f\ufeff]/);
  });

  it('rejects arguments it does not take', async () => {
    await expect(initCommand(['here'], capture())).rejects.toThrow('unexpected argument "here" (the folder is given with --dir)');
    await expect(initCommand(['--dir', ''], capture())).rejects.toThrow('--dir expects a folder');
    const file = path.join(tempDir(), 'file.txt');
    writeFileSync(file, '');
    await expect(initCommand(['--dir', file], capture())).rejects.toThrow('is a file, not a folder');
  });
});
