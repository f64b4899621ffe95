/**
 * Throughput of the http1 upstream client (src/http1/client.ts) beside
 * Bun's fetch: N concurrent loops each doing GET and reading the body,
 * against a raw Bun.listen upstream (its own process) that answers every
 * request with the same 100-byte response.
 *
 *   bun bench/http1-client.ts              # concurrency 1, 16, 64; 3 s each
 *   bun bench/http1-client.ts 32 5         # concurrency 32, 5 s
 *
 * Numbers depend on the machine; compare the two columns, not absolutes.
 */
import type { BodySink } from "../src/http1/body.ts";
import { ConnectionPool } from "../src/http1/client.ts";

if (process.argv[2] === "upstream") {
  // 100 bytes: the head and a body that fills the rest.
  const head = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ";
  let bodyLen = 100 - head.length - 6;
  const text = (n: number) => `${head}${n}\r\n\r\n${"x".repeat(n)}`;
  while (text(bodyLen).length > 100) bodyLen--;
  while (text(bodyLen).length < 100) bodyLen++;
  const RESPONSE = Buffer.from(text(bodyLen), "latin1");
  const handlers: Bun.SocketHandler<{ tail: number }, "uint8array"> = {
    binaryType: "uint8array",
    open(s) {
      s.data = { tail: 0 };
    },
    data(s, d) {
      // Count request ends (CRLFCRLF; GETs have no body), across reads.
      let state = s.data.tail;
      let n = 0;
      for (let i = 0; i < d.length; i++) {
        const c = d[i];
        if (c === 13) state = state === 2 ? 3 : 1;
        else if (c === 10) {
          if (state === 3) {
            n++;
            state = 0;
          } else state = state === 1 ? 2 : 0;
        } else state = 0;
      }
      s.data.tail = state;
      if (n === 1) s.write(RESPONSE);
      else if (n > 1) s.write(Buffer.concat(Array.from({ length: n }, () => RESPONSE)));
    },
  };
  const listener = Bun.listen<{ tail: number }>({ hostname: "127.0.0.1", port: 0, socket: handlers as unknown as Bun.SocketHandler<{ tail: number }> });
  console.log(`ready ${listener.port} ${RESPONSE.byteLength}`);
  // Ends with its parent.
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
} else {
  const levels = process.argv[2] ? [Number(process.argv[2])] : [1, 16, 64];
  const seconds = Number(process.argv[3] ?? 3);
  const child = Bun.spawn([process.execPath, import.meta.path, "upstream"], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  if (!first.startsWith("ready")) throw new Error(`upstream did not start: ${first}`);
  const PORT = Number(first.split(" ")[1]);

  const pool = new ConnectionPool({ host: "127.0.0.1", port: PORT, maxIdle: 256 });
  const request = { method: "GET", target: "/bench", fields: ["host", "127.0.0.1", "user-agent", "ficus-bench"] };

  /** Reads a body to its end without keeping it. */
  function drain(body: NonNullable<Awaited<ReturnType<typeof pool.request>["response"]>["body"]>): Promise<void> {
    return new Promise((resolve, reject) => {
      const sink: BodySink = { onData: () => true, onEnd: () => resolve(), onError: (e) => reject(new Error(e.code)) };
      body.start(sink);
    });
  }

  async function poolLoop(until: number): Promise<number> {
    let n = 0;
    while (performance.now() < until) {
      const res = await pool.request(request).response;
      if (res.body !== undefined) await drain(res.body);
      n++;
    }
    return n;
  }

  const url = `http://127.0.0.1:${PORT}/bench`;
  const init = { headers: { "user-agent": "ficus-bench" } };
  async function fetchLoop(until: number): Promise<number> {
    let n = 0;
    while (performance.now() < until) {
      const res = await fetch(url, init);
      await res.arrayBuffer();
      n++;
    }
    return n;
  }

  async function run(loop: (until: number) => Promise<number>, concurrency: number, ms: number): Promise<number> {
    const until = performance.now() + ms;
    const t0 = performance.now();
    const counts = await Promise.all(Array.from({ length: concurrency }, () => loop(until)));
    const elapsed = (performance.now() - t0) / 1000;
    return counts.reduce((a, b) => a + b, 0) / elapsed;
  }

  console.log(`bun ${Bun.version}, ${seconds} s per run, 100-byte responses`);
  console.log("concurrency  ficus pool req/s  fetch req/s  ratio");
  for (const c of levels) {
    await run(poolLoop, c, 300); // warm-up
    await run(fetchLoop, c, 300);
    const ours = await run(poolLoop, c, seconds * 1000);
    const theirs = await run(fetchLoop, c, seconds * 1000);
    console.log(`${String(c).padStart(11)}  ${ours.toFixed(0).padStart(16)}  ${theirs.toFixed(0).padStart(11)}  ${(ours / theirs).toFixed(2)}x`);
  }
  pool.close();
  child.kill();
}
