/**
 * 10,000 idle kept-alive connections: the server (a child process, so its
 * memory is its own) stays small, and the keep-alive timeout closes every
 * one of them.
 */
import { expect, test } from "bun:test";
import type { Socket } from "bun";

const WANT = 10_000;
const KEEP_ALIVE_MS = 2000;

/** The soft limit on open files of a shell started here. */
function fileLimit(): number {
  const r = Bun.spawnSync(["sh", "-c", "ulimit -n"]);
  const n = Number(r.stdout.toString().trim());
  return Number.isFinite(n) ? n : 1024;
}

type Reader = { read(): Promise<{ value?: Uint8Array; done: boolean }> };

class Lines {
  #buf = "";
  #reader: Reader;
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader() as unknown as Reader;
  }
  async next(): Promise<string> {
    for (;;) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        return line;
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("the child ended");
      this.#buf += new TextDecoder().decode(value);
    }
  }
}

test(
  "10,000 idle kept-alive connections: bounded server memory, all closed by the keep-alive timeout",
  async () => {
    const limit = fileLimit();
    const n = Math.min(WANT, limit - 500);
    if (n < WANT) {
      if (process.env.CI) throw new Error(`the open-file limit (${limit}) is too low for ${WANT} connections`);
      console.warn(`only ${n} connections: the open-file limit is ${limit}`);
    }
    // The child may raise its own soft limit up to the hard one.
    const child = Bun.spawn(["sh", "-c", `ulimit -n ${Math.max(limit, n + 500)} 2>/dev/null; exec "$0" "$@"`, process.execPath, `${import.meta.dir}/server-idle-child.ts`, String(KEEP_ALIVE_MS)], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    });
    const lines = new Lines(child.stdout);
    const stats = async () => {
      child.stdin.write("stats\n");
      child.stdin.flush();
      const [, rss, conns, heap] = (await lines.next()).split(" ");
      return { rss: Number(rss), connections: Number(conns), heap: Number(heap) };
    };
    try {
      const port = Number((await lines.next()).split(" ")[1]);
      const request = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
      let answered = 0;
      let closed = 0;
      const sockets: Socket<undefined>[] = [];
      const handler = {
        open(s: Socket<undefined>) {
          s.write(request);
        },
        data() {
          answered++;
        },
        close() {
          closed++;
        },
      };
      // Warm up (JIT, buffers), then measure the baseline.
      for (let i = 0; i < 200; i++) sockets.push(await Bun.connect({ hostname: "127.0.0.1", port, socket: handler }));
      while (answered < 200) await Bun.sleep(5);
      for (const s of sockets.splice(0)) s.end();
      while (closed < 200) await Bun.sleep(5);
      answered = 0;
      closed = 0;
      const before = await stats();

      const t0 = performance.now();
      // In batches, each answered before the next, so the accept queue never overflows (a dropped SYN costs 1 s).
      const BATCH = 50;
      for (let i = 0; i < n; i += BATCH) {
        const batch: Promise<Socket<undefined>>[] = [];
        for (let k = i; k < Math.min(n, i + BATCH); k++) batch.push(Bun.connect({ hostname: "127.0.0.1", port, socket: handler }));
        sockets.push(...(await Promise.all(batch)));
        while (answered < i) await Bun.sleep(1);
      }
      while (answered < n) {
        if (performance.now() - t0 > 10_000) throw new Error(`only ${answered} of ${n} answered`);
        await Bun.sleep(10);
      }
      const opened = performance.now();
      const during = await stats();
      expect(during.connections).toBe(n);
      const growth = during.rss - before.rss;
      console.log(
        `${n} idle connections: server RSS ${(before.rss / 2 ** 20).toFixed(1)} -> ${(during.rss / 2 ** 20).toFixed(1)} MiB (+${(growth / 2 ** 20).toFixed(1)} MiB, ${Math.round(growth / n)} B/connection), heap +${((during.heap - before.heap) / 2 ** 20).toFixed(1)} MiB; opened in ${Math.round(opened - t0)} ms`,
      );
      expect(growth).toBeLessThan(40 * 2 ** 20);

      // The keep-alive timeout closes them all (silently: no bytes after the response).
      while (closed < n) {
        if (performance.now() - opened > KEEP_ALIVE_MS + 5000) throw new Error(`only ${closed} of ${n} closed`);
        await Bun.sleep(20);
      }
      expect(performance.now() - opened).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - 200);
      expect(answered).toBe(n);
      const after = await stats();
      expect(after.connections).toBe(0);
    } finally {
      child.kill();
      await child.exited;
    }
  },
  30_000,
);
