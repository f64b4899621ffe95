/** report.html: the line diff it highlights, and escaping of everything recorded. */
import { describe, expect, test } from "bun:test";
import type { Sample } from "../../../src/migration/results.ts";
import { lineDiff, renderHtml } from "../../../src/replay/html.ts";
import type { ReplayReport, ReplayRouteReport } from "../../../src/replay/report.ts";

describe("lineDiff", () => {
  const CASES: [string, string, string, string[]][] = [
    ["equal", "a\nb", "a\nb", ["=a", "=b"]],
    ["one line changed", "a\nb\nc", "a\nB\nc", ["=a", "~b|B", "=c"]],
    ["runs paired in order", "a\nb\nc\nz", "a\nB\nC\nz", ["=a", "~b|B", "~c|C", "=z"]],
    ["added", "a\nc", "a\nb\nc", ["=a", "+b", "=c"]],
    ["removed", "a\nb\nc", "a\nc", ["=a", "-b", "=c"]],
    ["more removed than added", "x\na\nb\ny", "x\nA\ny", ["=x", "~a|A", "-b", "=y"]],
    ["empty to text", "", "a", ["~|a"]],
  ];
  test.each(CASES)("%s", (_name, a, b, want) => {
    const got = lineDiff(a, b).map((op) => ("left" in op ? `~${op.left}|${op.right}` : `${{ same: "=", add: "+", del: "-" }[op.kind]}${op.text}`));
    expect(got).toEqual(want);
  });

  test("very long texts are aligned line by line", () => {
    const a = Array.from({ length: 3000 }, (_, i) => `l${i}`).join("\n");
    const b = a.replace("l1500", "changed");
    const ops = lineDiff(a, b);
    expect(ops).toHaveLength(3000);
    expect(ops.filter((o) => o.kind !== "same")).toEqual([{ kind: "change", left: "l1500", right: "changed" }]);
  });

  test("an insertion near the top of a long text is one added line, not a shifted page", () => {
    const a = Array.from({ length: 5000 }, (_, i) => `l${i}`).join("\n");
    const b = a.replace("l10\n", "l10\ninserted\n");
    expect(lineDiff(a, b).filter((o) => o.kind !== "same")).toEqual([{ kind: "add", text: "inserted" }]);
  });

  test("two long texts with nothing in common are bounded: aligned by position", () => {
    const a = Array.from({ length: 40_000 }, (_, i) => `a${i}`).join("\n");
    const b = Array.from({ length: 40_000 }, (_, i) => `b${i}`).join("\n");
    const t0 = performance.now();
    const ops = lineDiff(a, b);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(ops).toHaveLength(40_000);
    expect(ops[0]).toEqual({ kind: "change", left: "a0", right: "b0" });
  });
});

test("everything from the recording or the services is escaped; the page has no script and fetches nothing", () => {
  const evil = '<script>alert("x")</script><img src=x onerror=alert(1)>';
  const sample: Sample = {
    time: new Date().toISOString(),
    request: { method: "GET", path: `/p?q=${evil}`, headers: { [`x-${"a"}`]: evil }, body: evil },
    legacy: { status: 200, headers: { "content-type": evil }, body: JSON.stringify({ v: evil }), duration_ms: 1 },
    candidate: { status: 200, headers: {}, body: evil, duration_ms: 1 },
    differences: [{ path: `$.${evil}`, kind: "value", severity: "high", legacy: evil, candidate: 1 }],
  };
  const route: ReplayRouteReport = {
    route: evil,
    stage: "replay",
    percent: 0,
    paused: false,
    total: 1,
    shadowed: 1,
    compared: 1,
    matched: 0,
    mismatched: 1,
    noise_only: 0,
    candidate_error: 0,
    candidate_timeout: 0,
    aa_compared: 0,
    skipped: { unsafe_method: 0, body_too_large: 0, concurrency_limit: 0, legacy_failed: 0, legacy_streamed: 0, no_recorded_response: 0, compare_budget: 0 },
    latency: { legacy: { p50_ms: 1, p95_ms: 2, p99_ms: 3 }, candidate: { p50_ms: 1, p95_ms: 2, p99_ms: 3 }, ratio_p50: 1, curve: [{ p: 50, legacy_ms: 1, candidate_ms: 1 }, { p: 99, legacy_ms: 3, candidate_ms: 4 }] },
    signatures: [{ id: "s1", count: 1, status: [200, 200], paths: [evil], severity: "high" }],
    noise: [{ path: evil, source: "manual", candidate_rate: 0, aa_rate: 0, why: evil }],
  };
  const report: ReplayReport = {
    version: 1,
    summary: { mode: "two-services", files: [evil], read: 1, selected: 1, corrupt: 1, compared: 1, matched: 0, mismatched: 1, noise_only: 0, skipped: 0, errors: { legacy: 0, candidate: 1 }, min_severity: "medium", mismatched_counted: 0, mismatch_rate: 1, duration_s: 1, exchanges_per_s: 1 },
    routes: [route],
    errors: [{ file: evil, line: 1, method: "GET", target: evil, side: "candidate", message: evil }],
    corrupt: [{ file: evil, line: 2, message: evil }],
  };
  const html = renderHtml(report, new Map([[evil, new Map([["s1", [sample]]])]]));
  expect(html).not.toContain("<script");
  expect(html).not.toContain("<img");
  // Parsed as a browser would: no element carries an event handler, none is a script or loads anything.
  const tags: string[] = [];
  const attrs: string[] = [];
  new HTMLRewriter()
    .on("*", {
      element(el) {
        tags.push(el.tagName);
        for (const [name] of el.attributes) attrs.push(name);
      },
    })
    .transform(html);
  expect(tags).toContain("table");
  expect(tags).not.toContain("script");
  expect(tags).not.toContain("img");
  expect(attrs.filter((a) => a.startsWith("on") || a === "src")).toEqual([]);
  expect(html).not.toContain("&amp;lt;"); // escaped once, not twice
  expect(html).toContain("&lt;script&gt;");
  expect(html).not.toMatch(/(src|href)=["']?https?:/);
});
