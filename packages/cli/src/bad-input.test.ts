// Property tests of the CLI entry, in process: any argument list, and any session file given to
// `report` and `compare`, ends with exit code 0/1/2 and, on bad input, a clear message on stderr
// (no stack trace, never "unexpected error"); `--help` exits 0. `init --dir` writes inside the
// folder named, whatever the name. A few spawns of the built bin confirm codes and stderr.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopTestProfilers } from '@loadlight/core/testing';
import { main } from './main.js';
import { fixtureSession } from './report/test-support.js';

const ARGV_RUNS = 200;
const SESSION_RUNS = 80;
const DIR_RUNS = 40;

const BIN = fileURLToPath(new URL('../bin/loadlight.js', import.meta.url));
const home = process.cwd();
let sandbox: string;
let sessionFile: string;
let sessionText: string;
let session: Record<string, unknown>;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `main(argv)` with stdout and stderr captured; an exception fails the property. */
async function cli(argv: string[]): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stdout += String(chunk);
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stderr += String(chunk);
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** Runs `fn` with a fresh working folder holding only the valid session.json (init writes there). */
async function inFreshFolder<T>(fn: () => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(sandbox, 'cwd-'));
  writeFileSync(path.join(dir, 'session.json'), sessionText);
  process.chdir(dir);
  try {
    return await fn();
  } finally {
    process.chdir(sandbox);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A refusal: exit 1 and a message that starts with "loadlight", with no stack and no "unexpected error". */
function expectClearError(result: Outcome, what: string): void {
  expect(result.code, `${what}\n${result.stderr}`).toBe(1);
  expect(result.stderr.startsWith('loadlight'), `${what}\n${result.stderr}`).toBe(true);
  expect(result.stderr, what).not.toMatch(/^\s+at .+[:(]\d+/m);
  expect(result.stderr, what).not.toContain('unexpected error');
}

beforeAll(() => {
  sandbox = mkdtempSync(path.join(os.tmpdir(), 'loadlight-cli-bad-input-'));
  process.chdir(sandbox); // report writes relative to the working folder: keep it in here
  session = fixtureSession().session as unknown as Record<string, unknown>;
  sessionText = JSON.stringify(session, null, 2);
  sessionFile = path.join(sandbox, 'session.json');
  writeFileSync(sessionFile, sessionText);
});

afterAll(async () => {
  process.chdir(home);
  await stopTestProfilers();
  rmSync(sandbox, { recursive: true, force: true });
});

/** Arguments: flags of every command, unknown ones, missing values, odd strings, `--` anywhere. */
const word = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '--help', '-h', '--version', '-v', '--config', '-c', '--facts', '--format', '-f', '--out', '-o', '--top', '-n', '--all',
      '--duration', '-d', '--dir', '--force', '--', '-', '--unknown', '-x', '--format=json', '--top=0', '--top=-1', '--duration=0s',
      '--config=', '--=', '---', 'md', 'html', 'json', 'text', 'yaml', '1', '0', '-1', '1e999', 'NaN',
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom('session.json', 'missing.json', '.', 'nowhere/', 'perf.config.json') },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom('\u0000', 'a\u0000b', '\u202e', '\ud800', 'é', '\u2028', 'x'.repeat(10_000), '--format=\u0000', '\r\n') },
);
/** Never a path out of the sandbox: writes (`init`, `report --out`) stay in it. */
const safeWord = word.filter((w) => !w.includes('..') && !path.isAbsolute(w) && !w.includes('\\') && !w.startsWith('~'));
const command = fc.constantFrom('validate', 'report', 'compare', 'init', 'help', 'run', 'recover', 'bogus', '', '--help', '-v', 'REPORT', 'constructor', '__proto__', 'toString', 'hasOwnProperty');

describe('CLI arguments: property tests (in process)', () => {
  it('any argument list exits 0, 1 or 2 with no uncaught error; a refusal is a clear message without a stack', async () => {
    await fc.assert(
      fc.asyncProperty(command, fc.array(safeWord, { maxLength: 6 }), async (name, rest) => {
        // `run` with a command would start it: only its option errors are tried here
        fc.pre(name !== 'run' || !rest.some((w) => !w.startsWith('-') || w === '--' || w === '-'));
        const argv = name === '' ? rest : [name, ...rest];
        const result = await inFreshFolder(() => cli(argv));
        expect([0, 1, 2]).toContain(result.code);
        expect(result.stderr).not.toMatch(/^\s+at .+[:(]\d+/m);
        expect(result.stderr).not.toContain('unexpected error');
        if (result.code === 1) {
          // with no arguments, the help is the message (exit 1)
          if (argv.length === 0) expect(result.stdout).toContain('Usage: loadlight');
          else expect(result.stderr.split('\n')[0]!.startsWith('loadlight'), result.stderr).toBe(true);
        }
      }),
      { numRuns: ARGV_RUNS },
    );
  }, 120_000);

  it('--help of every command exits 0 and prints its usage', async () => {
    for (const name of ['validate', 'report', 'compare', 'init', 'run']) {
      for (const help of ['--help', '-h']) {
        const result = await cli([name, help]);
        expect(result.code, `${name} ${help}`).toBe(0);
        expect(result.stdout).toContain(`Usage: loadlight ${name}`);
        expect(result.stderr).toBe('');
      }
    }
    expect((await cli(['--help'])).code).toBe(0);
  });

  it('unknown flags, missing values and stray arguments give one clear line (and the help hint)', async () => {
    const cases: string[][] = [
      ['validate', '--bogus'],
      ['validate', '--config'],
      ['report'],
      ['report', 'session.json', '--format'],
      ['report', 'session.json', '--format', 'pdf'],
      ['report', 'session.json', '--top', 'many'],
      ['compare', 'session.json'],
      ['compare', 'session.json', 'session.json', '--format', 'xml'],
      ['init', 'stray'],
      ['init', '--dir', ''],
      ['run'],
      ['run', '--duration', 'soon', '--', 'node'],
      ['run', '--duration'],
      ['bogus'],
      ['constructor'],
      ['__proto__'],
      ['toString', '--help'],
      ['report', 'a\u0000b.json'],
      ['validate', '--config', 'a\u0000b.json'],
      ['compare', 'x'.repeat(10_000), 'session.json'],
      ['report', 'session.json', '--out', 'a\u0000b'],
      ['report', 'session.json', '--format', 'html', '--out', 'x'.repeat(300)],
      ['report', 'session.json', '--out', 'no/such/folder/r.txt'],
      ['report', 'session.json', '--out', 'session.json'],
      ['init', '--dir', 'a\u0000b'],
      ['init', '--dir', 'x'.repeat(300)],
      ['validate', '--config', 'x'.repeat(300)],
    ];
    for (const argv of cases) {
      const result = await inFreshFolder(() => cli(argv));
      expectClearError(result, argv.join(' ').slice(0, 80));
      expect(result.stderr).not.toContain('\u0000');
      expect(result.stderr.split('\n').filter(Boolean).length, result.stderr).toBeLessThanOrEqual(2);
    }
  });
});

describe('names and usage errors on the terminal', () => {
  const COMMANDS = 'Commands: run, validate, compare, init, report, recover.';
  const odd = 'a\nb\tc\u200ed\u200fe\u061cf\ufeffg\u202eh\u0007';
  const escaped = 'a\\u000ab\\u0009c\\u200ed\\u200fe\\u061cf\\ufeffg\\u202eh\\u0007';

  it('escapes line breaks, tabs, bidirectional marks and the BOM in an unknown command, a usage error and an unknown option', async () => {
    expect(await cli([odd])).toEqual({ code: 1, stdout: '', stderr: `loadlight: unknown command "${escaped}". ${COMMANDS}\n` });
    expect(await inFreshFolder(() => cli(['report', 'session.json', '--format', odd]))).toEqual({
      code: 1,
      stdout: '',
      stderr: `loadlight report: --format expects text, md or html, got "${escaped}"\nRun "loadlight report --help" for usage.\n`,
    });
    expect(await cli(['validate', `--${odd}`])).toEqual({
      code: 1,
      stdout: '',
      stderr: `loadlight validate: Unknown option '--${escaped}'.\nRun "loadlight validate --help" for usage.\n`,
    });
  });

  it('an empty command is refused like an unknown one; no arguments at all print the help (exit 1)', async () => {
    expect(await cli([''])).toEqual({ code: 1, stdout: '', stderr: `loadlight: no command given (the first argument is empty). ${COMMANDS}\n` });
    expect(await cli(['', 'report'])).toEqual({ code: 1, stdout: '', stderr: `loadlight: no command given (the first argument is empty). ${COMMANDS}\n` });
    const none = await cli([]);
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/^Usage: loadlight <command>/);
    expect(none.stderr).toBe('');
  });
});

describe('validate --config: property tests (in process)', () => {
  const bodies = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((v) => ({ ext: 'json', text: JSON.stringify(v) ?? 'null' })),
    fc.record({ sampleIntervalMs: fc.oneof(fc.integer({ min: -10, max: 100 }), fc.string({ maxLength: 5 })), plugins: fc.constantFrom([], ['sytem'], [5], [['frames', { targetFps: -1 }]], [['io', { host: 'yes' }]]), reporters: fc.constant([]), rules: fc.constantFrom([], ['./none.json']) }).map((c) => ({ ext: 'json', text: JSON.stringify(c) })),
    fc.constantFrom(
      { ext: 'mjs', text: 'throw 42;' },
      { ext: 'mjs', text: 'export default [];' },
      { ext: 'mjs', text: 'export default {' },
      { ext: 'mjs', text: 'export default { get plugins() { throw new Error("getter"); } };' },
      { ext: 'cjs', text: 'module.exports = null;' },
      { ext: 'ts', text: 'const x: number = 1; export default { sampleIntervalMs: x, plugins: [], reporters: [], rules: [] };' },
      { ext: 'ts', text: 'import x from "no-such-package-zz"; export default x;' },
      { ext: 'json', text: '{"__proto__": {"plugins": 5}, "plugins": [], "reporters": [], "rules": []}' },
      { ext: 'json', text: '\ufeff{"plugins": [], "reporters": [], "rules": []}' },
    ),
  );
  it('any config file: exit 0, or exit 1 with a message naming the file, never a stack', async () => {
    await fc.assert(
      fc.asyncProperty(bodies, async ({ ext, text }) => {
        const result = await inFreshFolder(async () => {
          writeFileSync(`perf.config.${ext}`, text);
          return cli(['validate', '--config', `perf.config.${ext}`]);
        });
        expect([0, 1]).toContain(result.code);
        if (result.code === 1) {
          expectClearError(result, text);
          expect(result.stderr).toContain(`perf.config.${ext}`);
        }
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});

/** Every path into a JSON value. */
function paths(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const out = [at];
  if (Array.isArray(value)) value.forEach((item, i) => out.push(...paths(item, [...at, i])));
  else if (value && typeof value === 'object') for (const [k, item] of Object.entries(value)) out.push(...paths(item, [...at, k]));
  return out;
}

const jsonish = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom<unknown>(1e308, -1e308, 2 ** 53 + 1, -0, '', 'x'.repeat(100_000), [], {}, null, '2', 999, -1, true),
);

/** A session file's text: the valid one with one change, cut short, random bytes, deep nesting... */
function sessionVariant(): fc.Arbitrary<string> {
  const all = paths(session);
  const mutated = fc.record({ pick: fc.nat(), kind: fc.constantFrom('replace', 'delete', 'proto'), value: jsonish }).map(({ pick, kind, value }) => {
    const at = all[pick % all.length]!;
    const copy = JSON.parse(sessionText) as Record<string | number, unknown>;
    if (at.length === 0) return JSON.stringify(value);
    let parent = copy;
    for (const step of at.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
    const last = at.at(-1)!;
    if (kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
      return JSON.stringify(copy);
    }
    if (kind === 'proto') {
      // an own "__proto__" key, as a JSON file can hold it
      const target = parent[last];
      const text = JSON.stringify(copy);
      if (target && typeof target === 'object' && !Array.isArray(target)) {
        const inner = JSON.stringify(target);
        return text.replace(inner, `{"__proto__":${JSON.stringify(value)},${inner.slice(1)}`.replace(/,}$/, '}'));
      }
      return text.replace('{', `{"__proto__":${JSON.stringify(value)},`);
    }
    Object.defineProperty(parent, last, { value, enumerable: true, writable: true, configurable: true });
    return JSON.stringify(copy);
  });
  return fc.oneof(
    { weight: 5, arbitrary: mutated },
    { weight: 2, arbitrary: fc.nat().map((at) => sessionText.slice(0, at % sessionText.length)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 100_000 }).map((d) => `{"schemaVersion":2,"x":${'['.repeat(d)}${']'.repeat(d)}}`) },
    { weight: 1, arbitrary: fc.constantFrom('', '   ', '\ufeff', '{"schemaVersion": 99}', '{"schemaVersion": "2"}', '{"schemaVersion": 1e999}', '[]', 'null', '{"__proto__": {"schemaVersion": 2}}') },
  );
}

let files = 0;
function writeSession(text: string): string {
  const file = path.join(sandbox, `variant-${files++}.json`);
  writeFileSync(file, text, 'latin1');
  return file;
}

describe('session files for report and compare: property tests (in process)', () => {
  it('the valid session reports and compares with exit 0', async () => {
    for (const format of ['text', 'md', 'html']) {
      const result = await cli(['report', sessionFile, '--format', format, ...(format === 'html' ? ['--out', 'r.html'] : [])]);
      expect(result.code, result.stderr).toBe(0);
    }
    expect((await cli(['compare', sessionFile, sessionFile])).code).toBe(0);
  });

  it('any changed, cut or random session file: report and compare exit 0, 1 or (compare over budget) 2, naming the file when they refuse it', async () => {
    await fc.assert(
      fc.asyncProperty(sessionVariant(), fc.constantFrom('text', 'md', 'html'), async (text, format) => {
        const file = writeSession(text);
        const name = path.basename(file);
        const runs = [
          await cli(['report', file, '--format', format, '--out', `${name}.out`]),
          await cli(['compare', sessionFile, file, '--format', format === 'html' ? 'json' : format]),
          await cli(['compare', file, sessionFile]),
        ];
        for (const result of runs) {
          expect([0, 1, 2]).toContain(result.code);
          expect(result.stderr).not.toMatch(/^\s+at .+[:(]\d+/m);
          expect(result.stderr).not.toContain('unexpected error');
          if (result.code === 1) {
            expect(result.stderr.startsWith('loadlight'), result.stderr).toBe(true);
            expect(result.stderr).toContain(name);
          }
        }
      }),
      { numRuns: SESSION_RUNS },
    );
  }, 120_000);

  it('a syntax error is placed by line and column; a schema error by JSON path', async () => {
    const cut = writeSession(sessionText.slice(0, sessionText.indexOf('"samples"') + 5));
    const report = await cli(['report', cut]);
    expectClearError(report, 'cut');
    expect(report.stderr).toMatch(/line \d+, column \d+/);
    const wrong = JSON.parse(sessionText) as Record<string, unknown>;
    wrong.schemaVersion = 99;
    const version = await cli(['report', writeSession(JSON.stringify(wrong))]);
    expectClearError(version, 'version');
    expect(version.stderr).toContain('schema version 99');
    const typed = JSON.parse(sessionText) as { host: Record<string, unknown> };
    typed.host.cpus = 'many';
    const schema = await cli(['compare', sessionFile, writeSession(JSON.stringify(typed))]);
    expectClearError(schema, 'schema');
    expect(schema.stderr).toContain('host.cpus');
  });
});

/** Every file and folder under `dir` (symbolic links not followed). */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const full = path.join(at, name);
      out.push(full);
      if (lstatSync(full).isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out;
}

describe('init --dir: property tests', () => {
  it('writes only inside the folder named, whatever the name (../, absolute, NUL, unicode, Windows separators, long)', async () => {
    const root = mkdtempSync(path.join(sandbox, 'init-'));
    const outer = path.join(root, 'outer');
    const inner = path.join(outer, 'a', 'b');
    mkdirSync(inner, { recursive: true });
    const segment = fc.oneof(
      fc.constantFrom('..', '.', 'x', 'CON', 'nul.txt', 'a\\..\\b', '..\\..', 'C:', 'C:\\x', '\u2215', '\u2044', '\uff0f', '\u0000', 'é', ' ', '~', 'x'.repeat(300), '%2e%2e'),
      fc.string({ maxLength: 8 }).filter((s) => s !== ''),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.boolean(), async (segments, absolute, force) => {
        const relative = segments.join('/');
        // `..` may climb, but not out of `outer`: the test must not write about the machine
        fc.pre(path.resolve(inner, relative).startsWith(`${outer}${path.sep}`));
        const dir = absolute ? path.resolve(inner, relative) : relative;
        const before = new Set(tree(outer));
        process.chdir(inner);
        let result: Outcome;
        try {
          result = await cli(['init', '--dir', dir, ...(force ? ['--force'] : [])]);
        } finally {
          process.chdir(sandbox);
        }
        const target = path.resolve(inner, dir);
        const created = tree(outer).filter((file) => !before.has(file));
        const inside = (file: string, folder: string) => file === folder || file.startsWith(`${folder}${path.sep}`);
        for (const file of created) {
          // files only inside the folder; folders inside it, or the folder and its parents (mkdir -p)
          const ok = inside(file, target) || (lstatSync(file).isDirectory() && inside(target, file));
          expect(ok, `${file} for --dir ${JSON.stringify(dir)}`).toBe(true);
        }
        expect([0, 1]).toContain(result.code);
        if (result.code === 1) {
          expect(result.stderr.startsWith('loadlight'), result.stderr).toBe(true);
          expect(result.stderr).not.toMatch(/^\s+at .+[:(]\d+/m);
          expect(result.stderr).not.toContain('unexpected error');
          expect(created.filter((f) => lstatSync(f).isFile())).toEqual([]);
        }
        // nothing outside the outer folder
        expect(readdirSync(root)).toEqual(['outer']);
      }),
      { numRuns: DIR_RUNS },
    );
  }, 120_000);
});

describe('the built bin (spawned)', () => {
  const spawnBin = (args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args], { cwd: sandbox, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', LOADLIGHT_DEBUG: '' } });

  it('exits 0 for --help, 1 with one clear line for bad arguments and bad sessions, without a stack', () => {
    expect(existsSync(BIN)).toBe(true);
    const help = spawnBin(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: loadlight');
    for (const args of [['--bogus'], ['report', '--top', 'x', 'session.json'], ['report', 'missing.json'], ['compare', 'session.json', writeSession('{"schemaVersion":2,')]]) {
      const result = spawnBin(args);
      expect(result.status, args.join(' ')).toBe(1);
      expect(result.stderr.startsWith('loadlight'), result.stderr).toBe(true);
      expect(result.stderr).not.toMatch(/^\s+at .+[:(]\d+/m);
      expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    }
  });
});
