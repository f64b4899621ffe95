/**
 * The direction of imports between folders, read from the source files
 * themselves: src/compare may import src/config (the rules schema, units),
 * src/config never imports src/compare, not even through another folder or
 * for a type; and compiling compare rules (src/compare/rules.ts, what the
 * data plane runs per route at every start and reload) loads no zod.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const SRC = join(ROOT, "src");

/** Every module a file names: import and export-from statements (type-only ones too), side-effect imports, import() and require(). */
function importsOf(text: string): string[] {
  const out = new Set<string>();
  // Statements start a line; `[^;]*?` spans a multi-line specifier list.
  for (const m of text.matchAll(/^[ \t]*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm)) out.add(m[1] as string);
  for (const m of text.matchAll(/^[ \t]*import\s*["']([^"']+)["']/gm)) out.add(m[1] as string);
  for (const m of text.matchAll(/\b(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)/g)) out.add(m[1] as string);
  // Bun's own scanner as well: whatever the patterns above miss, it does not.
  for (const i of new Bun.Transpiler({ loader: "ts" }).scanImports(text)) out.add(i.path);
  return [...out];
}

/** Modules a file loads when it runs (Bun's scanner drops type-only imports, as the transpiler does). */
function runtimeImportsOf(text: string): string[] {
  return new Bun.Transpiler({ loader: "ts" }).scanImports(text).map((i) => i.path);
}

function resolveImport(from: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = resolve(dirname(from), spec);
  for (const p of [base, `${base}.ts`, join(base, "index.ts")]) if (existsSync(p) && p.endsWith(".ts")) return p;
  return base;
}

function sourceFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith(".ts")).map((f) => join(dir, f));
}

const rel = (p: string) => relative(ROOT, p);
const under = (p: string, folder: string) => p.startsWith(join(SRC, folder) + "/");

/** A chain of imports from `start` to a file in `folder`, or undefined when none leads there. */
function chainInto(start: string, folder: string, scan: (text: string) => string[]): string[] | undefined {
  const came = new Map<string, string | undefined>([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    if (under(file, folder)) {
      const chain: string[] = [];
      for (let f: string | undefined = file; f !== undefined; f = came.get(f)) chain.unshift(rel(f));
      return chain;
    }
    if (!existsSync(file)) continue;
    for (const spec of scan(readFileSync(file, "utf8"))) {
      const next = resolveImport(file, spec);
      if (next === undefined || came.has(next)) continue;
      came.set(next, file);
      queue.push(next);
    }
  }
  return undefined;
}

describe("importsOf", () => {
  test("finds every form an import of src/compare could take", () => {
    const text = [
      "/** import { x } from \"../compare/commented.ts\" in a comment is prose. */",
      'import { z } from "zod";',
      'import type { CompareRulesConfig } from "../compare/rules.ts";',
      "import {",
      "  compileRules,",
      "  type CompiledRules,",
      '} from "../compare/multi-line.ts";',
      'export * from "../compare/star.ts";',
      'export { type A, b } from "../compare/named.ts";',
      'import "../compare/side-effect.ts";',
      'const lazy = () => import("../compare/dynamic.ts");',
      'const req = () => require("../compare/required.ts");',
    ].join("\n");
    expect(importsOf(text).sort()).toEqual(
      ["zod", "../compare/rules.ts", "../compare/multi-line.ts", "../compare/star.ts", "../compare/named.ts", "../compare/side-effect.ts", "../compare/dynamic.ts", "../compare/required.ts"].sort(),
    );
  });

  test("runtime imports leave type-only ones out", () => {
    expect(runtimeImportsOf('import type { A } from "./a.ts";\nimport { type B } from "./b.ts";\nexport type { C } from "./c.ts";\nimport { d } from "./d.ts";\nd();')).toEqual(["./d.ts"]);
  });
});

describe("src/config ↔ src/compare", () => {
  const configFiles = sourceFiles(join(SRC, "config"));
  const compareFiles = sourceFiles(join(SRC, "compare"));

  test("the scanner sees the folders and the edges it should", () => {
    expect(configFiles.map(rel)).toContain("src/config/compare-schema.ts");
    expect(compareFiles.map(rel)).toContain("src/compare/rules.ts");
    // compare → config is the allowed direction, and is used.
    expect(importsOf(readFileSync(join(SRC, "compare/rules.ts"), "utf8"))).toContain("../config/compare-schema.ts");
    expect(importsOf(readFileSync(join(SRC, "config/schema.ts"), "utf8"))).toContain("./compare-schema.ts");
  });

  test("no file of src/config imports src/compare", () => {
    const bad = configFiles.flatMap((f) =>
      importsOf(readFileSync(f, "utf8"))
        .filter((spec) => {
          const to = resolveImport(f, spec);
          return to !== undefined && under(to, "compare");
        })
        .map((spec) => `${rel(f)} imports ${spec}`),
    );
    expect(bad).toEqual([]);
  });

  test("nor reaches it through another folder", () => {
    const chains = configFiles.flatMap((f) => {
      const chain = chainInto(f, "compare", importsOf);
      return chain ? [chain.join(" → ")] : [];
    });
    expect(chains).toEqual([]);
  });
});

describe("compiling compare rules", () => {
  test("src/compare/rules.ts loads no zod, directly or not", () => {
    const start = join(SRC, "compare/rules.ts");
    const seen = new Set<string>([start]);
    const queue = [start];
    const bare: string[] = [];
    while (queue.length > 0) {
      const file = queue.shift() as string;
      for (const spec of runtimeImportsOf(readFileSync(file, "utf8"))) {
        const next = resolveImport(file, spec);
        if (next === undefined) bare.push(`${rel(file)} imports ${spec}`);
        else if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
    expect(bare.filter((b) => / imports zod(\/|$)/.test(b))).toEqual([]);
    // The walk did run: rules.ts reaches RE2 through src/core/regex.ts.
    expect(bare).toContain("src/core/regex.ts imports re2js");
  });
});

describe("the data plane's folders (issue 9)", () => {
  const files = (folder: string) => sourceFiles(join(SRC, folder));

  test("the proxy, the pipeline and the engine know nothing of migration or recording", () => {
    const chains: string[] = [];
    for (const folder of ["proxy", "pipeline", "http1", "upstream", "routing"]) {
      for (const f of files(folder)) {
        for (const target of ["migration", "record"]) {
          const chain = chainInto(f, target, importsOf);
          if (chain) chains.push(chain.join(" → "));
        }
      }
    }
    expect(chains).toEqual([]);
  });

  test("the HTTP/1.1 engine imports nothing outside src/http1 (no Ficus concepts)", () => {
    const bad = files("http1").flatMap((f) =>
      importsOf(readFileSync(f, "utf8"))
        .filter((spec) => {
          const to = resolveImport(f, spec);
          return to !== undefined ? !under(to, "http1") : !spec.startsWith("bun") && !spec.startsWith("node:");
        })
        .map((spec) => `${rel(f)} imports ${spec}`),
    );
    expect(bad).toEqual([]);
  });

  test("upstreams do not import routing, and routing does not import the proxy", () => {
    const chains = [...files("upstream").map((f) => chainInto(f, "routing", importsOf)), ...files("routing").map((f) => chainInto(f, "proxy", runtimeImportsOf))].filter((c) => c !== undefined).map((c) => c.join(" → "));
    expect(chains).toEqual([]);
  });
});
