/**
 * Hello-world throughput of the http1 server (src/http1/server.ts) beside
 * Bun.serve, measured with wrk when it is installed:
 *
 *   bun bench/http1-server.ts            # both, wrk -t1 -c50 -d5s each
 *   bun bench/http1-server.ts serve [port] # only start the http1 server (default port 18090) for manual runs
 *
 * Numbers depend on the machine; compare the two lines, not absolutes.
 */
import { listen } from "../src/http1/server.ts";

const BODY = new TextEncoder().encode("Hello, World!");
const FIELDS = ["content-type", "text/plain"];

function startEngine(port: number) {
  return listen({
    hostname: "127.0.0.1",
    port,
    handler(_req, res) {
      res.writeHead(200, "OK", FIELDS, BODY.byteLength);
      res.write(BODY);
      res.end();
    },
  });
}

function startBun(port: number) {
  return Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("Hello, World!", { headers: { "content-type": "text/plain" } }) });
}

const mode = process.argv[2];
if (mode === "engine") {
  console.log(`ready ${startEngine(0).port}`);
} else if (mode === "bun") {
  console.log(`ready ${startBun(0).port}`);
} else if (mode === "serve") {
  const port = Number(process.argv[3] ?? 18090);
  startEngine(port);
  console.log(`http1 server on http://127.0.0.1:${port}/`);
} else {
  if (Bun.which("wrk") === null) {
    console.log("wrk is not installed: start `bun bench/http1-server.ts serve` and load it with your own tool");
    process.exit(0);
  }
  const duration = process.env.DURATION ?? "5s";
  for (const [name, which] of [["http1 server", "engine"], ["Bun.serve", "bun"]] as const) {
    // Each server in its own process, so wrk and the server are the only load.
    const child = Bun.spawn([process.execPath, import.meta.path, which], { stdout: "pipe", stderr: "inherit" });
    const reader = child.stdout.getReader();
    const first = await reader.read();
    const port = Number(/ready (\d+)/.exec(new TextDecoder().decode(first.value))?.[1]);
    if (!port) throw new Error("the server did not start");
    const warm = Bun.spawnSync(["wrk", "-t1", "-c50", "-d1s", `http://127.0.0.1:${port}/`]);
    if (warm.exitCode !== 0) throw new Error(`wrk failed: ${warm.stderr.toString()}`);
    const run = Bun.spawnSync(["wrk", "-t1", "-c50", `-d${duration}`, "--latency", `http://127.0.0.1:${port}/`]);
    const out = run.stdout.toString();
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? "?";
    const p50 = /^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? "?";
    const p99 = /^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? "?";
    console.log(`${name.padEnd(14)} ${rps.padStart(12)} req/s   p50 ${p50}   p99 ${p99}`);
    child.kill();
    await child.exited;
  }
}
