/**
 * JSON-RPC 2.0 as MCP uses it: telling a message's kind, the error codes,
 * and the few response shapes the front writes. Responses are built as
 * strings around already-serialized results, so a relay serializes each
 * result once.
 */

import { isJsonObject } from "../types.ts";

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
/** 2026-07-28: the Mcp-Method / Mcp-Name headers do not match the body. */
export const HEADER_MISMATCH = -32020;
/** 2026-07-28: the protocol version asked for is not one the server supports. */
export const UNSUPPORTED_VERSION = -32022;
/** MCP: a resource that does not exist. */
export const RESOURCE_NOT_FOUND = -32002;

/** The 2025-era (sessionful, initialize handshake) versions served, newest first. */
export const LEGACY_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"] as const;
/** The stateless-era versions served. */
export const MODERN_VERSIONS = ["2026-07-28"] as const;

export const META_PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion";
export const META_CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities";
export const META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo";
export const META_LOG_LEVEL = "io.modelcontextprotocol/logLevel";
export const META_SERVER_INFO = "io.modelcontextprotocol/serverInfo";
export const META_SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId";

export type RpcId = string | number;

export interface RpcRequest {
  readonly id: RpcId;
  readonly method: string;
  readonly params: Record<string, unknown> | undefined;
}

export type Classified =
  | { readonly kind: "request"; readonly message: RpcRequest }
  | { readonly kind: "notification"; readonly method: string; readonly params: Record<string, unknown> | undefined }
  | { readonly kind: "response"; readonly id: RpcId; readonly result?: unknown; readonly error?: unknown }
  | { readonly kind: "invalid"; readonly id: RpcId | null; readonly reason: string };


/** What a parsed JSON value is, as a JSON-RPC message. */
export function classify(v: unknown): Classified {
  if (!isJsonObject(v)) return { kind: "invalid", id: null, reason: Array.isArray(v) ? "batches are not part of MCP since 2025-06-18: send one message per request" : "a JSON-RPC message is an object" };
  const id = v.id;
  const idOk = (typeof id === "string" || (typeof id === "number" && Number.isFinite(id)));
  if (v.jsonrpc !== "2.0") return { kind: "invalid", id: idOk ? (id as RpcId) : null, reason: 'jsonrpc must be "2.0"' };
  if (typeof v.method === "string") {
    if (v.params !== undefined && !isJsonObject(v.params)) return { kind: "invalid", id: idOk ? (id as RpcId) : null, reason: "params must be an object" };
    const params = v.params as Record<string, unknown> | undefined;
    if (id === undefined) return { kind: "notification", method: v.method, params };
    if (!idOk) return { kind: "invalid", id: null, reason: "id must be a string or a number" };
    return { kind: "request", message: { id: id as RpcId, method: v.method, params } };
  }
  if (idOk && ("result" in v || "error" in v)) return { kind: "response", id: id as RpcId, result: v.result, error: v.error };
  return { kind: "invalid", id: idOk ? (id as RpcId) : null, reason: "not a request, a notification or a response" };
}

export function resultJson(id: RpcId | null, resultJsonText: string): string {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${resultJsonText}}`;
}

export function errorJson(id: RpcId | null, code: number, message: string, data?: unknown): string {
  const err: Record<string, unknown> = { code, message };
  if (data !== undefined) err.data = data;
  return JSON.stringify({ jsonrpc: "2.0", id, error: err });
}

export function notificationJson(method: string, params: unknown): string {
  return JSON.stringify({ jsonrpc: "2.0", method, params });
}

export function requestJson(id: RpcId, method: string, params: unknown): string {
  return JSON.stringify({ jsonrpc: "2.0", id, method, params });
}

/** An error to answer with as a JSON-RPC error (code, message, data), thrown by handlers. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
    /** The HTTP status for this error (2026-07-28 maps some to 4xx); 200 otherwise. */
    readonly httpStatus = 200,
  ) {
    super(message);
    this.name = "RpcError";
  }
}
