/**
 * A preload that records which modules a process loads: `bun --preload test/helpers/module-trace.ts …`, or
 * `BUN_OPTIONS="--preload …/module-trace.ts"` in the environment to reach the processes it spawns too (workers).
 * Without FICUS_MODULE_TRACE nothing is recorded; with it, the list of loaded files is written as JSON to
 * `$FICUS_MODULE_TRACE/<pid>.json` when the process exits, and to `<pid>.usr2.json` on SIGUSR2 (a snapshot,
 * e.g. right after the first response). Used by bench/startup.ts and test/integration/worker-modules.test.ts.
 *
 * Bun has no list of loaded modules, so three sources are combined, none of which changes a resolution:
 * - a runtime plugin's onResolve hook: every relative import (static, dynamic, most require()s) with the
 *   importing file, so a package shows up through the files of it that import each other (zod, yaml, commander,
 *   hono, diff, @opentelemetry/*). Bun does not call it for bare package specifiers;
 * - Module.prototype.require: the require() calls inside CommonJS packages (prom-client, hdr-histogram-js);
 * - the static imports of every file of ours that was loaded (Bun.Transpiler.scanImports; type-only imports are
 *   not imports): a static import always loads, which catches one-file packages such as re2js.
 */
import { readFileSync, writeFileSync } from "node:fs";
import Module from "node:module";
import { dirname, join } from "node:path";

const out = process.env.FICUS_MODULE_TRACE;
if (out) {
  const seen: [specifier: string, importer: string][] = [];
  let resolving = false;
  Bun.plugin({
    name: "module-trace",
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (!resolving) seen.push([args.path, args.importer]);
        return undefined;
      });
    },
  });
  const proto = Module.prototype as unknown as { require(this: { filename?: string }, id: string): unknown };
  const require0 = proto.require;
  proto.require = function (this: { filename?: string }, id: string) {
    if (!resolving && this.filename) seen.push([id, this.filename]);
    return require0.call(this, id);
  };
  const transpiler = new Bun.Transpiler({ loader: "ts" });
  const ours = /\.(ts|tsx|mts)$/;
  /** Every file loaded so far (node: and bun: builtins as they are), sorted. */
  const modules = (): string[] => {
    const files = new Set<string>();
    const resolve = (spec: string, importer: string) => {
      if (!importer || importer === "bun:main" || spec.startsWith("node:") || spec.startsWith("bun:")) return spec;
      try {
        return Bun.resolveSync(spec, dirname(importer));
      } catch {
        return spec;
      }
    };
    // Bun.resolveSync goes through the hook again: resolve a snapshot, with recording off.
    const pairs = seen.slice();
    resolving = true;
    try {
      for (const [spec, importer] of pairs) {
        if (importer && importer !== "bun:main") files.add(importer);
        files.add(resolve(spec, importer));
      }
      for (const file of [...files]) {
        if (!ours.test(file) || file.includes("/node_modules/")) continue;
        let imports: { path: string; kind: string }[];
        try {
          imports = transpiler.scanImports(readFileSync(file, "utf8"));
        } catch {
          continue;
        }
        for (const i of imports) if (i.kind === "import-statement") files.add(resolve(i.path, file));
      }
    } finally {
      resolving = false;
    }
    return [...files].sort();
  };
  const write = (name: string) => writeFileSync(join(out, name), JSON.stringify(modules()));
  process.on("exit", () => write(`${process.pid}.json`));
  process.on("SIGUSR2", () => write(`${process.pid}.usr2.json`));
}
