/**
 * WebSocket proxying: the client side is upgraded by Bun.serve, the upstream
 * side is Bun's WebSocket client. Messages sent before the upstream opens are
 * queued (bounded); closes propagate both ways with a code that is legal to
 * send (RFC 6455 §7.4.1: 1005/1006/1015 are never sent on the wire).
 */
import type { ServerWebSocket, WebSocketHandler } from "bun";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { WebSocketData } from "./forward.ts";

const MAX_PENDING = 1024;

/** The upstream URL as logged: without its query, which may carry credentials (access_token=…). */
const loggable = (url: string) => url.split("?", 1)[0];

function sendableCode(code: number | undefined): number {
  if (code === undefined || code === 1005 || code === 1006 || code === 1015) return 1000;
  return code >= 1000 && code < 5000 ? code : 1011;
}

export function websocketHandlers(metrics: Metrics, logger: Logger): WebSocketHandler<WebSocketData> {
  return {
    open(ws: ServerWebSocket<WebSocketData>) {
      metrics.websockets.inc();
      const d = ws.data;
      let up: WebSocket;
      try {
        up = new WebSocket(d.url, { headers: d.headers, protocols: d.protocols } as unknown as string[]);
      } catch (err) {
        logger.warn("websocket upstream failed", { request_id: d.requestId, url: loggable(d.url), error: err });
        ws.close(1011, "upstream unavailable");
        return;
      }
      up.binaryType = "arraybuffer";
      d.upstream = up;
      up.onopen = () => {
        for (const m of d.pending) up.send(m as string | ArrayBuffer);
        d.pending = [];
      };
      up.onmessage = (e) => {
        ws.send(e.data as string | ArrayBuffer);
      };
      up.onclose = (e) => {
        if (ws.readyState === 1) ws.close(sendableCode(e.code), e.reason);
      };
      up.onerror = () => {
        logger.warn("websocket upstream error", { request_id: d.requestId, url: loggable(d.url) });
        if (ws.readyState === 1) ws.close(1011, "upstream error");
      };
    },
    message(ws, message) {
      const d = ws.data;
      const up = d.upstream;
      if (up && up.readyState === WebSocket.OPEN) up.send(message);
      else if (d.pending.length < MAX_PENDING) d.pending.push(message);
      else ws.close(1008, "too many messages before the upstream opened");
    },
    close(ws, code, reason) {
      metrics.websockets.dec();
      const up = ws.data.upstream;
      if (up && (up.readyState === WebSocket.OPEN || up.readyState === WebSocket.CONNECTING)) up.close(sendableCode(code), reason);
    },
  };
}
