/**
 * The HTTP/1.1 front: joins the engine's server (src/http1/server.ts) to the
 * pipeline. For each parsed request it makes the protocol-neutral Exchange
 * (hop-by-hop fields removed, path normalized, host read from the
 * authority), runs the pipeline, and writes the Reply: a body in memory with
 * its length, a stream with backpressure (its Content-Length kept, or
 * chunked), or a tunnel after a 101. It ends the exchange once the response
 * has gone out whole or been cut, and tells the taps which.
 */
import { type BodyError, type BodySource, pipeBody } from "../http1/body.ts";
import type { ServerRequest, ServerResponse } from "../http1/server.ts";
import { errorReply, Exchange, type Reply, replySent } from "../pipeline/exchange.ts";
import type { Logger } from "../observability/logger.ts";
import { endToEnd, lowerAscii } from "../pipeline/fields.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import { removeDotSegments } from "../routing/router.ts";
import { toPeerCertificate } from "../tls/peer.ts";

/** The authority's host, lowercased, without port or IPv6 brackets kept as is. */
function hostOf(authority: string): string {
  let host = lowerAscii(authority);
  const colon = host.lastIndexOf(":");
  if (colon > 0 && host.indexOf("]", colon) < 0) host = host.slice(0, colon);
  return host;
}

export class Http1Front {
  /** While draining, responses carry Connection: close so clients move to another process. */
  draining = false;

  constructor(
    private readonly pipeline: Pipeline,
    private readonly logger: Logger,
    /** Counts the tunnels open (upgraded connections, e.g. WebSocket). */
    private readonly tunnels?: { inc(): void; dec(): void },
  ) {}

  handle = (req: ServerRequest, res: ServerResponse): void => {
    const target = req.target;
    const q = target.indexOf("?");
    let path = q < 0 ? target : target.slice(0, q);
    const query = q < 0 ? "" : target.slice(q);
    if (path.includes("/.") || (path.includes("%2") && path.toLowerCase().includes("/%2e"))) path = removeDotSegments(path);
    // Host is the request's authority, not an end-to-end field: the forward layer writes the one the upstream gets.
    const { fields, host: hostField } = endToEnd(req.fields, true);
    const ex = new Exchange(
      req.receivedAt,
      req.method,
      target,
      path,
      query,
      hostOf(req.authority),
      hostField,
      fields,
      req.peer,
      req.tls,
      req.version === 1 ? "http/1.1" : "http/1.0",
      req.body,
      req.upgrade,
    );
    if (req.tls) {
      // mTLS: the certificate the handshake verified (converted once per connection), for auth layers.
      const cert = req.peerCertificate;
      if (cert !== undefined) ex.peerCertificate = toPeerCertificate(cert);
    }
    res.onAbort = (why) => ex.abort(why === "shutdown" ? "shutdown" : "client");
    const out = this.pipeline.run(ex);
    if (out instanceof Promise) out.then((reply) => this.write(ex, res, reply)).catch((err: unknown) => this.lastResort(ex, res, err));
    else this.write(ex, res, out);
  };

  private write(ex: Exchange, res: ServerResponse, reply: Reply): void {
    if (ex.aborted !== undefined || res.finished) {
      // The client is gone: nothing to write.
      if (reply.body !== undefined && !(reply.body instanceof Uint8Array)) reply.body.cancel();
      ex.status = 499;
      this.end(ex, reply, false);
      return;
    }
    if (reply.status === 499) {
      ex.status = 499;
      res.abort({ code: "closed", reason: "the client went away" });
      this.end(ex, reply, false);
      return;
    }
    ex.status = reply.status;
    if (this.draining) res.closeAfter();
    try {
      if (reply.tunnel !== undefined) return this.tunnel(ex, res, reply);
      const body = reply.body;
      if (body === undefined) {
        res.writeHead(reply.status, reply.reason, reply.fields, reply.headLength ?? (reply.status === 204 || reply.status === 304 || reply.status < 200 ? "none" : 0));
        res.end();
        this.end(ex, reply, true);
      } else if (body instanceof Uint8Array) {
        res.writeHead(reply.status, reply.reason, reply.fields, body.byteLength);
        if (ex.method !== "HEAD" && body.byteLength > 0) res.write(body);
        ex.bytes = body.byteLength;
        res.end();
        this.end(ex, reply, true);
      } else this.stream(ex, res, reply, body);
    } catch (err) {
      this.failed(ex, res, reply, err);
    }
  }

  /** A failure outside every other net: logged, the connection cut if a response was started, the exchange ended. Never a crash. */
  private lastResort(ex: Exchange, res: ServerResponse, err: unknown): void {
    try {
      this.failed(ex, res, { status: 500, fields: [], body: undefined }, err);
    } catch (again) {
      this.logger.error("request failed inside the gateway", { code: "FICUS_INTERNAL", request_id: ex.id, layer: "http1-front", error: again instanceof Error ? again.message : String(again) });
      if (!ex.done) this.pipeline.end(ex);
    }
  }

  /** Something in the reply could not be written (a field value the engine refuses, …): a clean 500 while the head is not out. */
  private failed(ex: Exchange, res: ServerResponse, reply: Reply, err: unknown): void {
    this.logger.error("request failed inside the gateway", { code: "FICUS_INTERNAL", request_id: ex.id, route: ex.route?.name, layer: "http1-front", error: err instanceof Error ? err.message : String(err) });
    if (reply.body !== undefined && !(reply.body instanceof Uint8Array)) reply.body.cancel();
    ex.error = "FICUS_INTERNAL";
    ex.fromUpstream = false;
    if (!res.headSent && !res.finished) {
      const r = errorReply("FICUS_INTERNAL", "the gateway failed to handle the request; the log line with this request_id has the detail", ex.id);
      ex.status = r.status;
      const body = r.body as Uint8Array;
      res.writeHead(r.status, undefined, r.fields, body.byteLength);
      res.write(body);
      res.end();
    } else if (!res.finished) res.abort({ code: "internal", reason: err instanceof Error ? err.message : String(err) });
    if (!ex.done) this.end(ex, reply, false);
  }

  private stream(ex: Exchange, res: ServerResponse, reply: Reply, body: BodySource): void {
    res.writeHead(reply.status, reply.reason, reply.fields, body.length >= 0 ? body.length : "chunked");
    if (ex.method === "HEAD") {
      body.cancel();
      res.end();
      this.end(ex, reply, true);
      return;
    }
    let ended = false;
    const stop = ex.onAbort(() => {
      // The client went away mid-body: stop reading the upstream; the exchange ends here.
      if (ended) return;
      ended = true;
      body.cancel();
      ex.status = 499;
      this.end(ex, reply, false);
    });
    pipeBody(body, res, (error?: BodyError) => {
      stop();
      if (ended) return;
      ended = true;
      if (error !== undefined && ex.aborted !== undefined) ex.status = 499;
      this.end(ex, reply, error === undefined);
    });
  }

  private tunnel(ex: Exchange, res: ServerResponse, reply: Reply): void {
    const up = reply.tunnel as NonNullable<Reply["tunnel"]>;
    res.writeHead(101, reply.reason, reply.fields, "none");
    const client = res.tunnel();
    this.tunnels?.inc();
    // Each direction ends on its own (a half-close is passed on); the exchange ends when both have.
    let open = 2;
    const stop = ex.onAbort(() => {
      const cut = { code: "closed", reason: "the gateway stopped" };
      up.target.abort(cut);
      client.target.abort(cut);
    });
    const closed = (err: BodyError | undefined, other: BodySource) => {
      if (err !== undefined) other.cancel();
      if (--open > 0) return;
      stop();
      this.tunnels?.dec();
      this.end(ex, reply, true);
    };
    pipeBody(client.source, up.target, (err) => closed(err, up.source));
    pipeBody(up.source, client.target, (err) => closed(err, client.source), (c) => {
      ex.bytes += c.byteLength;
    });
  }

  /** Ends the exchange in the pipeline and tells the taps whether the response went out whole. */
  private end(ex: Exchange, reply: Reply, whole: boolean): void {
    replySent(ex, reply, whole);
    this.pipeline.end(ex);
  }
}
