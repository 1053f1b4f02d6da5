import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const coreDir = path.join(repoRoot, 'packages', 'core');

export interface ReadmeExampleOptions {
  /** The fence's language: `js` runs as an ES module in node, `ts` through jiti (as loadlight loads perf.config.ts). */
  lang: 'js' | 'ts';
  /** Which fenced example of that language, from 0. */
  index?: number;
  /** Merged over `process.env`; a variable set to `undefined` is removed. */
  env?: NodeJS.ProcessEnv;
  /** The child is killed (SIGTERM) after this long. */
  timeoutMs?: number;
}

export interface ReadmeExampleRun {
  /** Exit code, null when a signal (or the time-out) ended it. */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The script's folder and working directory: empty but for the script, removed when the test ends. */
  scriptDir: string;
  /** The example's source, as the README has it. */
  example: string;
}

/**
 * Runs a fenced example of `<packageDir>/README.md` as a user would: the script is written under
 * the repo's gitignored `test/.tmp/`, so that `@loadlight/*` resolves through node_modules to the
 * built packages, and runs in its own folder. Call it inside a test: the folder is removed when
 * the test finishes, so the test can still look at what the example wrote there.
 *
 * ```ts
 * const { status, stdout } = runReadmeExample(fileURLToPath(new URL('..', import.meta.url)), { lang: 'js' });
 * ```
 */
export function runReadmeExample(packageDir: string, options: ReadmeExampleOptions): ReadmeExampleRun {
  const { lang, index = 0, timeoutMs = 25_000 } = options;
  const readmeFile = path.join(packageDir, 'README.md');
  const examples = [...readFileSync(readmeFile, 'utf8').matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))];
  const example = examples[index]?.[1];
  if (example === undefined) throw new Error(`${readmeFile} has ${examples.length} \`\`\`${lang} example(s), no example ${index}`);
  for (const dir of new Set([coreDir, path.resolve(packageDir)])) {
    const entry = path.join(dir, 'dist', 'index.js');
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" first`);
  }

  const scratch = path.join(repoRoot, 'test', '.tmp');
  mkdirSync(scratch, { recursive: true });
  const scriptDir = mkdtempSync(path.join(scratch, `readme-${path.basename(packageDir)}-`));
  onTestFinished(() => rmSync(scriptDir, { recursive: true, force: true }));
  const script = path.join(scriptDir, lang === 'ts' ? 'example.ts' : 'example.mjs');
  writeFileSync(script, example);
  const args = lang === 'ts' ? [jitiCli(), script] : [script];
  const result = spawnSync(process.execPath, args, {
    cwd: scriptDir,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (result.error && result.status === null && result.signal === null) throw result.error; // node itself did not start
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr, scriptDir, example };
}

/** jiti's command-line runner, resolved as core resolves its own jiti dependency. */
function jitiCli(): string {
  const manifest = createRequire(path.join(coreDir, 'package.json')).resolve('jiti/package.json');
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: { jiti: string } };
  return path.resolve(path.dirname(manifest), bin.jiti);
}
