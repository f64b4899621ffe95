/**
 * Shadow samples of coded answers: legacy answers gzip and the candidate br,
 * each a JSON body with a "password". The stored sample holds each payload,
 * decoded and redacted, never the compressed bytes; the client still gets
 * legacy's bytes as sent.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gunzipSync, gzipSync } from "node:zlib";
import { type Ficus, startFicus, tempDir, writeConfig } from "../helpers/processes.ts";
import { until } from "../helpers/wait.ts";

type Server = ReturnType<typeof Bun.serve>;

const LEGACY_DOC = JSON.stringify({ user: { password: "legacy-pw-123", name: "a" } });
const CANDIDATE_DOC = JSON.stringify({ user: { password: "cand-pw-456", name: "b" } });

let legacy: Server;
let candidate: Server;
let gw: Ficus;
let storeDir: string;

beforeAll(async () => {
  legacy = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(gzipSync(LEGACY_DOC), { headers: { "content-type": "application/json", "content-encoding": "gzip" } }) });
  candidate = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(brotliCompressSync(CANDIDATE_DOC), { headers: { "content-type": "application/json", "content-encoding": "br" } }) });
  storeDir = tempDir("ficus-coded-samples-");
  const config = `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
workers: 1
store: { path: ${join(storeDir, "results.db")}, flush_interval: 100ms }
routes:
  - name: users
    match: { prefix: /users }
    legacy: http://127.0.0.1:${legacy.port}
    candidate: http://127.0.0.1:${candidate.port}
    stage: shadow
`;
  gw = await startFicus(["-c", writeConfig(storeDir, config)]);
});

afterAll(async () => {
  await gw?.stop();
  await Promise.all([legacy?.stop(true), candidate?.stop(true)]);
});

interface SampleSide {
  status: number;
  headers: Record<string, string>;
  body: string;
}

test("a gzip and a br answer are stored as their redacted payloads; no password reaches the store", async () => {
  const res = await fetch(`${gw.url}/users/1`, { decompress: false } as RequestInit);
  expect(res.headers.get("content-encoding")).toBe("gzip");
  expect(gunzipSync(new Uint8Array(await res.arrayBuffer())).toString()).toBe(LEGACY_DOC);

  const sigs = await until(
    async () => (await (await fetch(`${gw.admin}/admin/migrations/users/signatures`)).json()) as { signatures: { id: string; paths: string[] }[] },
    (s) => s.signatures.length > 0,
  );
  expect(sigs.signatures[0]?.paths).toEqual(["$.user.name", "$.user.password"]);
  const { samples } = (await (await fetch(`${gw.admin}/admin/migrations/users/signatures/${sigs.signatures[0]?.id}/samples`)).json()) as {
    samples: { legacy: SampleSide; candidate: SampleSide; differences: { path: string; legacy: unknown; candidate: unknown }[] }[];
  };
  const sample = samples[0];
  expect(JSON.parse(sample?.legacy.body ?? "")).toEqual({ user: { password: "[redacted]", name: "a" } });
  expect(JSON.parse(sample?.candidate.body ?? "")).toEqual({ user: { password: "[redacted]", name: "b" } });
  expect(sample?.legacy.headers["content-encoding"]).toBeUndefined();
  expect(sample?.candidate.headers["content-type"]).toBe("application/json");

  await Bun.sleep(200);
  for (const f of readdirSync(storeDir).filter((n) => n.startsWith("results.db"))) {
    const bytes = readFileSync(join(storeDir, f), "latin1");
    expect(bytes).not.toContain("legacy-pw-123");
    expect(bytes).not.toContain("cand-pw-456");
  }
});
