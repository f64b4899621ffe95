/** The time budget: a comparison past it stops with an incomplete verdict, which callers count as neither match nor mismatch. */
import { describe, expect, test } from "bun:test";
import { compareDocuments, compareMessages, compareRulesSchema, compileRules, DEFAULT_BUDGET_MS, formatVerdict } from "../../../src/compare/index.ts";
import { judgeAA, judgePair } from "../../../src/migration/judge.ts";
import { ResultsBuffer } from "../../../src/migration/results.ts";

const big = (n: number, f: (i: number) => number) => JSON.stringify({ items: Array.from({ length: n }, (_, i) => ({ id: i, v: f(i), name: `item ${i}` })) });
const A = big(200_000, (i) => i);
const B = big(200_000, (i) => (i % 3 === 0 ? -i : i));
const lines = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join("\n");

describe("compare budget", () => {
  test("a JSON pair that cannot be compared within 1 ms: incomplete, neither equal nor a full list", () => {
    const t0 = performance.now();
    const v = compareDocuments(A, B, compileRules({ budget: "1ms" }));
    expect(v.incomplete).toBe(true);
    expect(v.equal).toBe(false);
    expect(v.reason).toMatch(/^the compare budget of 1 ms ran out after \d+ ms$/);
    // The walk stops soon after the deadline (the native parse itself cannot be interrupted).
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(formatVerdict(v)).toStartWith("incomplete: the compare budget of 1 ms ran out");
  });

  test("equal documents whose one-pass check outlasts the budget: incomplete too", () => {
    const reordered = JSON.stringify({ items: (JSON.parse(A) as { items: unknown[] }).items.map((x) => Object.fromEntries(Object.entries(x as object).reverse())) });
    const v = compareDocuments(A, reordered, compileRules({ budget: 1 }));
    expect(v.incomplete).toBe(true);
    expect(compareDocuments(A, reordered, compileRules(), { budgetMs: Number.POSITIVE_INFINITY })).toMatchObject({ equal: true, incomplete: false });
  });

  test("a line diff that cannot finish within 1 ms: incomplete", () => {
    const a = lines(60_000, (i) => `line ${i}`);
    const b = lines(60_000, (i) => (i % 2 === 0 ? `changed ${i}` : `line ${i}`));
    const v = compareDocuments(a, b, compileRules({ budget: "1ms" }));
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
    expect(compileRules({ budget: "2s" }).budgetMs).toBe(2000);
    expect(compileRules({ budget: 250 }).budgetMs).toBe(250);
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
    const rules = compileRules({ budget: "1ms" });
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
    const v = compareMessages({ status: 200, headers: [["x-a", "1"]], body: enc.encode(A) }, { status: 201, headers: [["x-a", "2"]], body: enc.encode(B) }, compileRules({ budget: "1ms" }));
    expect(v.incomplete).toBe(true);
    expect(v.differences.map((d) => d.path)).toEqual(["status", "headers.x-a"]);
  });
});
