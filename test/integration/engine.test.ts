/**
 * The data plane on Ficus's own HTTP/1.1 engine (issue 9), end to end through
 * the real CLI: the defects adversarial testing found in the fetch-based data
 * plane, each with a test, against a strict upstream that records the raw
 * bytes it receives.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { type Ficus, rawExchange, rawRequest, startFicus, startUpstream, tempDir, type Upstream, writeConfig } from "../helpers/processes.ts";
import { until } from "../helpers/wait.ts";
import fc from "fast-check";

/** What the recording upstream saw: one entry per connection, the raw bytes as text (latin-1). */
const seen: string[] = [];
let recorder: TCPSocketListener<{ i: number; buf: string; answered: number }>;
let up: Upstream;
let gw: Ficus;

/** Answers each complete request on a connection (Content-Length or chunked bodies), by path. */
function answerReady(s: Socket<{ i: number; buf: string; answered: number }>): void {
  for (;;) {
    const text = s.data.buf.slice(s.data.answered);
    const headEnd = text.indexOf("\r\n\r\n");
    if (headEnd < 0) return;
    const head = text.slice(0, headEnd);
    const line = head.split("\r\n")[0] ?? "";
    let end = headEnd + 4;
    const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (cl) {
      end += Number(cl[1]);
      if (text.length < end) return;
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      const last = text.indexOf("\r\n0\r\n\r\n", headEnd);
      if (last < 0) return;
      end = last + 7;
    }
    s.data.answered += end;
    const path = line.split(" ")[1] ?? "";
    if (path.startsWith("/never")) return;
    if (path.startsWith("/badstatus")) s.write("HTTP/1.1 999 Nope\r\ncontent-length: 0\r\n\r\n");
    else if (path.startsWith("/bighead")) s.write(`HTTP/1.1 200 OK\r\nx-big: ${"a".repeat(80 * 1024)}\r\ncontent-length: 0\r\n\r\n`);
    else s.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${line.length}\r\n\r\n${line}`);
  }
}

beforeAll(async () => {
  recorder = Bun.listen<{ i: number; buf: string; answered: number }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { i: seen.length, buf: "", answered: 0 };
        seen.push("");
      },
      data(s, d) {
        s.data.buf += d.toString("latin1");
        seen[s.data.i] = s.data.buf;
        answerReady(s);
      },
    },
  });
  up = await startUpstream("legacy");
  const cfg = writeConfig(
    tempDir(),
    `
listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
workers: 1
access_log: { enabled: true }
limits: { client_idle_timeout: 1s }
routes:
${["rec", "badstatus", "bighead", "never"].map((name) => `  - name: ${name}\n    match: { prefix: /${name} }\n    upstream: http://127.0.0.1:${recorder.port}\n    retries: { attempts: 0 }\n`).join("")}  - name: api
    match: { prefix: /api }
    upstream: { endpoints: [${up.url}], health: { max_failures: 3 } }
    rewrite: { strip_prefix: /api }
  - name: sized
    match: { prefix: /sized }
    upstream: http://127.0.0.1:${up.raw}
`,
  );
  gw = await startFicus(["-c", cfg]);
});

afterAll(async () => {
  await gw?.stop("SIGKILL");
  await up?.stop();
  recorder?.stop(true);
});

/** Splits a raw answer into responses (Content-Length framed). */
function responses(raw: string): { status: number; head: string; body: string }[] {
  const out: { status: number; head: string; body: string }[] = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) break;
    const head = rest.slice(0, end);
    const len = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    out.push({ status: Number(head.slice(9, 12)), head, body: rest.slice(end + 4, end + 4 + len) });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}

/** The request whose target starts with `marker`, as the upstream received it, to the end of what that connection got. */
function recorded(marker: string): string {
  for (const conn of seen) {
    const at = conn.indexOf(` ${marker}`);
    if (at < 0) continue;
    const method = /[A-Za-z0-9!#$%&'*+.^_\`|~-]+$/.exec(conn.slice(Math.max(0, at - 32), at))?.[0] ?? "";
    return conn.slice(at - method.length);
  }
  return "";
}

describe("requests reach the upstream as sent", () => {
  test("pipelined requests are answered in order on one connection (RFC 9112 §9.3.2)", async () => {
    const raw = await rawRequest(gw.port, "GET /rec/a HTTP/1.1\r\nHost: x\r\n\r\nGET /rec/b HTTP/1.1\r\nHost: x\r\n\r\nGET /rec/c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const rs = responses(raw);
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(rs.map((r) => r.body)).toEqual(["GET /rec/a HTTP/1.1", "GET /rec/b HTTP/1.1", "GET /rec/c HTTP/1.1"]);
  });

  test("exact headers: nothing is added that the client did not send or the config does not add", async () => {
    await rawRequest(gw.port, "GET /rec/exact HTTP/1.1\r\nHost: shop.test\r\nX-Mine: 1\r\nConnection: close\r\n\r\n");
    const all = recorded("/rec/exact");
    const head = all.slice(0, all.indexOf("\r\n\r\n"));
    const names = head.split("\r\n").slice(1).filter((l) => l.includes(":")).map((l) => l.slice(0, l.indexOf(":")).toLowerCase()).sort();
    expect(names).toEqual(["host", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-mine", "x-request-id"]);
  });

  test("a GET with a body is forwarded with its body", async () => {
    await rawRequest(gw.port, "GET /rec/search HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"q\":\"abc\"}");
    expect(recorded("/rec/search")).toMatch(/^GET \/rec\/search HTTP\/1\.1\r\n[^]*?content-length: 11\r\n(?:[^\r\n]+\r\n)*\r\n\{"q":"abc"\}/i);
  });

  test("HTTP/1.0 without Host keeps its path", async () => {
    const raw = await rawRequest(gw.port, "GET /rec/h10?x=1 HTTP/1.0\r\n\r\n");
    expect(raw.startsWith("HTTP/1.1 200")).toBe(true);
    expect(recorded("/rec/h10")).toStartWith("GET /rec/h10?x=1 HTTP/1.1\r\n");
  });

  test("a lowercase or unknown method is a valid token and is forwarded; an invalid one is 400", async () => {
    expect(responses(await rawRequest(gw.port, "get /rec/lower HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))[0]?.body).toBe("get /rec/lower HTTP/1.1");
    expect(responses(await rawRequest(gw.port, "PURGE /rec/purge HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))[0]?.body).toBe("PURGE /rec/purge HTTP/1.1");
    expect(await rawRequest(gw.port, "G@T /rec/bad HTTP/1.1\r\nHost: x\r\n\r\n")).toStartWith("HTTP/1.1 400");
  });

  test("a chunked body that turns malformed part-way never reaches the upstream as a complete request", async () => {
    const raw = await rawRequest(gw.port, "POST /never/cut HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n", 1500);
    expect(raw).toStartWith("HTTP/1.1 400");
    expect(raw).toContain("FICUS_BAD_REQUEST");
    const got = await until(async () => recorded("/never/cut"), (s) => s.length > 0);
    expect(got).toContain("hello");
    expect(got).not.toContain("world");
    expect(got).not.toContain("\r\n0\r\n\r\n");
  });
});

describe("100-continue", () => {
  test("the gateway answers 100 Continue when it reads the body, and the body then reaches the upstream", async () => {
    let got = "";
    await new Promise<void>((done) => {
      void Bun.connect({
        hostname: "127.0.0.1",
        port: gw.port,
        socket: {
          open(s) {
            s.write("POST /rec/expect HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n");
          },
          data(s, d) {
            const first = got === "";
            got += d.toString("latin1");
            // The body goes only after the interim answer, as a client that waits for it does.
            if (first && got.startsWith("HTTP/1.1 100 Continue\r\n\r\n")) s.write("hello");
          },
          close: () => done(),
          error: () => done(),
        },
      });
    });
    expect(got).toStartWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200");
    expect(recorded("/rec/expect")).toMatch(/\r\n\r\nhello/);
  });
});

describe("requests the gateway refuses", () => {
  test("duplicate Host is 400 (RFC 9112 §3.2)", async () => {
    expect(await rawRequest(gw.port, "GET /rec/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")).toStartWith("HTTP/1.1 400");
  });

  test("CONNECT is 405 FICUS_METHOD_NOT_ALLOWED", async () => {
    const raw = await rawRequest(gw.port, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    expect(raw).toStartWith("HTTP/1.1 405");
    expect(raw).toContain("FICUS_METHOD_NOT_ALLOWED");
  });

  test("an absolute-form target is 400 FICUS_BAD_REQUEST, never routed by Host", async () => {
    const raw = await rawRequest(gw.port, "GET http://elsewhere.test/rec/abs HTTP/1.1\r\nHost: elsewhere.test\r\n\r\n");
    expect(raw).toStartWith("HTTP/1.1 400");
    expect(raw).toContain("absolute-form");
    expect(recorded("/rec/abs")).toBe("");
  });
});

describe("upstream faults are the upstream's; client faults are the client's", () => {
  test("a status outside 100–599 is 502 FICUS_UPSTREAM_BAD_RESPONSE with the request id", async () => {
    const res = await fetch(`${gw.url}/badstatus`, { headers: { "x-request-id": "bad-status-1" } });
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: { code: "FICUS_UPSTREAM_BAD_RESPONSE", message: expect.stringContaining("invalid response"), request_id: "bad-status-1" } });
  });

  test("oversized upstream response headers are 502 FICUS_UPSTREAM_BAD_RESPONSE", async () => {
    const res = await fetch(`${gw.url}/bighead`);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("FICUS_UPSTREAM_BAD_RESPONSE");
  });

  test("a client trickling its body gets 408 and never touches the upstream's health", async () => {
    const trickle = async () => {
      const chunks: string[] = [];
      await new Promise<void>((done) => {
        void Bun.connect({
          hostname: "127.0.0.1",
          port: gw.port,
          socket: {
            open(s) {
              s.write("POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab");
            },
            data(_s, d) {
              chunks.push(d.toString());
            },
            close: () => done(),
            error: () => done(),
          },
        });
      });
      return chunks.join("");
    };
    const answers = await Promise.all(Array.from({ length: 6 }, trickle));
    for (const a of answers) {
      expect(a).toStartWith("HTTP/1.1 408");
      expect(a).toContain("FICUS_CLIENT_TIMEOUT");
    }
    const { routes } = (await (await fetch(`${gw.admin}/admin/routes`)).json()) as { routes: { name: string; endpoints: { ejected: boolean; consecutive_failures: number }[] }[] };
    const api = routes.find((r) => r.name === "api");
    expect(api?.endpoints[0]).toMatchObject({ ejected: false, consecutive_failures: 0 });
    expect((await fetch(`${gw.url}/api/echo`)).status).toBe(200);
  });

  test("a response over 256 KiB keeps its Content-Length; a chunked one stays chunked", async () => {
    const sized = await fetch(`${gw.url}/sized?n=600000`);
    expect(sized.headers.get("content-length")).toBe("600000");
    expect(sized.headers.get("transfer-encoding")).toBeNull();
    expect((await sized.arrayBuffer()).byteLength).toBe(600000);
    const chunked = await fetch(`${gw.url}/api/chunked?n=1000`);
    expect(chunked.headers.get("content-length")).toBeNull();
    expect((await chunked.arrayBuffer()).byteLength).toBe(1000);
  });
});

/** Valid messages with a few bytes set, inserted or removed, maybe cut short, and (requests) maybe sent twice in a row. */
function mutations(valid: readonly string[], pipelined: boolean): fc.Arbitrary<Uint8Array> {
  const edit = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("set", "insert", "delete"));
  return fc.tuple(fc.constantFrom(...valid), fc.array(edit, { maxLength: 4 }), fc.option(fc.nat()), fc.boolean()).map(([base, edits, cut, twice]) => {
    const b = [...new TextEncoder().encode(pipelined && twice ? base + base : base)];
    for (const [at, byte, op] of edits) {
      const i = at % (b.length + 1);
      if (op === "set" && i < b.length) b[i] = byte;
      else if (op === "insert") b.splice(i, 0, byte);
      else if (i < b.length) b.splice(i, 1);
    }
    return new Uint8Array(cut === null ? b : b.slice(0, cut % (b.length + 1)));
  });
}

describe("hostile bytes never crash or hang the gateway", () => {
  const valid = [
    "GET /rec/f HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST /rec/f HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    "POST /rec/f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "GET /rec/f HTTP/1.0\r\n\r\n",
  ];
  /** A valid request with a few bytes replaced, inserted or removed, cut short, or doubled (pipelined). */
  const mutated = mutations(valid, true);

  test("200 mutated requests, each on its own connection: every one is answered or closed within the timeouts; the gateway then still serves", async () => {
    // All at once (a cut-short request waits out the client timeout of 1 s), 50 at a time.
    const samples = fc.sample(mutated, { numRuns: 200, seed: 909 });
    const results: { text: string; closedByServer: boolean }[] = [];
    for (let i = 0; i < samples.length; i += 50) results.push(...(await Promise.all(samples.slice(i, i + 50).map((b) => rawExchange(gw.port, b, 3000)))));
    // Never a hang: with limits.client_idle_timeout at 1 s, the gateway closes every connection itself.
    expect(results.flatMap((r, i) => (r.closedByServer ? [] : [new TextDecoder().decode(samples[i])]))).toEqual([]);
    const answers = results.map((r) => r.text);
    for (const [i, answer] of answers.entries()) {
      // Either an HTTP response or nothing (a connection the gateway closed, or a head it still waited for).
      if (answer !== "" && !/^HTTP\/1\.1 [1-5]\d\d /.test(answer)) throw new Error(`sample ${i} ${JSON.stringify(new TextDecoder().decode(samples[i]))} got ${JSON.stringify(answer.slice(0, 80))}`);
    }
    expect(answers.filter((a) => a.startsWith("HTTP/1.1 2")).length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.startsWith("HTTP/1.1 4")).length).toBeGreaterThan(0);
    const res = await fetch(`${gw.url}/rec/after-fuzz`);
    expect(res.status).toBe(200);
    expect(gw.proc.exitCode).toBeNull();
  }, 30_000);
});

describe("hostile upstream answers never crash or hang the gateway", () => {
  test("200 mutated responses: each client gets an HTTP answer or a cut; nothing stays in flight; the gateway lives", async () => {
    const valid = [
      "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 204 No Content\r\n\r\n",
      "HTTP/1.0 200 OK\r\n\r\nuntil close",
    ];
    const mutatedResponse = mutations(valid, false);
    const samples = fc.sample(mutatedResponse, { numRuns: 200, seed: 4242 });
    // Each upstream connection gets the next sample as soon as a request head arrives, then is closed.
    let next = 0;
    const hostile = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(s, d) {
          if (!d.toString("latin1").includes("\r\n\r\n")) return;
          s.write(samples[next++ % samples.length] as Uint8Array);
          s.end();
        },
      },
    });
    const dir = tempDir();
    const cfg = writeConfig(dir, `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\nworkers: 1\naccess_log: { enabled: false }\nlimits: { client_idle_timeout: 1s }\nupstream_connections: { max_idle: 0 }\nroutes:\n  - name: hostile\n    upstream: http://127.0.0.1:${hostile.port}\n    timeouts: { header: 1s, idle: 1s }\n    retries: { attempts: 0 }\n`);
    const g = await startFicus(["-c", cfg]);
    try {
      const outcomes: string[] = [];
      for (let i = 0; i < samples.length; i += 20) {
        outcomes.push(
          ...(await Promise.all(
            Array.from({ length: Math.min(20, samples.length - i) }, async () => {
              try {
                const res = await fetch(`${g.url}/h`, { signal: AbortSignal.timeout(5000) });
                await res.arrayBuffer();
                return String(res.status);
              } catch (err) {
                // A body cut after the head went out: the client must be able to tell, and it can.
                return (err as Error).name === "TimeoutError" ? "hang" : "cut";
              }
            }),
          )),
        );
      }
      expect(outcomes.filter((o) => o === "hang")).toEqual([]);
      for (const o of outcomes) expect(["200", "204", "502", "504", "cut"]).toContain(o);
      expect(outcomes.filter((o) => o === "502").length).toBeGreaterThan(0);
      expect(outcomes.filter((o) => o === "200").length).toBeGreaterThan(0);
      const metrics = async () => (await (await fetch(`${g.admin}/metrics`)).text());
      const inflight = await until(async () => Number(/^ficus_requests_in_flight (\d+)/m.exec(await metrics())?.[1]), (n) => n === 0);
      expect(inflight).toBe(0);
      expect(g.proc.exitCode).toBeNull();
    } finally {
      await g.stop("SIGKILL");
      hostile.stop(true);
    }
  }, 60_000);
});
