/**
 * Micro-benchmark of request-header preparation (run: bun bench/headers.bench.ts).
 * Compares the in-place edit the proxy uses with alternatives, on a typical
 * browser-like header set.
 */
import { bench, do_not_optimize, run, summary } from "mitata";
import { editRequestHeaders, headerBytes, prepareResponseHeaders } from "../src/proxy/headers.ts";

const INIT: [string, string][] = [
  ["host", "api.example.com"],
  ["user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"],
  ["accept", "application/json"],
  ["accept-encoding", "gzip, deflate, br"],
  ["accept-language", "en-US,en;q=0.9"],
  ["authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig"],
  ["cookie", "session=abc123; theme=dark"],
  ["connection", "keep-alive"],
  ["traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
];
const ctx = { requestId: "7c8d1c48-475f-4752-a972-f01b30fd681c", clientIp: "203.0.113.7", proto: "http", originalHost: "api.example.com", ops: undefined };
const HOP = ["connection", "keep-alive", "te", "transfer-encoding", "upgrade", "proxy-connection", "trailer"];

summary(() => {
  bench("baseline: new Headers(init)", () => do_not_optimize(new Headers(INIT)));
  bench("editRequestHeaders (in place)", () => {
    const h = new Headers(INIT);
    editRequestHeaders(h, ctx);
    do_not_optimize(h);
  });
  bench("copy into a new Headers, skipping hop-by-hop", () => {
    const src = new Headers(INIT);
    const out = new Headers();
    for (const [k, v] of src) if (!HOP.includes(k)) out.append(k, v);
    out.set("x-forwarded-for", ctx.clientIp);
    out.set("x-request-id", ctx.requestId);
    do_not_optimize(out);
  });
  bench("toJSON into a plain object", () => {
    const src = new Headers(INIT);
    const j = src.toJSON() as Record<string, string>;
    const out: Record<string, string> = {};
    for (const k in j) if (!HOP.includes(k)) out[k] = j[k] as string;
    out["x-forwarded-for"] = ctx.clientIp;
    out["x-request-id"] = ctx.requestId;
    do_not_optimize(out);
  });
});

bench("headerBytes (only when max_header_bytes < 16KiB)", () => do_not_optimize(headerBytes(new Headers(INIT))));
bench("prepareResponseHeaders", () => {
  const h = new Headers([["content-type", "application/json"], ["content-length", "120"], ["date", "x"], ["connection", "keep-alive"]]);
  do_not_optimize(prepareResponseHeaders(h, ctx.requestId, undefined));
});

await run();
