import { readFileSync } from 'node:fs';
import { isLoadlightLike, printable, printableLine, UsageError } from './args.js';
import { RUN_HELP, runCommand } from './run.js';
import { VALIDATE_HELP, validateCommand } from './validate.js';
import { COMPARE_HELP, compareCommand } from './compare/command.js';
import { INIT_HELP, initCommand } from './init.js';
import { REPORT_HELP, reportCommand } from './report/command.js';
import { RECOVER_HELP, recoverCommand } from './recover.js';

export const HELP = `Usage: loadlight <command> [options]

Commands:
  run [--config F] [--duration 30s] -- <command>   profile a program while it runs
  validate [--config F] [--facts]                   check the config and rule files
  compare <baseline.json> <current.json> [--config F] [--format text|md|json]
                                                    compare two sessions; exit 2 when a budget is exceeded
  init [--force] [--dir D]                          write a starter perf.config.ts and the default rules
  report <session.json> [--format text|md|html]    summarise a session (terminal, Markdown, HTML)
  recover <dir> [--force]                           rebuild the sessions of killed processes from their journals

Options:
  -h, --help     show help (also: loadlight <command> --help)
  -v, --version  show the version
`;

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  run: { run: runCommand, help: RUN_HELP },
  validate: { run: validateCommand, help: VALIDATE_HELP },
  compare: { run: compareCommand, help: COMPARE_HELP },
  init: { run: initCommand, help: INIT_HELP },
  report: { run: reportCommand, help: REPORT_HELP },
  recover: { run: recoverCommand, help: RECOVER_HELP },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs the CLI and returns its exit code; errors are printed without a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(HELP);
    return name === undefined ? 1 : 0;
  }
  const commands = `Commands: ${Object.keys(COMMANDS).join(', ')}.`;
  if (name === '') {
    process.stderr.write(`loadlight: no command given (the first argument is empty). ${commands}\n`);
    return 1;
  }
  if (name === '-v' || name === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  // own keys only: `loadlight constructor` is an unknown command, not Object's constructor
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`loadlight: unknown command "${printableLine(name)}". ${commands}\n`);
    return 1;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      // A usage error is one line: an argument quoted in it cannot break it.
      process.stderr.write(`loadlight ${name}: ${printableLine(error.message)}\nRun "loadlight ${name} --help" for usage.\n`);
    } else if (isLoadlightLike(error)) {
      process.stderr.write(`loadlight: ${printable(error.message)}\n`);
    } else {
      const detail = process.env.LOADLIGHT_DEBUG ? (error as Error)?.stack : (error as Error)?.message;
      process.stderr.write(`loadlight: unexpected error: ${printable(detail ?? String(error))}\n(set LOADLIGHT_DEBUG=1 for the stack trace)\n`);
    }
    return 1;
  }
}
