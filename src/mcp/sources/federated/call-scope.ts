/**
 * Which agent call a message from the upstream belongs to.
 *
 * One SDK Client connection carries every agent's calls, so a server→client request
 * (sampling/createMessage, elicitation/create, roots/list) or a log notification arriving
 * during calls must reach the `CallContext` of the call it relates to. The v2 client SDK hands
 * its request handlers no related-request id (the handler context has only the incoming id),
 * and its Streamable HTTP transport passes no extra info with messages. What does hold is the
 * async context: the SDK reads each POST's response stream in a chain started by the request
 * that opened it, and fulfils a 2026-07-28 `input_required` round inside that call's response
 * path. So each call runs in an AsyncLocalStorage scope, and a message is routed to the call
 * whose scope it arrived in. Messages that arrive outside any call's scope (stdio, where one
 * pipe carries everything; a 2025 server that sends on its standalone GET stream) go to the only
 * call in flight that can take them, or to none.
 *
 * It also watches each call's response stream (Streamable HTTP): a stream that ends before the
 * response to its request arrived (the upstream crashed) fails the call instead of leaving it
 * to hang, since the SDK only rejects pending requests when a transport closes.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { CallContext } from "../../types.ts";

/** Thrown into a call whose response stream ended without its response. */
export class StreamLostError extends Error {
  constructor() {
    super("the response stream ended before the response");
    this.name = "StreamLostError";
  }
}

/** One agent call in flight at the upstream. */
export class InflightCall {
  readonly ctx: CallContext;
  done = false;
  timedOut = false;
  /** Rejects (never resolves) when the call's response stream was lost. */
  readonly lost: Promise<never>;
  private rejectLost!: (error: Error) => void;

  constructor(ctx: CallContext) {
    this.ctx = ctx;
    this.lost = new Promise<never>((_, reject) => {
      this.rejectLost = reject;
    });
    this.lost.catch(() => {});
  }

  private doneHooks: (() => void)[] | undefined;

  /** Runs `fn` when the call ends (at once if it has). */
  onDone(fn: () => void): void {
    if (this.done) fn();
    else (this.doneHooks ??= []).push(fn);
  }

  finish(): void {
    this.done = true;
    const hooks = this.doneHooks;
    this.doneHooks = undefined;
    if (hooks) for (const fn of hooks) fn();
  }

  breakOff(error: Error): void {
    if (!this.done) this.rejectLost(error);
  }
}

/** How long after a response stream ends its response may still be in the SDK's parsing pipeline. */
const STREAM_SETTLE_MS = 30;

export class CallScope {
  private readonly storage = new AsyncLocalStorage<InflightCall>();
  private readonly inflight = new Set<InflightCall>();
  /** Ids of requests whose response stream is being watched, and those of them already answered. */
  private readonly watched = new Set<string | number>();
  private readonly answered = new Set<string | number>();

  open(ctx: CallContext): InflightCall {
    const call = new InflightCall(ctx);
    this.inflight.add(call);
    return call;
  }

  close(call: InflightCall): void {
    call.finish();
    this.inflight.delete(call);
  }

  /** Runs `fn` as part of `call`: what the upstream sends in its wake is routed to it. */
  run<T>(call: InflightCall, fn: () => T): T {
    return this.storage.run(call, fn);
  }

  /** The call whose async scope the caller runs in, if any. */
  current(): InflightCall | undefined {
    return this.storage.getStore();
  }

  /** Runs `fn` outside any call (reconnects, list refreshes), so nothing they open is attributed to one. */
  outside<T>(fn: () => T): T {
    return this.storage.exit(fn);
  }

  /** The call a message from the upstream belongs to (see the header); undefined when none can be told. */
  owner(can: (ctx: CallContext) => boolean): InflightCall | undefined {
    const scoped = this.storage.getStore();
    if (scoped !== undefined && !scoped.done) return scoped;
    let only: InflightCall | undefined;
    for (const call of this.inflight) {
      if (!can(call.ctx)) continue;
      if (only !== undefined) return undefined;
      only = call;
    }
    return only;
  }

  /** Every call in flight (to fail them when a connection is lost). */
  all(): readonly InflightCall[] {
    return [...this.inflight];
  }

  /** Records a response seen on the transport, for the stream watch. */
  sawResponse(id: string | number): void {
    if (this.watched.has(id)) this.answered.add(id);
  }

  /**
   * A fetch for the Streamable HTTP transport that watches the SSE stream answering each
   * request sent from inside a call: when it ends (or breaks) without that request's response,
   * the call is failed with StreamLostError.
   */
  watchingFetch(base: typeof fetch = fetch): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
    return async (input, init) => {
      const call = this.storage.getStore();
      const response = await base(input, init);
      if (call === undefined || response.body === null) return response;
      if (!(response.headers.get("content-type") ?? "").startsWith("text/event-stream")) return response;
      const id = requestId(init?.body);
      if (id === undefined) return response;
      const reader = response.body.getReader();
      this.watched.add(id);
      const ended = (): void => {
        setTimeout(() => {
          this.watched.delete(id);
          if (this.answered.delete(id)) return;
          call.breakOff(new StreamLostError());
        }, STREAM_SETTLE_MS);
      };
      const body = new ReadableStream<Uint8Array>({
        pull: async (controller) => {
          try {
            const { done, value } = await reader.read();
            if (done) {
              controller.close();
              ended();
            } else controller.enqueue(value);
          } catch (error) {
            controller.error(error);
            ended();
          }
        },
        cancel: (reason) => reader.cancel(reason),
      });
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    };
  }
}

/** The id of the single JSON-RPC request a POST body carries, if it carries one. */
function requestId(body: unknown): string | number | undefined {
  if (typeof body !== "string") return undefined;
  try {
    const message: unknown = JSON.parse(body);
    if (typeof message !== "object" || message === null || Array.isArray(message)) return undefined;
    const { id, method } = message as { id?: unknown; method?: unknown };
    if (typeof method !== "string") return undefined;
    return typeof id === "string" || typeof id === "number" ? id : undefined;
  } catch {
    return undefined;
  }
}
