/**
 * Where the HTTP call of a declared or OpenAPI tool goes. With an `upstream`
 * on the source, straight there on Ficus's own HTTP/1.1 client (pooled
 * keep-alive connections); without, through the gateway's own pipeline as if
 * a client had sent it, so the routes' migrations, auth, rate limits,
 * metrics and access log apply to tool calls as to any request. The internal
 * request never touches a socket.
 */
import { FicusError } from "../../core/errors.ts";
import { MemoryBody, readBody } from "../../http1/body.ts";
import type { ConnectionPool } from "../../http1/client.ts";
import { Exchange, type Reply, replySent } from "../../pipeline/exchange.ts";
import type { Pipeline } from "../../pipeline/pipeline.ts";
import type { CallContext } from "../types.ts";
import type { HttpAnswer, HttpCall } from "./http/spec.ts";

/**
 * What a source sends upstream as Authorization, in place of the agent's token (which never leaves the gateway):
 * built from the source's `credentials:` (src/mcp/governance/oauth/credentials.ts).
 */
export interface UpstreamAuth {
  /**
   * The Authorization value for a request made for this call, or for no call (ctx undefined: a connection, a list
   * refresh); undefined sends none. A cached value comes back as it is (no promise). Throws or rejects with a
   * FicusError when none can be obtained.
   */
  authorization(ctx: CallContext | undefined): string | undefined | Promise<string | undefined>;
  /** The upstream answered 401 to `value`: forget it. True when a new value may be tried (once). */
  refused(value: string, ctx: CallContext | undefined): boolean;
}

export interface InvokeContext {
  readonly signal: AbortSignal;
  readonly requestId: string;
  /** Largest response body accepted (a larger one fails the call). */
  readonly maxBody: number;
  /** Header fields of the agent's request to carry (authorization), flat [name, value, …]. */
  readonly carry?: readonly string[] | undefined;
}

export interface HttpInvoker {
  send(call: HttpCall, ctx: InvokeContext): Promise<HttpAnswer>;
}

function pairs(fields: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) out.push([fields[i] as string, fields[i + 1] as string]);
  return out;
}

/** Calls to one upstream origin (the source's `upstream`, a base path kept). */
export class UpstreamInvoker implements HttpInvoker {
  private readonly base: string;
  private readonly hostField: string;

  constructor(
    url: URL,
    private readonly pool: () => ConnectionPool,
    private readonly headerTimeout: number,
  ) {
    this.base = url.pathname.endsWith("/") ? url.pathname.slice(0, -1) : url.pathname;
    this.hostField = url.host;
  }

  async send(call: HttpCall, ctx: InvokeContext): Promise<HttpAnswer> {
    const fields: string[] = ["host", this.hostField, "x-request-id", ctx.requestId];
    for (const [k, v] of call.headers) fields.push(k, v);
    if (ctx.carry) fields.push(...ctx.carry);
    const ex = this.pool().request({ method: call.method, target: this.base + call.target, fields, body: call.body, headerTimeout: this.headerTimeout, bodyTimeout: this.headerTimeout });
    const stop = () => ex.abort("the call was cancelled");
    ctx.signal.addEventListener("abort", stop, { once: true });
    try {
      const res = await ex.response;
      const body = res.body === undefined ? new Uint8Array(0) : await readBody(res.body, ctx.maxBody).catch((err: unknown) => {
        throw new FicusError("FICUS_MCP_UPSTREAM", `the response body could not be read whole (over mcp.max_response_body, ${ctx.maxBody} bytes, or cut): ${(err as Error)?.message ?? String(err)}`);
      });
      return { status: res.status, headers: pairs(res.fields), body };
    } catch (err) {
      if (err instanceof FicusError) throw err;
      throw new FicusError("FICUS_MCP_UPSTREAM", `the HTTP call failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    } finally {
      ctx.signal.removeEventListener("abort", stop);
    }
  }
}

/** Calls through the gateway's own pipeline: routed like any request. */
export class PipelineInvoker implements HttpInvoker {
  constructor(
    private readonly pipeline: () => Pipeline,
    /** The Host the internal request carries (the gateway's own), for host-matched routes. */
    private readonly host: string,
  ) {}

  async send(call: HttpCall, ctx: InvokeContext): Promise<HttpAnswer> {
    const q = call.target.indexOf("?");
    const path = q < 0 ? call.target : call.target.slice(0, q);
    const query = q < 0 ? "" : call.target.slice(q);
    const fields: string[] = ["x-request-id", ctx.requestId];
    for (const [k, v] of call.headers) fields.push(k, v);
    if (ctx.carry) fields.push(...ctx.carry);
    const ex = new Exchange(performance.now(), call.method, call.target, path, query, this.host, this.host, fields, { address: "127.0.0.1", port: 0 }, false, "http/1.1", call.body === undefined ? undefined : new MemoryBody([call.body]), undefined);
    ex.internal = true;
    const pipeline = this.pipeline();
    const abort = () => ex.abort("client");
    ctx.signal.addEventListener("abort", abort, { once: true });
    let reply: Reply | undefined;
    let whole = false;
    try {
      reply = await pipeline.run(ex);
      ex.status = reply.status;
      let body: Uint8Array;
      if (reply.body === undefined) body = new Uint8Array(0);
      else if (reply.body instanceof Uint8Array) body = reply.body;
      else body = await readBody(reply.body, ctx.maxBody);
      ex.bytes = body.byteLength;
      whole = true;
      return { status: reply.status, headers: pairs(reply.fields), body };
    } catch (err) {
      throw new FicusError("FICUS_MCP_UPSTREAM", `the HTTP call through the gateway's routes failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    } finally {
      ctx.signal.removeEventListener("abort", abort);
      if (reply !== undefined) replySent(ex, reply, whole);
      pipeline.end(ex);
    }
  }
}
