/**
 * report.html: the replay report as one self-contained page (inline CSS and
 * SVG, no script, nothing fetched), so it opens offline and can be attached
 * to a CI run. Everything taken from the recording or the services is
 * HTML-escaped: a body holding markup shows as text.
 */
import { alignByPosition, alignLines, type LineOp } from "../compare/index.ts";
import type { Sample } from "../migration/results.ts";
import type { ReplayReport, ReplayRouteReport, ReportSamples } from "./report.ts";

const esc = (v: unknown): string =>
  String(v).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;

/** Pretty-prints JSON bodies so that a line diff shows fields; other text is kept as it is. */
function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** Bounds of the report's line diff: past them, lines are shown side by side by position. */
const REPORT_DIFF_LIMITS = { timeoutMs: 100, maxEditLength: 4000 };

/** A line alignment of two texts (the compare engine's Myers diff), position by position when it would cost too much. */
export function lineDiff(a: string, b: string): LineOp[] {
  const la = a.split("\n");
  const lb = b.split("\n");
  return alignLines(la, lb, REPORT_DIFF_LIMITS) ?? alignByPosition(la, lb);
}

function sideBySide(legacy: string, candidate: string): string {
  const rows = lineDiff(pretty(legacy), pretty(candidate)).map((op) => {
    switch (op.kind) {
      case "same":
        return `<tr><td>${esc(op.text)}</td><td>${esc(op.text)}</td></tr>`;
      case "del":
        return `<tr><td class="del">${esc(op.text)}</td><td class="gap"></td></tr>`;
      case "add":
        return `<tr><td class="gap"></td><td class="add">${esc(op.text)}</td></tr>`;
      case "change":
        return `<tr><td class="del">${esc(op.left)}</td><td class="add">${esc(op.right)}</td></tr>`;
    }
  });
  return `<table class="diff"><thead><tr><th>legacy</th><th>candidate</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** Header fields as text, one per line (escaped where it is placed). */
function headersBlock(h: Record<string, string>): string {
  return Object.entries(h)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");
}

function sampleBlock(s: Sample, n: number): string {
  const diffs = s.differences
    .slice(0, 20)
    .map((d) => `<li><code>${esc(d.path)}</code> ${esc(d.kind)}: <span class="del">${esc(JSON.stringify(d.legacy) ?? "(absent)")}</span> → <span class="add">${esc(JSON.stringify(d.candidate) ?? "(absent)")}</span></li>`)
    .join("");
  const req = esc(`${s.request.method} ${s.request.path}\n${headersBlock(s.request.headers)}${s.request.body ? `\n\n${s.request.body}` : ""}`);
  return `<details class="sample"${n === 0 ? " open" : ""}><summary>example ${n + 1}: ${esc(s.request.method)} ${esc(s.request.path)} — status ${s.legacy.status} vs ${s.candidate.status}</summary>
<ul class="differences">${diffs}</ul>
<h4>request</h4><pre class="request">${req}</pre>
<h4>response bodies</h4>${sideBySide(s.legacy.body, s.candidate.body)}
<h4>response headers</h4>${sideBySide(headersBlock(s.legacy.headers), headersBlock(s.candidate.headers))}
</details>`;
}

/** The two latency distributions as percentile curves (SVG, log-scaled latency axis). */
function latencyChart(r: ReplayRouteReport): string {
  const curve = r.latency.curve;
  const values = curve.flatMap((c) => [c.legacy_ms, c.candidate_ms]).filter((v) => v > 0);
  if (values.length === 0) return `<p class="muted">No latency pairs (the recording did not say how long legacy took).</p>`;
  const W = 560;
  const H = 220;
  const L = 56;
  const B = 28;
  const lo = Math.log10(Math.min(...values));
  const hi = Math.log10(Math.max(...values));
  const span = hi - lo || 1;
  const x = (i: number) => L + (i / (curve.length - 1)) * (W - L - 12);
  const y = (v: number) => H - B - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / span) * (H - B - 12);
  const line = (key: "legacy_ms" | "candidate_ms") => curve.map((c, i) => `${x(i).toFixed(1)},${y(c[key]).toFixed(1)}`).join(" ");
  const xLabels = curve.map((c, i) => `<text x="${x(i).toFixed(1)}" y="${H - 8}" text-anchor="middle">p${c.p}</text>`).join("");
  const ticks = [lo, lo + span / 2, hi].map((t) => `<text x="${L - 6}" y="${y(10 ** t).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${esc(ms(10 ** t))}</text>`).join("");
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="latency percentiles of legacy and candidate">
<line x1="${L}" y1="${H - B}" x2="${W - 12}" y2="${H - B}" class="axis"/><line x1="${L}" y1="12" x2="${L}" y2="${H - B}" class="axis"/>
<polyline points="${line("legacy_ms")}" class="legacy"/><polyline points="${line("candidate_ms")}" class="candidate"/>
${xLabels}${ticks}
<text x="${W - 12}" y="20" text-anchor="end" class="legacy-label">legacy</text><text x="${W - 12}" y="36" text-anchor="end" class="candidate-label">candidate</text>
</svg>`;
}

function routeSection(r: ReplayRouteReport, samples: Map<string, readonly Sample[]> | undefined): string {
  const sigs = r.signatures
    .slice(0, 20)
    .map((s) => {
      const examples = (samples?.get(s.id) ?? []).slice(0, 2).map(sampleBlock).join("");
      return `<section class="signature" id="sig-${esc(s.id)}"><h3>×${s.count} <span class="sev ${esc(s.severity)}">${esc(s.severity)}</span> status ${s.status[0]} → ${s.status[1]}</h3>
<p>differs at ${s.paths.map((p) => `<code>${esc(p)}</code>`).join(", ") || "(status only)"}</p>${examples}</section>`;
    })
    .join("");
  const noise = r.noise.length
    ? `<h3>Noise</h3><ul>${r.noise.map((n) => `<li><code>${esc(n.path)}</code> — ${esc(n.source)}: ${esc(n.why)}</li>`).join("")}</ul>`
    : "";
  const lat = (side: "legacy" | "candidate") => `<td>${ms(r.latency[side].p50_ms)}</td><td>${ms(r.latency[side].p95_ms)}</td><td>${ms(r.latency[side].p99_ms)}</td>`;
  return `<section class="route" id="route-${esc(r.route)}"><h2>${esc(r.route)}</h2>
<table class="latency"><thead><tr><th></th><th>p50</th><th>p95</th><th>p99</th></tr></thead><tbody>
<tr><th>legacy</th>${lat("legacy")}</tr><tr><th>candidate</th>${lat("candidate")}</tr></tbody></table>
<p>Median per-request ratio candidate / legacy: ${r.latency.ratio_p50.toFixed(3)}</p>
${latencyChart(r)}
<h3>Mismatch signatures</h3>${sigs || `<p class="muted">None.</p>`}
${noise}</section>`;
}

export function renderHtml(report: ReplayReport, samples: ReportSamples): string {
  const s = report.summary;
  const rows = report.routes
    .map(
      (r) =>
        `<tr><td><a href="#route-${esc(r.route)}">${esc(r.route)}</a></td><td>${r.compared}</td><td>${r.matched}</td><td class="${r.mismatched > 0 ? "bad" : ""}">${r.mismatched}</td><td>${r.noise_only}</td><td>${r.candidate_error + r.candidate_timeout}</td><td>${Object.values(r.skipped).reduce((a, b) => a + b, 0)}</td><td>${r.compared ? pct(r.mismatched / r.compared) : "—"}</td><td>${ms(r.latency.legacy.p50_ms)} / ${ms(r.latency.candidate.p50_ms)}</td><td>${ms(r.latency.legacy.p99_ms)} / ${ms(r.latency.candidate.p99_ms)}</td></tr>`,
    )
    .join("");
  const problems = [
    ...report.errors.slice(0, 100).map((e) => `<li>${esc(e.file)}:${e.line} ${esc(e.method)} ${esc(e.target)} → ${esc(e.side)}: ${esc(e.message)}</li>`),
    ...report.corrupt.slice(0, 100).map((c) => `<li>${esc(c.file)}:${c.line}: skipped: ${esc(c.message)}</li>`),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ficus replay report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#1d2330}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #dde;padding-bottom:4px;margin-top:32px}h3{font-size:15px}h4{font-size:13px;margin:10px 0 4px}
table{border-collapse:collapse}th,td{padding:4px 8px;border:1px solid #dde;text-align:right}td:first-child,th:first-child{text-align:left}
.summary td{text-align:left}.bad{color:#a4161a;font-weight:600}.muted{color:#667}
code,pre,.diff td{font:12px/1.4 ui-monospace,monospace}pre{background:#f6f7f9;padding:8px;overflow:auto;white-space:pre-wrap}
.diff{width:100%;table-layout:fixed}.diff td{text-align:left;white-space:pre-wrap;word-break:break-all;vertical-align:top;border:none;border-right:1px solid #dde}
.del{background:#fde2e1}.add{background:#dcf5e3}.gap{background:#f2f2f2}
.sev{font-size:12px;padding:1px 6px;border-radius:8px;background:#eee}.sev.high{background:#fde2e1}.sev.medium{background:#fff1c7}
.chart .axis{stroke:#99a;stroke-width:1}.chart polyline{fill:none;stroke-width:2}.chart .legacy{stroke:#3d5a98}.chart .candidate{stroke:#d1495b}
.chart text{font-size:11px;fill:#445}.chart .legacy-label{fill:#3d5a98}.chart .candidate-label{fill:#d1495b}
details.sample{margin:8px 0;border:1px solid #dde;padding:6px 10px;border-radius:4px}
</style></head><body>
<h1>Ficus replay report</h1>
<table class="summary"><tbody>
<tr><th>Mode</th><td>${s.mode === "recording" ? "one target against the recorded responses" : "legacy and candidate, live"}</td></tr>
<tr><th>Recordings</th><td>${s.files.map(esc).join("<br>")}</td></tr>
<tr><th>Exchanges</th><td>${s.selected} replayed of ${s.read} read${s.corrupt ? `, ${s.corrupt} corrupt skipped` : ""}, in ${s.duration_s.toFixed(1)} s (${s.exchanges_per_s}/s)</td></tr>
<tr><th>Compared</th><td>${s.compared}: ${s.matched} matched, <span class="${s.mismatched ? "bad" : ""}">${s.mismatched} mismatched</span>, ${s.noise_only} noise only</td></tr>
<tr><th>Mismatch rate</th><td class="${s.mismatch_rate > 0 ? "bad" : ""}">${pct(s.mismatch_rate)}</td></tr>
<tr><th>Errors</th><td>legacy ${s.errors.legacy}, ${s.mode === "recording" ? "target" : "candidate"} ${s.errors.candidate}; ${s.skipped} skipped</td></tr>
</tbody></table>
<h2>Routes</h2>
<table class="routes"><thead><tr><th>route</th><th>compared</th><th>matched</th><th>mismatched</th><th>noise only</th><th>errors</th><th>skipped</th><th>mismatch rate</th><th>p50 legacy / candidate</th><th>p99 legacy / candidate</th></tr></thead>
<tbody>${rows}</tbody></table>
${report.routes.map((r) => routeSection(r, samples.get(r.route))).join("\n")}
${problems.length ? `<h2>Failed requests and skipped input</h2><ul class="problems">${problems.join("")}</ul>` : ""}
<p class="muted">Generated by Ficus · report format ${report.version}</p>
</body></html>
`;
}
