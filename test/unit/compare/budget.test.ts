/** The time budget: a comparison past it stops with an incomplete verdict, which callers count as neither match nor mismatch. */
import { describe, expect, test } from "bun:test";
import { compareDocuments, compareMessages, compareRulesSchema, compileRules, compileRulesInput, DEFAULT_BUDGET_MS, formatVerdict } from "../../../src/compare/index.ts";
import { NORMALIZE_MAX_CHARS } from "../../../src/compare/rules.ts";
import { judgeAA, judgePair } from "../../../src/migration/judge.ts";
import { ResultsBuffer } from "../../../src/migration/results.ts";

const big = (n: number, f: (i: number) => number) => JSON.stringify({ items: Array.from({ length: n }, (_, i) => ({ id: i, v: f(i), name: `item ${i}` })) });
const A = big(200_000, (i) => i);
const B = big(200_000, (i) => (i % 3 === 0 ? -i : i));
const lines = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join("\n");

describe("compare budget", () => {
  test("a JSON pair that cannot be compared within 1 ms: incomplete, neither equal nor a full list", () => {
    // The native parse cannot be interrupted: what it costs on this machine, now, is the yardstick.
    const p0 = performance.now();
    JSON.parse(A);
    JSON.parse(B);
    const parseMs = performance.now() - p0;
    const t0 = performance.now();
    const v = compareDocuments(A, B, compileRulesInput({ budget: "1ms" }));
    const tookMs = performance.now() - t0;
    expect(v.incomplete).toBe(true);
    expect(v.equal).toBe(false);
    expect(v.reason).toMatch(/^the compare budget of 1 ms ran out after \d+ ms$/);
    // The walk stops soon after the deadline: about the parse, far from the whole comparison.
    const fullMs = (() => {
      const f0 = performance.now();
      compareDocuments(A, B, compileRules(), { budgetMs: Number.POSITIVE_INFINITY });
      return performance.now() - f0;
    })();
    expect(tookMs).toBeLessThan(Math.max(parseMs * 3 + 100, fullMs / 2));
    expect(formatVerdict(v)).toStartWith("incomplete: the compare budget of 1 ms ran out");
  });

  test("equal documents whose one-pass check outlasts the budget: incomplete too", () => {
    const reordered = JSON.stringify({ items: (JSON.parse(A) as { items: unknown[] }).items.map((x) => Object.fromEntries(Object.entries(x as object).reverse())) });
    const v = compareDocuments(A, reordered, compileRulesInput({ budget: 1 }));
    expect(v.incomplete).toBe(true);
    expect(compareDocuments(A, reordered, compileRules(), { budgetMs: Number.POSITIVE_INFINITY })).toMatchObject({ equal: true, incomplete: false });
  });

  test("a line diff that cannot finish within 1 ms: incomplete", () => {
    const a = lines(60_000, (i) => `line ${i}`);
    const b = lines(60_000, (i) => (i % 2 === 0 ? `changed ${i}` : `line ${i}`));
    const v = compareDocuments(a, b, compileRulesInput({ budget: "1ms" }));
    expect(v.incomplete).toBe(true);
    const done = compareDocuments(a, b, compileRules(), { budgetMs: Number.POSITIVE_INFINITY });
    expect(done.incomplete).toBe(false);
    expect(done.truncated).toBe(true);
  });

  test("within the budget nothing changes; the budget defaults to 50 ms and is validated", () => {
    const v = compareDocuments('{"a":1}', '{"a":2}');
    expect(v).toMatchObject({ equal: false, incomplete: false });
    expect(v.reason).toBeUndefined();
    expect(compileRules().budgetMs).toBe(DEFAULT_BUDGET_MS);
    expect(compileRulesInput({ budget: "2s" }).budgetMs).toBe(2000);
    expect(compileRulesInput({ budget: 250 }).budgetMs).toBe(250);
    for (const bad of ["fast", "0ms", "1m"]) {
      const r = compareRulesSchema.safeParse({ budget: bad });
      expect(r.success).toBe(false);
      expect(r.error?.issues[0]?.path).toEqual(["budget"]);
    }
  });

  test("judging: an incomplete verdict is skipped.compare_budget, not compared, matched or mismatched", () => {
    const buffer = new ResultsBuffer(1);
    const enc = new TextEncoder();
    const answer = (doc: string) => ({ status: 200, headers: [["content-type", "application/json"]] as [string, string][], body: enc.encode(doc), durationMs: 2 });
    const rules = compileRulesInput({ budget: "1ms" });
    const j = judgePair(buffer, "orders", answer(A), answer(B), rules, new Set(), () => {
      throw new Error("no sample for an incomplete verdict");
    });
    expect(j.outcome).toBe("incomplete");
    judgeAA(buffer, "orders", answer(A), answer(B), rules);
    const counters = buffer.drain().get("orders")?.counters;
    expect(Object.fromEntries(counters ?? [])).toEqual({ "skipped.compare_budget": 1 });
  });

  test("messages too: the headers found before the budget ran out are kept", () => {
    const enc = new TextEncoder();
    const v = compareMessages({ status: 200, headers: [["x-a", "1"]], body: enc.encode(A) }, { status: 201, headers: [["x-a", "2"]], body: enc.encode(B) }, compileRulesInput({ budget: "1ms" }));
    expect(v.incomplete).toBe(true);
    expect(v.differences.map((d) => d.path)).toEqual(["status", "headers.x-a"]);
  });
});

describe("normalize within the budget", () => {
  // The largest pattern still accepted, every instruction alive on letters: ~25 µs per character.
  const hostile = compileRulesInput({ normalize: [{ path: "$..*", pattern: "[a-z]{1000}[0-9]", replace: "X" }] });
  const docs = (count: number, length: number) => {
    const s = "abcdefghij".repeat(length / 10);
    const doc = (end: string) => JSON.stringify({ items: Array.from({ length: count }, (_, i) => ({ i, s: `${s}${end}` })) });
    return [doc("a"), doc("b")] as const;
  };

  test("regression: a costly pattern on many differing strings stops near the 50 ms budget (was 5 s for 20 strings of 10 KB)", () => {
    for (const [count, length] of [
      [200, 1000],
      [20, 10_000],
      [2, 60_000],
    ] as const) {
      const [a, b] = docs(count, length);
      const t0 = performance.now();
      const v = compareDocuments(a, b, hostile);
      // Near the budget, far from the seconds it took before; generous for a loaded machine.
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(v.incomplete).toBe(true);
      // Usually the estimate refuses the pattern; on a loaded machine the walk may reach the deadline first.
      expect(v.reason).toMatch(/^the compare budget of 50 ms ran out(: normalize\[0\] at \$\.items\[\d+\]\.s could take up to \d+ ms on a string of \d+ characters, and \d+ ms were left| after \d+ ms)$/);
    }
  });

  test("regression: a string over 64 KiB is not run through a pattern; the verdict says so (offline too)", () => {
    const [a, b] = docs(1, 200_000);
    const t0 = performance.now();
    const v = compareDocuments(a, b, hostile, { budgetMs: Number.POSITIVE_INFINITY });
    expect(performance.now() - t0).toBeLessThan(250);
    expect(v).toMatchObject({ equal: false, incomplete: true });
    expect(v.reason).toBe(`normalize[0] ([a-z]{1000}[0-9]) was not applied at $.items[0].s: the string has 200001 characters, more than the ${NORMALIZE_MAX_CHARS} a pattern is run on`);
  });

  test("equal strings are never run through a pattern, however long", () => {
    const s = "abcdefghij".repeat(10_000);
    const a = JSON.stringify({ items: Array.from({ length: 50 }, (_, i) => ({ i, s })) });
    const b = JSON.stringify({ items: Array.from({ length: 50 }, (_, i) => ({ s, i })) });
    const t0 = performance.now();
    // No budget: had a pattern run, the 64 KiB cap would make the verdict incomplete.
    // (With the default 50 ms budget a slow CI machine ran out of time just parsing 10 MB.)
    expect(compareDocuments(a, b, hostile, { budgetMs: Number.POSITIVE_INFINITY })).toMatchObject({ equal: true, incomplete: false });
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  test("a replacement whose result would pass 1 Mi characters stops the comparison", () => {
    const rules = compileRulesInput({ normalize: [{ path: "$.s", pattern: "", replace: "$'" }] });
    const v = compareDocuments(JSON.stringify({ s: "a".repeat(10_000) }), JSON.stringify({ s: "b".repeat(10_000) }), rules);
    expect(v.incomplete).toBe(true);
    expect(v.reason).toBe("normalize[0] () was not applied at $.s: its result would be longer than 1048576 characters");
  });

  test("cheap patterns on ordinary strings are unaffected", () => {
    const rules = compileRulesInput({ normalize: [{ path: "$..id", pattern: "^[0-9a-f-]{36}$", replace: "<uuid>" }] });
    const doc = () => JSON.stringify({ items: Array.from({ length: 500 }, (_, i) => ({ id: crypto.randomUUID(), n: i })) });
    // A budget a loaded test machine cannot exhaust: what is checked is that the cost estimate never refuses a cheap pattern.
    expect(compareDocuments(doc(), doc(), rules, { budgetMs: 10_000 })).toMatchObject({ equal: true, incomplete: false });
  });
});
