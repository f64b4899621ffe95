/**
 * Child process of server-idle.test.ts: an http1 server whose memory the
 * test measures. Prints "ready <port>"; answers each stdin line "stats" with
 * "stats <rss bytes> <connections> <heap bytes>" (after a full GC).
 */
import { listen } from "../../../src/http1/server.ts";

const keepAlive = Number(process.argv[2] ?? 1000);
const body = new TextEncoder().encode("ok");
const server = listen({
  hostname: "127.0.0.1",
  port: 0,
  timeouts: { keepAlive, head: 30_000 },
  handler(_req, res) {
    res.writeHead(200, undefined, [], body.byteLength);
    res.write(body);
    res.end();
  },
});

function stats(): string {
  Bun.gc(true);
  const m = process.memoryUsage();
  return `stats ${m.rss} ${server.connections} ${m.heapUsed}`;
}

process.stdout.write(`ready ${server.port}\n`);
let pending = "";
process.stdin.on("data", (d: Buffer) => {
  pending += d.toString();
  let nl = pending.indexOf("\n");
  while (nl >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (line === "stats") process.stdout.write(`${stats()}\n`);
    if (line === "exit") process.exit(0);
    nl = pending.indexOf("\n");
  }
});
