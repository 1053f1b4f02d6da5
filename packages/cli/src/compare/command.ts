import path from 'node:path';
import { loadConfig, normalizeConfig, type Budget } from '@loadlight/core';
import { parse, UsageError } from '../args.js';
import { loadSessionFile } from '../report/load.js';
import { checkBudgets, fails } from './budgets.js';
import { compareSessions, DEFAULT_ALPHA, DEFAULT_MIN_CHANGE_PERCENT } from './compare.js';
import { FORMATS, render, type Format } from './render.js';

export const COMPARE_HELP = `Usage: loadlight compare <baseline.json> <current.json> [options]

Compares two session files metric by metric and module by module: the change of each metric
(mean of a gauge, rate per minute of a counter), whether it is better or worse, and whether it
exceeds noise (a Mann-Whitney U test over the per-sample values, corrected for autocorrelation).
Then checks the config's "budgets".

Exit code: 0 when every budget holds (or there are none), 2 when one is exceeded or cannot be
measured, 1 when an input is unusable (a missing, truncated or invalid file, a bad budget).

Options:
  -c, --config <file>     config with the budgets (default: perf.config.* found from the current folder)
  -f, --format <format>   text (default), md (a pull-request comment) or json
      --changed           list only the metrics that moved beyond noise
      --alpha <p>         p-value below which samples count as moved (default ${DEFAULT_ALPHA})
      --min-change <pct>  smallest change, in percent of the baseline, that counts (default ${DEFAULT_MIN_CHANGE_PERCENT})
  -h, --help              show this help
`;

/** Exit code when a budget is exceeded (or cannot be checked). */
export const BUDGET_EXIT_CODE = 2;

function number(text: string | undefined, option: string, check: (n: number) => boolean, expected: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`${option} expects ${expected}, got "${text}"`);
  return n;
}

export async function compareCommand(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values, positionals } = parse({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      format: { type: 'string', short: 'f' },
      changed: { type: 'boolean' },
      alpha: { type: 'string' },
      'min-change': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    out.write(COMPARE_HELP);
    return 0;
  }
  if (positionals.length !== 2) {
    throw new UsageError(
      positionals.length < 2
        ? `expects two session files, the baseline and the current one; got ${positionals.length === 0 ? 'none' : `only "${positionals[0]}"`}`
        : `expects two session files, got ${positionals.length}: unexpected "${positionals[2]}"`,
    );
  }
  const format = (values.format ?? 'text') as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${values.format}"`);
  const alpha = number(values.alpha, '--alpha', (n) => n > 0 && n < 1, 'a p-value between 0 and 1 (such as 0.01)');
  const minChangePercent = number(values['min-change'], '--min-change', (n) => n >= 0, 'a percentage of at least 0 (such as 5)');

  // The config first: a broken one is reported before the sessions are read.
  const loaded = await loadConfig(values.config ? { configFile: values.config } : {});
  let budgets: Record<string, Budget> | null = null;
  let configShown = '';
  if (loaded) {
    normalizeConfig(loaded.config, { configFile: loaded.filepath }); // validates every option, budgets included
    configShown = path.relative(process.cwd(), loaded.filepath) || loaded.filepath;
    if (loaded.config.budgets && Object.keys(loaded.config.budgets).length > 0) budgets = loaded.config.budgets;
  }
  const [baselineFile, currentFile] = positionals as [string, string];
  const baseline = loadSessionFile(baselineFile);
  const current = loadSessionFile(currentFile);
  const comparison = compareSessions(baseline, current, { baseline: baselineFile, current: currentFile }, {
    ...(alpha !== undefined ? { alpha } : {}),
    ...(minChangePercent !== undefined ? { minChangePercent } : {}),
  });
  const results = budgets ? checkBudgets(budgets, comparison, configShown) : null;
  const exitCode = results?.some(fails) ? BUDGET_EXIT_CODE : 0;
  out.write(render(format, { comparison, budgets: results ? { file: configShown, results } : null, changedOnly: values.changed ?? false, exitCode }));
  return exitCode;
}
