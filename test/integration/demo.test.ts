/** `npm start`: the demo comes up, routes inventory to the rewrite and the rest to legacy, and stops cleanly. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { BUN, ROOT } from "../helpers/processes.ts";

test("the demo migrates one route automatically, rolls the buggy one back, and shows why", async () => {
  const proc = Bun.spawn([BUN, join(ROOT, "demo/run.ts")], { stdout: "pipe", stderr: "pipe", env: { ...process.env, DEMO_LISTEN: "127.0.0.1:0", DEMO_ADMIN: "127.0.0.1:0" } });
  let out = "";
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const until = Date.now() + 45_000;
  while (!out.includes("Ctrl-C stops everything") && Date.now() < until) {
    const { done, value } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  try {
    expect(out).toContain("inventory: shadow    orders: canary 10%");
    expect(out).toMatch(/inventory canary 50%\s+→ candidate\s+by controller: promoted from canary 50% to candidate — all gates passed/);
    expect(out).toMatch(/orders\s+canary 10%\s+→ shadow\s+by controller: rolled back from canary 10% to shadow \(held until resumed\) — gate failed: mismatch_rate/);
    expect(out).toContain("Now:  inventory: candidate    orders: shadow (held)");
    // The comparison found the rewrite's bug, with an example, and learned the random trace id as noise.
    expect(out).toMatch(/MISMATCH ×\d+ \[medium\] status 200→200 at \$\.total/);
    expect(out).toMatch(/e\.g\. GET \/orders\/\d: \$\.total legacy=\d+(\.\d+)? rewrite=\d+(\.\d+)?/);
    expect(out).toContain("noise: $.trace");
    expect(out).not.toMatch(/MISMATCH.*(created_at|\$\.trace|\$\.orders)/);
    const gw = out.match(/gateway\s+(http:\/\/\S+)/)?.[1] as string;
    const res = await fetch(`${gw}/inventory/sku-1001`);
    expect(res.headers.get("x-ficus-served-by")).toBe("candidate");
    expect(((await res.json()) as { sku: string }).sku).toBe("sku-1001");
    const missing = await fetch(`${gw}/orders/999`);
    expect(missing.status).toBe(404);
    await missing.text();
    const created = await fetch(`${gw}/orders`, { method: "POST", body: JSON.stringify({ sku: "sku-1003", qty: 3 }), headers: { "content-type": "application/json" } });
    expect(created.status).toBe(201);
    expect(created.headers.get("x-ficus-served-by")).toBeNull();
    await created.text();
  } finally {
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
  }
});
