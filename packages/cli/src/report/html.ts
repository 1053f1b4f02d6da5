import type { LoadLevel } from '@loadlight/core';
import { svgChart } from './chart.js';
import { clock, duration, offset, plain, preview, recoveredNote, span, unitLabel, value } from './format.js';
import { faultDisabled, metricFigures, metricSeries, MODULE_COLUMNS, MODULE_NUMERIC, moduleCells, overheadSentence, type MetricRow, type Report } from './model.js';

/** Text or attribute value, escaped for HTML. */
export function esc(text: unknown, max = 2000): string {
  return plain(text, max).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

// Everything the page needs is in this file: no script, no font, no image to fetch. The CSP
// forbids any fetch in case a browser would try.
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const STYLE = `
:root{color-scheme:light dark;--bg:#ffffff;--fg:#1b1f24;--muted:#57606a;--border:#d0d7de;--panel:#f6f8fa;--accent:#0969da;
--green:#1a7f37;--yellow:#9a6700;--red:#cf222e;--blue:#0969da;--grid:#d8dee4}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--border:#3d444d;--panel:#151b23;--accent:#4493f8;
--green:#3fb950;--yellow:#d29922;--red:#f85149;--blue:#4493f8;--grid:#30363d}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1200px;margin:0 auto;padding:24px 16px 48px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--border)}
h3{font-size:15px;margin:20px 0 8px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
.muted{color:var(--muted)}
nav{margin:12px 0;display:flex;flex-wrap:wrap;gap:4px 14px}nav a{color:var(--accent)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px;margin:16px 0}
.card{background:var(--panel);border:1px solid var(--border);border-radius:6px;padding:8px 10px}
.card dt{font-size:12px;color:var(--muted)}.card dd{margin:0;font-size:16px;font-weight:600}
table{border-collapse:collapse;width:100%;margin:4px 0 8px}
th,td{border-bottom:1px solid var(--border);padding:5px 8px;text-align:left;vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto}
.light{display:inline-flex;align-items:center;gap:6px;white-space:nowrap}
.light::before{content:"";width:10px;height:10px;border-radius:50%;background:var(--muted)}
.light.green::before{background:var(--green)}.light.yellow::before{background:var(--yellow)}.light.red::before{background:var(--red)}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;border:1px solid currentColor}
.high,.critical,.failed{color:var(--red)}.medium,.warning{color:var(--yellow)}.low{color:var(--muted)}.info{color:var(--blue)}.ok{color:var(--green)}
ul.recs{list-style:none;padding:0;margin:0}ul.recs li{padding:8px 0;border-bottom:1px solid var(--border)}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:12px}
figure{margin:0;background:var(--panel);border:1px solid var(--border);border-radius:6px;padding:8px 10px}
figcaption{display:flex;flex-direction:column;font-size:12.5px}
figcaption .name{font-weight:600;word-break:break-all}
svg.chart{display:block;width:100%;height:auto;margin-top:4px}
svg .grid{stroke:var(--grid);stroke-width:1;fill:none}
svg .axis{fill:var(--muted);font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
svg .line{stroke:var(--accent);stroke-width:1.6;fill:none;stroke-linejoin:round;stroke-linecap:round;vector-effect:non-scaling-stroke}
.note{font-size:12.5px;color:var(--muted);margin:4px 0}
footer{margin-top:32px;font-size:12.5px;color:var(--muted)}
`;

function light(level: LoadLevel | null): string {
  return level === null ? '<span class="muted">-</span>' : `<span class="light ${level}">${level}</span>`;
}

function tableHtml(header: string[], rows: string[][], numeric: Set<number>, name = ''): string {
  const th = header.map((h, i) => `<th${numeric.has(i) ? ' class="n"' : ''}>${h}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((cell, i) => `<td${numeric.has(i) ? ' class="n"' : ''}>${cell}</td>`).join('')}</tr>`).join('\n');
  return `<div class="scroll"><table${name ? ` data-table="${name}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

/** The group a metric's chart is shown in: its module, or the first part of its name. */
function groupOf(metric: MetricRow): string {
  return metric.module !== null ? `module ${metric.module}` : (metric.name.split('.')[0] ?? metric.name);
}

/** A metric's figure: its chart, or why there is none. */
function chartFigure(report: Report, metric: MetricRow, series: Array<number | null> | undefined): string {
  const unit = unitLabel(metric.unit);
  const title = `${metric.name}${unit ? ` (${unit})` : ''}`;
  const figures = metricFigures(metric);
  const caption =
    `<figcaption><span class="name mono" title="${esc(metric.description)}">${esc(metric.name)}</span>` +
    (figures ? `<span class="muted">mean ${esc(figures.mean)} · p95 ${esc(figures.p95)} · max ${esc(figures.max)}</span>` : '') +
    '</figcaption>';
  if (metric.unavailable) return `<figure data-metric="${esc(metric.name)}">${caption}<p class="note">unavailable: ${esc(metric.unavailable)}</p></figure>`;
  if (!series) return `<figure data-metric="${esc(metric.name)}">${caption}<p class="note">no series in the session</p></figure>`;
  const { svg, path } = svgChart(report.session.samples.t, series, {
    metric: metric.name,
    title: `${title}${metric.description ? `: ${metric.description}` : ''}`,
    format: (v) => value(v, metric.unit),
    formatTime: (ms) => duration(ms),
    start: report.start,
  });
  if (path.values === 0) return `<figure data-metric="${esc(metric.name)}">${caption}<p class="note">no values in this session</p></figure>`;
  return `<figure data-metric="${esc(metric.name)}">${caption}${svg}</figure>`;
}

/** A single self-contained HTML page: summary, module table, recommendations, alerts and a chart of every metric. */
export function renderHtml(report: Report, options: { generator: string }): string {
  const { session } = report;
  const o = session.overhead;
  const body: string[] = [];
  body.push(`<h1>loadlight report</h1>`);
  body.push(
    `<div class="muted">Session <code>${esc(session.sessionId)}</code> · ${esc(clock(report.start))} · ` +
      `${esc(session.host.hostname)} (${esc(session.host.platform)} ${esc(session.host.arch)}, ${session.host.cpus} CPUs, ${esc(value(session.host.totalMemoryMb, 'mb'))}) · ` +
      `Node ${esc(session.node)} · pid ${session.pid}</div>`,
  );
  if (session.recovered) body.push(`<p><strong>Recovered</strong> ${esc(recoveredNote(session.recovered))}.</p>`);
  const cards: Array<[string, string]> = [
    ['Duration', esc(duration(session.durationMs))],
    ['Samples', `${report.samples} <span class="muted">every ${esc(duration(session.config.sampleIntervalMs))}</span>`],
    ['Process load', light(report.processLevel)],
    ['Modules', String(report.moduleCount)],
    ['Recommendations', String(report.recommendations.length)],
    ['Alerts fired', String(report.alerts.length)],
    ['Profiler CPU', esc(value(o.cpuPercent, 'percent'))],
  ];
  if (report.systemLevel) cards.splice(3, 0, ['System load', light(report.systemLevel)]);
  body.push(`<dl class="cards">${cards.map(([k, v]) => `<div class="card"><dt>${k}</dt><dd>${v}</dd></div>`).join('')}</dl>`);
  if (report.ringFull) {
    body.push(`<p class="note">The ring of ${session.config.maxSamples} samples was full: the oldest samples of this run were dropped.</p>`);
  }

  // Chart groups, in catalogue order.
  const groups = new Map<string, MetricRow[]>();
  for (const metric of report.metrics) {
    const group = groupOf(metric);
    const list = groups.get(group) ?? [];
    list.push(metric);
    groups.set(group, list);
  }
  // Fragment ids, unique even for names that differ only in punctuation.
  const anchors = new Map([...groups.keys()].map((g, i) => [g, `g${i}-${g.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 60)}`]));
  const nav = [
    ['modules', 'Modules'],
    ['recommendations', 'Recommendations'],
    ['alerts', 'Alerts'],
    ['actions', 'Actions'],
    ['charts', 'Metrics over time'],
  ];
  body.push(`<nav>${nav.map(([id, label]) => `<a href="#${id}">${label}</a>`).join('')}</nav>`);

  body.push(
    `<h2 id="modules">Modules by CPU${report.moduleCount > report.modules.length ? ` <span class="muted">(top ${report.modules.length} of ${report.moduleCount})</span>` : ''}</h2>`,
  );
  if (report.modules.length === 0) body.push('<p class="note">No modules profiled.</p>');
  else {
    body.push(
      tableHtml(
        MODULE_COLUMNS,
        report.modules.map((m) => [
          light(m.level),
          anchors.has(`module ${m.name}`) ? `<a class="mono" href="#${anchors.get(`module ${m.name}`)}">${esc(m.name)}</a>` : `<span class="mono">${esc(m.name)}</span>`,
          ...moduleCells(m).map((cell) => esc(cell)),
        ]),
        MODULE_NUMERIC,
        'modules',
      ),
    );
  }

  body.push(`<h2 id="recommendations">Recommendations <span class="muted">(${report.recommendations.length})</span></h2>`);
  if (report.recommendations.length === 0) body.push('<p class="note">None.</p>');
  else {
    body.push('<ul class="recs">');
    for (const r of report.recommendations) {
      body.push(
        `<li data-recommendation="${esc(r.id)}"><span class="badge ${esc(r.priority)}">${esc(r.priority)}</span> <code>${esc(r.id)}</code>` +
          (r.module ? ` <span class="muted">module</span> <code>${esc(r.module)}</code>` : '') +
          `<div>${esc(r.message)}</div>` +
          `<div class="note">seen ${r.count} ${r.count === 1 ? 'time' : 'times'}, ${esc(span(Date.parse(r.firstSeen), Date.parse(r.lastSeen), report.start))}` +
          `${r.action ? ` · action <code>${esc(r.action)}</code>` : ''} · rule <code>${esc(r.rule)}</code></div></li>`,
      );
    }
    body.push('</ul>');
  }

  body.push(`<h2 id="alerts">Alerts <span class="muted">(${report.alerts.length} fired)</span></h2>`);
  if (report.alerts.length === 0) body.push('<p class="note">None fired.</p>');
  else {
    body.push(
      tableHtml(
        ['Severity', 'Alert', 'Fired', 'Resolved', 'Message'],
        report.alerts.map((a) => [
          `<span class="badge ${a.severity}">${a.severity}</span>`,
          `<code>${esc(a.id)}</code>${a.module ? ` <span class="muted">(${esc(a.module)})</span>` : ''}`,
          esc(offset(a.firedAt!, report.start)),
          a.resolvedAt === null ? 'still firing' : esc(offset(a.resolvedAt, report.start)),
          esc(a.message),
        ]),
        new Set(),
      ),
    );
  }
  if (report.pendingOnly.length > 0) {
    body.push(`<p class="note">Pending but never fired: ${[...new Set(report.pendingOnly.map((a) => `<code>${esc(a.id)}</code>`))].join(', ')}.</p>`);
  }

  body.push(`<h2 id="actions">Actions <span class="muted">(${report.actions.length})</span></h2>`);
  if (report.actions.length === 0) body.push('<p class="note">None run.</p>');
  else {
    body.push(
      tableHtml(
        ['When', 'Action', 'From', 'Outcome', 'Took', 'Result'],
        report.actions.map((a) => [
          esc(offset(Date.parse(a.at), report.start)),
          `<code>${esc(a.id)}</code>${a.recommendation ? ` <span class="muted">for ${esc(a.recommendation)}</span>` : ''}`,
          esc(a.source),
          a.ok ? '<span class="ok">ok</span>' : `<span class="failed">failed: ${esc(a.error ?? 'error')}</span>`,
          esc(value(a.durationMs, 'ms')),
          `<code>${esc(preview(a.result, 200))}</code>`,
        ]),
        new Set([4]),
      ),
    );
  }
  if (report.faults.length > 0) {
    body.push(`<h2 id="faults">Faults <span class="muted">(${report.faults.length})</span></h2>`);
    body.push(
      tableHtml(
        ['Plugin', 'Hook', 'Times', 'First', 'Message'],
        report.faults.map((f) => {
          const disabled = faultDisabled(f, report.start);
          return [`<code>${esc(f.plugin)}</code>`, `<code>${esc(f.hook)}</code>`, String(f.count), esc(offset(f.firstAt, report.start)), esc(`${f.message}${disabled && ` (${disabled})`}`)];
        }),
        new Set([2]),
      ),
    );
  }

  body.push(`<h2 id="charts">Metrics over time</h2>`);
  body.push(`<nav>${[...groups.keys()].map((g) => `<a href="#${anchors.get(g)}">${esc(g)}</a>`).join('')}</nav>`);
  const moduleLevel = new Map(session.modules.map((m) => [m.name, m.level]));
  for (const [group, metrics] of groups) {
    const module = metrics[0]!.module;
    const level = module !== null ? moduleLevel.get(module) ?? null : null;
    body.push(`<h3 id="${anchors.get(group)}">${module !== null ? `${light(level)} module <code>${esc(module)}</code>` : esc(group)}</h3>`);
    const overTime = metrics.filter((m) => m.derivedFrom === null);
    const derived = metrics.filter((m) => m.derivedFrom !== null);
    if (overTime.length > 0) body.push(`<div class="charts">${overTime.map((m) => chartFigure(report, m, metricSeries(report, m))).join('\n')}</div>`);
    for (const m of derived) {
      body.push(`<p class="note"><code>${esc(m.name)}</code> is a statistic of <code>${esc(m.derivedFrom)}</code> over a window (derived): it has no values over time.</p>`);
    }
  }

  const rules = session.config.rules.map((r) => `<code>${esc(r.file)}</code> (${r.rules})`).join(', ') || 'none';
  body.push(
    `<footer><p>Profiler overhead: ${esc(overheadSentence(o))}.</p>` +
      `<p>Config ${session.config.file ? `<code>${esc(session.config.file)}</code>` : '(embedded default)'}; plugins ${esc(session.config.plugins.join(', ') || 'none')}; ` +
      `reporters ${esc(session.config.reporters.join(', ') || 'none')}; rules ${rules}; rules over the last ${session.config.windowSeconds} s.</p>` +
      `<p>${esc(options.generator)} from <code>${esc(report.file)}</code>.</p></footer>`,
  );

  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>loadlight report: ${esc(session.sessionId, 200)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    `<body><main data-session="${esc(session.sessionId, 200)}">`,
    body.join('\n'),
    '</main></body>',
    '</html>',
    '',
  ].join('\n');
}
