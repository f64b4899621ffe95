/**
 * Test helpers for the http1 server: servers on 127.0.0.1 port 0 that are
 * destroyed after each test, and a raw TCP client that writes exact bytes
 * and collects what comes back.
 */
import { readFileSync } from "node:fs";
import { afterEach } from "bun:test";
import net from "node:net";
import { type Http1Server, listen, type ServerOptions, type ServerRequest, type ServerResponse } from "../../../src/http1/server.ts";
import { readResponses, type Verdict } from "./pipeline.ts";

const servers: Http1Server[] = [];
const clients: RawClient[] = [];

afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of servers.splice(0)) s.destroy();
});

export type Handler = (req: ServerRequest, res: ServerResponse) => void;

/** A server on 127.0.0.1, port 0; destroyed after the test. */
export function serve(handler: Handler, opts: Partial<ServerOptions> = {}): Http1Server {
  const s = listen({ hostname: "127.0.0.1", port: 0, ...opts, handler });
  servers.push(s);
  return s;
}

/** Answers every request with `body` (Content-Length), after reading any request body. */
export function hello(body = "hello"): Handler {
  const bytes = new TextEncoder().encode(body);
  return (req, res) => {
    const write = () => {
      res.writeHead(200, undefined, ["content-type", "text/plain"], bytes.byteLength);
      res.write(bytes);
      res.end();
    };
    if (req.body === undefined) return write();
    req.body.start({
      onData: () => true,
      onEnd: write,
      onError: () => {
        if (!res.headSent) {
          res.writeHead(400, undefined, [], 0);
          res.end();
        }
      },
    });
  };
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => Buffer.from(b).toString("latin1");

/** Resolves when `cond()` holds (checked every 2 ms), rejects after `ms`. */
export async function until(cond: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(2);
  }
}

/** A raw TCP client: exact bytes out, everything that comes back collected. */
export class RawClient {
  readonly socket: net.Socket;
  readonly chunks: Buffer[] = [];
  /** How many `data` events came (one socket write on loopback usually arrives as one). */
  dataEvents = 0;
  ended = false;
  closed = false;
  error: (Error & { code?: string }) | undefined;
  #waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on("data", (d: Buffer) => {
      this.chunks.push(d);
      this.dataEvents++;
      this.#wake();
    });
    socket.on("end", () => {
      this.ended = true;
      this.#wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.#wake();
    });
    socket.on("error", (e) => {
      this.error = e;
      this.#wake();
    });
  }

  static connect(port: number, opts: { allowHalfOpen?: boolean } = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: "127.0.0.1", allowHalfOpen: opts.allowHalfOpen ?? false });
      s.setNoDelay(true);
      s.once("connect", () => {
        const c = new RawClient(s);
        clients.push(c);
        resolve(c);
      });
      s.once("error", reject);
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves at the next event (data, end, close, error) or after `ms`. */
  #next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  write(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(typeof data === "string" ? Buffer.from(data, "latin1") : data, (e) => (e ? reject(e) : resolve()));
    });
  }

  /** Writes one byte at a time, each in its own packet. */
  async writeSlowly(data: string, gapMs = 1): Promise<void> {
    for (let i = 0; i < data.length; i++) {
      await this.write(data[i]!);
      await Bun.sleep(gapMs);
    }
  }

  get bytes(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.chunks));
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString("latin1");
  }

  /** Waits until `cond(text)` holds, the connection closes, or `ms` passes; returns the text. */
  async waitFor(cond: (text: string) => boolean, ms = 3000): Promise<string> {
    const end = performance.now() + ms;
    for (;;) {
      const t = this.text;
      if (cond(t)) return t;
      if (this.closed) throw new Error(`connection closed before the condition held; got ${JSON.stringify(t.slice(0, 500))}`);
      const left = end - performance.now();
      if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(t.slice(0, 500))}`);
      await this.#next(left);
    }
  }

  /** Waits for `n` complete responses (to `method` requests). */
  async responses(n: number, method = "GET", ms = 3000): Promise<Verdict> {
    const end = performance.now() + ms;
    for (;;) {
      const v = readResponses(this.bytes, method);
      const complete = v.error === null ? v.messages.length : v.messages.length - 1;
      if (complete >= n && !(v.messages.length === n && v.error?.code === "truncated")) return v;
      if (this.closed) return v;
      const left = end - performance.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} responses; got ${JSON.stringify(this.text.slice(0, 500))}`);
      await this.#next(left);
    }
  }

  /** Waits until the server closed (FIN or reset) the connection. */
  async waitClosed(ms = 3000): Promise<void> {
    const end = performance.now() + ms;
    while (!this.closed && !this.ended) {
      const left = end - performance.now();
      if (left <= 0) throw new Error(`the connection is still open; got ${JSON.stringify(this.text.slice(0, 300))}`);
      await this.#next(left);
    }
  }

  /** Resolves true if nothing (no data, no close) happens for `ms`. */
  async quiet(ms: number): Promise<boolean> {
    const before = this.dataEvents;
    await Bun.sleep(ms);
    return this.dataEvents === before && !this.closed && !this.ended;
  }

  end(): void {
    this.socket.end();
  }

  reset(): void {
    this.socket.resetAndDestroy();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Connects and writes `data`. */
export async function send(port: number, data: string | Uint8Array): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.write(data);
  return c;
}

/** A field's value in a parsed message's flat list (case-insensitive), or undefined. */
export function field(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i]!.toLowerCase() === name) return fields[i + 1];
  return undefined;
}

/** The largest receive plus send buffer the kernel may give a TCP socket (autotuning grows up to these). */
export function kernelBufferMax(): number {
  const max = (file: string, fallback: number): number => {
    try {
      const n = Number(readFileSync(file, "utf8").trim().split(/\s+/)[2]);
      return Number.isFinite(n) && n > 0 ? n : fallback;
    } catch {
      return fallback;
    }
  };
  return max("/proc/sys/net/ipv4/tcp_rmem", 6 * 1024 * 1024) + max("/proc/sys/net/ipv4/tcp_wmem", 4 * 1024 * 1024);
}
