/**
 * The latency client of the MCP benchmarks: requests sent one at a time on one keep-alive connection, each timed
 * from the first byte written to the last byte of its answer read (Bun.nanoseconds). Answers must carry
 * Content-Length. A non-200 answer, or a JSON-RPC or tool error in an answer under 64 KiB, stops the run: a benchmark of failures
 * measures nothing.
 */
/** p50/p99 (ms) of `n` requests, one at a time on one keep-alive connection. */
export async function latency(port: number, make: (i: number) => Uint8Array, n: number): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  let buf = "";
  let done: (() => void) | undefined;
  let sentAt = 0;
  let failed = "";
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        buf += chunk.toString("latin1");
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(buf.slice(0, end));
        const length = m ? Number(m[1]) : 0;
        if (buf.length < end + 4 + length) return;
        // Small answers (tool results) are checked for errors; a large one (a list) only for its status.
        const small = length <= 65_536;
        const body = small ? buf.slice(end + 4, end + 4 + length) : "";
        if (!buf.startsWith("HTTP/1.1 200") || (small && (body.includes('"isError":true') || body.includes('"error"')))) failed ||= buf.slice(0, end + 4 + Math.min(length, 400));
        buf = buf.slice(end + 4 + length);
        samples.push((Bun.nanoseconds() - sentAt) / 1e6);
        done?.();
      },
    },
  });
  for (let i = 0; i < n; i++) {
    const answered = new Promise<void>((r) => (done = r));
    sentAt = Bun.nanoseconds();
    socket.write(make(i));
    await answered;
    if (failed) throw new Error(`a call failed: ${failed}`);
  }
  socket.end();
  const sorted = samples.slice(Math.floor(n / 10)).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return { p50: at(0.5), p99: at(0.99) };
}

