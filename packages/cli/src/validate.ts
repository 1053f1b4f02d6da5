import path from 'node:path';
import { loadConfig, Profiler } from '@loadlight/core';
import { parse, shownPath, UsageError } from './args.js';

export const VALIDATE_HELP = `Usage: loadlight validate [--config <file>] [--facts]

Checks the config and every rule file it lists, the way "loadlight run" would load them,
and exits 1 with a message naming the file, the option or rule, and what is wrong.

Options:
  -c, --config <file>  config file (default: perf.config.* found from the current folder)
      --facts          also print the fact catalogue: every fact path rules can use
  -h, --help           show this help
`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

export async function validateCommand(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values, positionals } = parse({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, facts: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    out.write(VALIDATE_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const loaded = await loadConfig(values.config ? { configFile: values.config } : {});
  const profiler = new Profiler(loaded?.config ?? {}, { configFile: loaded?.filepath ?? null, handleExit: false });
  await profiler.prepare();
  const config = profiler.config;
  const lines: string[] = [];
  lines.push(`config: ${loaded ? shownPath(loaded.filepath) : 'no config file found: the embedded default'} (ok)`);
  lines.push(`  plugins: ${config.plugins.map((p) => p.name).join(', ') || '(none)'}`);
  lines.push(`  reporters: ${config.reporters.map((p) => p.name).join(', ') || '(none)'}`);
  lines.push(`  sampling every ${config.sampleIntervalMs} ms, rules over the last ${config.windowSeconds} s, ring of ${config.maxSamples} samples`);
  const stage = profiler.rulesStage;
  if (!stage) {
    lines.push('rules: none');
  } else {
    const rules = stage.rules();
    const inactive = rules.filter((r) => !r.active);
    lines.push(`rules: ${stage.files.length} files, ${rules.length} rules (ok)${inactive.length ? `, ${inactive.length} inactive` : ''}`);
    for (const file of stage.files) lines.push(`  ${shownPath(file.file)}: ${file.rules} rules`);
    for (const rule of inactive) lines.push(`  inactive: "${rule.name}" (${shownPath(rule.file)}): ${rule.inactiveReason ?? "its facts are not available"}`);
  }
  if (values.facts && stage) {
    lines.push('', 'facts (the value rules see over the window):');
    const rows = [['FACT', 'PATH', 'UNIT', 'VALUE', 'DESCRIPTION']];
    for (const entry of stage.factCatalogue()) {
      rows.push([
        entry.fact,
        entry.path,
        entry.unit ?? '',
        entry.aggregate ?? '',
        `${entry.description ?? ''}${entry.available === false ? ` (unavailable: ${entry.reason ?? 'plugin not loaded'})` : ''}`,
      ]);
    }
    lines.push(table(rows));
  }
  out.write(`${lines.join('\n')}\n`);
  return 0;
}
