/**
 * The latency client of bench/sidecar.sh: GET requests on one keep-alive
 * connection at a fixed rate (each sent at its scheduled time, or as soon as
 * the previous answer is in when that is later: as `hey -c 1 -q RATE`),
 * timed with Bun.nanoseconds from the first byte written to the last byte of
 * the answer read. hey prints its percentiles to 0.1 ms, too coarse for a
 * 0.3 ms target; this prints them to the microsecond.
 *
 *   bun bench/sidecar.ts URL RATE SECONDS [HEADER: VALUE]...
 *
 * Prints one JSON line: { n, p50, p90, p99, p999, max (ms), over1ms, statuses }.
 * Exits non-zero when an answer is not 200 or the connection fails.
 * Answers must carry Content-Length (nginx's and Ficus's do); no chunked bodies.
 */
export {};

const [url, rateArg, secondsArg, ...headerArgs] = process.argv.slice(2);
if (url === undefined || rateArg === undefined || secondsArg === undefined) {
  console.error("usage: bun bench/sidecar.ts URL RATE SECONDS [HEADER: VALUE]...");
  process.exit(2);
}
const u = new URL(url);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const hasHost = headerArgs.some((h) => /^host:/i.test(h));
const request = new TextEncoder().encode(
  `GET ${u.pathname}${u.search} HTTP/1.1\r\n${hasHost ? "" : `Host: ${u.host}\r\n`}${headerArgs.map((h) => `${h}\r\n`).join("")}\r\n`,
);

const samples: number[] = [];
const statuses = new Map<number, number>();
let sentAt = 0;
let buf = "";
let onAnswer: (() => void) | undefined;
let failed: Error | undefined;

/** The status when `buf` holds a whole answer (head and Content-Length body), else undefined; consumes it. */
function takeAnswer(): number | undefined {
  const end = buf.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const head = buf.slice(0, end);
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const length = m ? Number(m[1]) : 0;
  if (buf.length < end + 4 + length) return undefined;
  buf = buf.slice(end + 4 + length);
  return Number(head.slice(9, 12));
}

const socket = await Bun.connect({
  hostname: u.hostname,
  port: Number(u.port || 80),
  socket: {
    data(_s, chunk) {
      buf += chunk.toString("latin1");
      const status = takeAnswer();
      if (status === undefined) return;
      samples.push((Bun.nanoseconds() - sentAt) / 1e6);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      onAnswer?.();
    },
    close() {
      failed ??= new Error("the server closed the connection");
      onAnswer?.();
    },
    error(_s, e) {
      failed = e;
      onAnswer?.();
    },
  },
});
socket.setNoDelay(true);

const interval = 1e9 / rate;
const start = Bun.nanoseconds();
const stopAt = start + seconds * 1e9;
let next = start;
while (next < stopAt && failed === undefined) {
  const wait = (next - Bun.nanoseconds()) / 1e6;
  if (wait > 0) await Bun.sleep(wait);
  const answered = new Promise<void>((done) => {
    onAnswer = done;
  });
  sentAt = Bun.nanoseconds();
  socket.write(request);
  await answered;
  next += interval;
}
const failure = failed;
socket.end();
if (failure !== undefined) {
  console.error(`bench/sidecar.ts: ${failure.message}`);
  process.exit(1);
}

samples.sort((a, b) => a - b);
const at = (q: number) => Number((samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] as number).toFixed(3));
const result = {
  n: samples.length,
  p50: at(0.5),
  p90: at(0.9),
  p99: at(0.99),
  p999: at(0.999),
  max: at(1),
  over1ms: samples.filter((s) => s > 1).length,
  statuses: Object.fromEntries(statuses),
};
console.log(JSON.stringify(result));
if ([...statuses.keys()].some((s) => s !== 200)) process.exit(1);
