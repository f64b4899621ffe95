/**
 * Runs an ordered list of layers over an exchange (see layer.ts). Whatever a
 * layer throws becomes a 500 FICUS_INTERNAL reply carrying the request id,
 * logged once with the layer's name; the exchange still ends through every
 * layer's `done`, so counts held by the request are released.
 */
import type { Logger } from "../observability/logger.ts";
import { errorReply, type Exchange, type Reply } from "./exchange.ts";
import type { Layer } from "./layer.ts";

export class Pipeline {
  readonly layers: readonly Layer[];
  private readonly requestLayers: readonly Layer[];
  private readonly logger: Logger;
  /** Exchanges between run() and end(). */
  inflight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(layers: readonly Layer[], logger: Logger) {
    this.layers = layers;
    this.requestLayers = layers.filter((l) => l.request !== undefined);
    this.logger = logger;
  }

  /** Runs the request phase, then the response phase; resolves with the reply to write (never rejects). */
  run(ex: Exchange): Reply | Promise<Reply> {
    this.inflight++;
    return this.from(ex, 0);
  }

  private from(ex: Exchange, index: number): Reply | Promise<Reply> {
    const layers = this.requestLayers;
    for (let i = index; i < layers.length; i++) {
      const layer = layers[i] as Layer;
      let out: Reply | undefined | Promise<Reply | undefined>;
      try {
        out = (layer.request as NonNullable<Layer["request"]>)(ex);
      } catch (err) {
        return this.respond(ex, i, this.internal(ex, layer, err));
      }
      if (out === undefined) continue;
      if (out instanceof Promise) {
        return out.then(
          (r) => (r === undefined ? this.from(ex, i + 1) : this.respond(ex, i, r)),
          (err: unknown) => this.respond(ex, i, this.internal(ex, layer, err)),
        );
      }
      return this.respond(ex, i, out);
    }
    return this.respond(ex, layers.length - 1, this.internal(ex, { name: "pipeline" }, new Error("no layer answered the request")));
  }

  /** The response phase: layers up to `last` (whose request ran), in reverse. */
  private respond(ex: Exchange, last: number, reply: Reply): Reply {
    const layers = this.requestLayers;
    for (let i = last; i >= 0; i--) {
      const layer = layers[i] as Layer;
      if (layer.response === undefined) continue;
      try {
        layer.response(ex, reply);
      } catch (err) {
        return this.internal(ex, layer, err);
      }
    }
    return reply;
  }

  private internal(ex: Exchange, layer: Pick<Layer, "name">, err: unknown): Reply {
    this.logger.error("request failed inside the gateway", {
      code: "FICUS_INTERNAL",
      request_id: ex.id,
      route: ex.route?.name,
      layer: layer.name,
      error: err instanceof Error ? err.message : String(err),
    });
    ex.error = "FICUS_INTERNAL";
    return errorReply("FICUS_INTERNAL", "the gateway failed to handle the request; the log line with this request_id has the detail", ex.id);
  }

  /** Ends the exchange: every layer's `done`, once. */
  end(ex: Exchange): void {
    if (ex.done) return;
    ex.done = true;
    for (const layer of this.layers) {
      if (layer.done === undefined) continue;
      try {
        layer.done(ex);
      } catch (err) {
        this.logger.error("a layer failed to finish a request", { request_id: ex.id, layer: layer.name, error: err instanceof Error ? err.message : String(err) });
      }
    }
    this.inflight--;
    if (this.inflight === 0 && this.idleWaiters.length > 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const fn of w) fn();
    }
  }

  /** Resolves when no exchange is in flight. */
  idle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
