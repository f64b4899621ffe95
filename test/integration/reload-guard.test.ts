/**
 * Reloads that must not take traffic down (issue 8, defect 3): an emptied
 * file, a file written in two steps with a pause between them, and a config
 * that drops most routes. Real gateway process, real file edits.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Ficus, runCli, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";

let up: Upstream;

beforeAll(async () => {
  up = await startUpstream("a");
});
afterAll(async () => {
  await up?.stop();
});

const head = "listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\n";
const routes = (names: readonly string[]) => `routes:\n${names.map((n) => `  - name: ${n}\n    match: { prefix: /${n} }\n    upstream: ${up.url}\n`).join("")}`;

async function status(gw: Ficus, path: string): Promise<number> {
  const res = await fetch(`${gw.url}${path}`);
  await res.arrayBuffer();
  return res.status;
}

const logCount = (gw: Ficus, msg: string) => gw.logs.filter((l) => l.msg === msg).length;

describe("reload guards", () => {
  test("an emptied file is rejected (FICUS_CONFIG_EMPTY) and every route keeps serving", async () => {
    const dir = tempDir();
    const path = writeConfig(dir, head + routes(["a", "b"]));
    const gw = await startFicus(["-c", path]);
    try {
      writeFileSync(path, ""); // `: > ficus.yaml`
      const rejected = await gw.waitForLog((l) => l.msg === "config rejected; keeping the current config");
      expect(rejected.code).toBe("FICUS_CONFIG_EMPTY");
      expect(await status(gw, "/a/x")).toBe(200);
      expect(await status(gw, "/b/x")).toBe(200);
      // Comments alone are no config either.
      writeFileSync(path, "# being edited\n");
      const again = await gw.waitForLog((l) => l.msg === "config rejected; keeping the current config" && l !== rejected);
      expect(again.code).toBe("FICUS_CONFIG_EMPTY");
      expect(await status(gw, "/b/x")).toBe(200);
    } finally {
      await gw.stop();
    }
  });

  test("a file written in parts is read once, after it has settled", async () => {
    const dir = tempDir();
    const settled = `${head}reload: { settle: 1s }\n`;
    const path = writeConfig(dir, settled + routes(["a", "b"]));
    const gw = await startFicus(["-c", path]);
    try {
      const text = settled + routes(["a", "b", "c"]);
      const cut = text.indexOf("  - name: b");
      // Three writes 300 ms apart (a slow copy): each part alone is valid YAML with fewer routes.
      writeFileSync(path, text.slice(0, cut));
      await Bun.sleep(300);
      appendFileSync(path, text.slice(cut, cut + 20));
      await Bun.sleep(300);
      appendFileSync(path, text.slice(cut + 20));
      const reloaded = await gw.waitForLog((l) => l.msg === "config reloaded");
      expect(reloaded.added).toEqual(["c"]);
      expect(reloaded.removed).toEqual([]);
      await Bun.sleep(300);
      expect(logCount(gw, "config reloaded")).toBe(1);
      expect(logCount(gw, "config rejected; keeping the current config")).toBe(0);
      expect(logCount(gw, "config reload refused; keeping the current config")).toBe(0);
      for (const r of ["a", "b", "c"]) expect(await status(gw, `/${r}/x`)).toBe(200);
    } finally {
      await gw.stop();
    }
  });

  test("a truncate-then-write save whose write lands 400 ms later never serves a partial config", async () => {
    const dir = tempDir();
    const path = writeConfig(dir, head + routes(["a", "b", "c"]));
    const gw = await startFicus(["-c", path]);
    let polling = true;
    const statuses: number[] = [];
    const poller = (async () => {
      while (polling) {
        statuses.push(await status(gw, "/c/x"));
        await Bun.sleep(20);
      }
    })();
    try {
      const text = head + routes(["a", "b", "c"]);
      writeFileSync(path, ""); // the editor truncates…
      await Bun.sleep(400);
      writeFileSync(path, text.slice(0, text.indexOf("  - name: b"))); // …writes a first block…
      await Bun.sleep(400);
      appendFileSync(path, text.slice(text.indexOf("  - name: b"))); // …and the rest.
      await gw.waitForLog((l) => l.msg === "config reloaded");
      polling = false;
      await poller;
      const empty = gw.logs.find((l) => l.msg === "config rejected; keeping the current config");
      expect(empty?.code).toBe("FICUS_CONFIG_EMPTY");
      // The half-written file, if the watcher read it (a loaded machine may only see the finished one), was refused.
      const partial = gw.logs.find((l) => l.msg === "config reload refused; keeping the current config");
      if (partial !== undefined) expect(partial.removed).toEqual(["b", "c"]);
      // Route c served throughout: not one 404.
      expect(statuses.length).toBeGreaterThan(10);
      expect(statuses.every((s) => s === 200)).toBe(true);
    } finally {
      polling = false;
      await gw.stop();
    }
  });

  test("a reload removing more than max_removed_routes is refused; --force applies it; the log names what changed", async () => {
    const dir = tempDir();
    const path = writeConfig(dir, head + routes(["a", "b", "c", "d"]));
    const gw = await startFicus(["-c", path]);
    try {
      // Removing 3 of 4 routes (75% > the default 50%): refused, all four keep serving.
      writeFileSync(path, head + routes(["a"]));
      const refused = await gw.waitForLog((l) => l.msg === "config reload refused; keeping the current config");
      expect(refused.code).toBe("FICUS_RELOAD_REFUSED");
      expect(refused.removed).toEqual(["b", "c", "d"]);
      for (const r of ["a", "b", "c", "d"]) expect(await status(gw, `/${r}/x`)).toBe(200);

      // The CLI says the same and exits 1; --force applies it.
      const plain = await runCli(["reload", "--admin", gw.admin]);
      expect(plain.code).toBe(1);
      expect(plain.stderr).toContain("FICUS_RELOAD_REFUSED");
      expect(plain.stderr).toContain("removes 3 of 4 routes (b, c, d)");
      const forced = await runCli(["reload", "--force", "--admin", gw.admin]);
      expect(forced.code).toBe(0);
      expect(forced.stdout).toContain("removed: b, c, d");
      expect(await status(gw, "/a/x")).toBe(200);
      expect(await status(gw, "/b/x")).toBe(404);
      const metrics = await (await fetch(`${gw.admin}/metrics`)).text();
      expect(metrics).toMatch(/ficus_config_reloads_total\{result="refused"\} [12]/);

      // A reload to zero routes is refused even within the share (1 of 1 = every route).
      const res = await fetch(`${gw.admin}/admin/reload`, { method: "POST" });
      expect(res.status).toBe(200); // nothing changed on disk: applying the same file is fine
      writeFileSync(path, `${head}routes: []\n`);
      const none = await gw.waitForLog((l) => l.msg === "config reload refused; keeping the current config" && String(l.reason).includes("no routes"));
      expect(none.removed).toEqual(["a"]);
      expect(await status(gw, "/a/x")).toBe(200);

      // Adding and changing routes is logged by name.
      writeFileSync(path, `${head}routes:\n  - name: a\n    match: { prefix: /a }\n    upstream: ${up.url}\n    timeouts: { header: 5s }\n  - name: e\n    match: { prefix: /e }\n    upstream: ${up.url}\n`);
      const changed = await gw.waitForLog((l) => l.msg === "config reloaded" && Array.isArray(l.added) && (l.added as string[]).includes("e"));
      expect(changed.changed).toEqual(["a"]);
      expect(changed.removed).toEqual([]);
    } finally {
      await gw.stop();
    }
  });

  test("the share is configurable, and judged by the running config", async () => {
    const dir = tempDir();
    const path = writeConfig(dir, `${head}reload: { max_removed_routes: 1 }\n${routes(["a", "b", "c"])}`);
    const gw = await startFicus(["-c", path]);
    try {
      // The new file asks for a strict guard, but the running one allows removing everything but the last route.
      writeFileSync(path, `${head}reload: { max_removed_routes: 0 }\n${routes(["a"])}`);
      const ok = await gw.waitForLog((l) => l.msg === "config reloaded");
      expect(ok.removed).toEqual(["b", "c"]);
      // Now the strict guard is in force: removing the one route left is refused.
      writeFileSync(path, `${head}reload: { max_removed_routes: 0 }\n${routes(["z"])}`);
      const refused = await gw.waitForLog((l) => l.msg === "config reload refused; keeping the current config");
      expect(refused.removed).toEqual(["a"]);
    } finally {
      await gw.stop();
    }
  });

  test("a config reached through symlinks into another folder is reloaded when the target changes or the link is re-pointed", async () => {
    // ficus.yaml -> cm/..data/ficus.yaml, cm/..data -> v1 (the ConfigMap layout, with the data in another folder)
    const dir = tempDir();
    for (const v of ["v1", "v2"]) mkdirSync(join(dir, "cm", v), { recursive: true });
    writeFileSync(join(dir, "cm", "v1", "ficus.yaml"), head + routes(["a"]));
    symlinkSync("v1", join(dir, "cm", "..data"));
    symlinkSync(join(dir, "cm", "..data", "ficus.yaml"), join(dir, "ficus.yaml"));
    const gw = await startFicus(["-c", join(dir, "ficus.yaml")]);
    try {
      // Edited in place, in the folder the link points into.
      writeFileSync(join(dir, "cm", "v1", "ficus.yaml"), head + routes(["a", "b"]));
      const first = await gw.waitForLog((l) => l.msg === "config reloaded");
      expect(first.added).toEqual(["b"]);
      // The link re-pointed atomically to a new version.
      writeFileSync(join(dir, "cm", "v2", "ficus.yaml"), head + routes(["a", "b", "c"]));
      symlinkSync("v2", join(dir, "cm", "..data_tmp"));
      renameSync(join(dir, "cm", "..data_tmp"), join(dir, "cm", "..data"));
      const second = await gw.waitForLog((l) => l.msg === "config reloaded" && l !== first);
      expect(second.added).toEqual(["c"]);
      expect(await status(gw, "/c/x")).toBe(200);
    } finally {
      await gw.stop();
    }
  });
});
