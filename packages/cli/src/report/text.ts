import type { LoadLevel } from '@loadlight/core';
import { levelStyle, palette, priorityBadge, severityBadge, visibleWidth, type Palette } from '@loadlight/reporter-console';
import { clock, duration, offset, plain, preview, recoveredNote, span, value } from './format.js';
import { faultDisabled, METRIC_COLUMNS, METRIC_NUMERIC, metricCells, metricsToList, MODULE_COLUMNS, MODULE_NUMERIC, moduleCells, overheadSentence, type Report } from './model.js';

export interface TextOptions {
  color: boolean;
  /** List the per-module metrics too. */
  all: boolean;
}

/** A load level as a coloured light (`● red`), or the plain word without colour. */
function light(p: Palette, level: LoadLevel | null): string {
  if (level === null) return '-';
  return p.enabled ? levelStyle(p, level)(`● ${level}`) : level;
}

/** Columns padded to their widest cell (escape sequences take no room); numbers right-aligned. */
function table(rows: string[][], right: Set<number>, indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleWidth(cell))));
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => {
          const pad = ' '.repeat(widths[i]! - visibleWidth(cell));
          if (i === row.length - 1 && !right.has(i)) return cell;
          return right.has(i) ? pad + cell : cell + pad;
        })
        .join('  '),
  );
}

/** The terminal summary of a session. */
export function renderText(report: Report, options: TextOptions): string {
  const { session } = report;
  const p = palette(options.color);
  const out: string[] = [];
  const heading = (text: string) => {
    out.push('', p.bold(text));
  };
  out.push(`${p.bold('loadlight report')}  ${plain(session.sessionId)}  ${p.dim(plain(report.file))}`);
  out.push(
    `  ${clock(report.start)}, ran ${duration(session.durationMs)}, ${report.samples} samples every ${duration(session.config.sampleIntervalMs)}` +
      (report.ringFull ? ` (ring of ${session.config.maxSamples} full: the oldest samples were dropped)` : ''),
  );
  out.push(
    `  ${plain(session.host.hostname)} (${plain(session.host.platform)} ${plain(session.host.arch)}, ${session.host.cpus} CPUs, ` +
      `${value(session.host.totalMemoryMb, 'mb')}), Node ${plain(session.node)}, pid ${session.pid}`,
  );
  if (session.recovered) out.push(`  ${p.yellow('recovered')} ${recoveredNote(session.recovered)}`);
  out.push(`  load: process ${light(p, report.processLevel)}${report.systemLevel ? `, system ${light(p, report.systemLevel)}` : ''}`);

  heading(report.moduleCount > report.modules.length ? `Modules by CPU (top ${report.modules.length} of ${report.moduleCount})` : `Modules by CPU (${report.moduleCount})`);
  if (report.modules.length === 0) {
    out.push('  no modules profiled');
  } else {
    const rows = [MODULE_COLUMNS.map((h) => p.dim(h.toUpperCase()))];
    for (const m of report.modules) rows.push([light(p, m.level), plain(m.name, 60), ...moduleCells(m)]);
    out.push(...table(rows, MODULE_NUMERIC));
  }

  const { listed, moduleMetrics } = metricsToList(report, options.all);
  heading(`Metrics (${listed.length})`);
  if (!options.all && moduleMetrics > 0) out.push(p.dim(`  ${moduleMetrics} per-module metrics are summed up in the module table; --all lists them`));
  if (listed.length === 0) {
    out.push('  no metrics');
  } else {
    const rows = [METRIC_COLUMNS.map((h) => p.dim(h.toUpperCase()))];
    for (const m of listed) {
      const { cells, note } = metricCells(m, (reason) => plain(reason, 100));
      if (note) cells[3] = p.dim(cells[3]!);
      rows.push([plain(m.name, 80), ...cells]);
    }
    out.push(...table(rows, METRIC_NUMERIC));
  }

  heading(`Recommendations (${report.recommendations.length})`);
  if (report.recommendations.length === 0) out.push('  none');
  for (const r of report.recommendations) {
    const seen = `${r.count} ${r.count === 1 ? 'time' : 'times'}, ${span(Date.parse(r.firstSeen), Date.parse(r.lastSeen), report.start)}`;
    out.push(`  ${priorityBadge(p, r.priority)}  ${p.bold(plain(r.id, 100))}${r.module ? ` (${plain(r.module, 60)})` : ''}  ${p.dim(seen)}`);
    out.push(`    ${plain(r.message, 1000)}`);
    if (r.action) out.push(`    ${p.dim(`action: ${plain(r.action, 100)}`)}`);
  }

  heading(`Alerts (${report.alerts.length} fired)`);
  if (report.alerts.length === 0) out.push('  none fired');
  for (const a of report.alerts) {
    const resolved = a.resolvedAt === null ? 'still firing at the end' : `resolved ${offset(a.resolvedAt, report.start)}`;
    out.push(`  ${severityBadge(p, a.severity)}  ${p.bold(plain(a.id, 100))}${a.module ? ` (${plain(a.module, 60)})` : ''}  fired ${offset(a.firedAt!, report.start)}, ${resolved}`);
    out.push(`    ${plain(a.message, 1000)}`);
  }
  if (report.pendingOnly.length > 0) {
    out.push(p.dim(`  pending but never fired: ${[...new Set(report.pendingOnly.map((a) => plain(a.id, 100)))].join(', ')}`));
  }

  heading(`Actions (${report.actions.length})`);
  if (report.actions.length === 0) out.push('  none run');
  for (const a of report.actions) {
    const outcome = a.ok ? p.green('ok') : p.red(`failed: ${plain(a.error ?? 'error', 200)}`);
    const result = preview(a.result);
    out.push(
      `  ${offset(Date.parse(a.at), report.start)}  ${p.bold(plain(a.id, 100))} from ${plain(a.source, 40)}: ${outcome} in ${value(a.durationMs, 'ms')}` +
        (a.recommendation ? `, for ${plain(a.recommendation, 100)}` : '') +
        (result ? p.dim(` -> ${result}`) : ''),
    );
  }

  if (report.faults.length > 0) {
    heading(`Faults (${report.faults.length})`);
    for (const f of report.faults) {
      const disabled = faultDisabled(f, report.start);
      out.push(`  ${p.red(plain(f.plugin, 60))} in ${plain(f.hook, 40)}: ${plain(f.message, 300)} (${f.count} ${f.count === 1 ? 'time' : 'times'}, from ${offset(f.firstAt, report.start)}${disabled && `; ${disabled}`})`);
    }
  }

  heading('Profiler overhead');
  out.push(`  ${overheadSentence(session.overhead)}`);
  return `${out.join('\n')}\n`;
}
