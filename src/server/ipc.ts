/** Messages between the supervisor and its worker processes (JSON over Bun's IPC channel). */
import type { Overrides } from "../config/source.ts";
import type { RecordCommand, SessionStatus } from "../record/recorder.ts";
import type { RouteInfo } from "./gateway.ts";

/** A worker's answer to a record command. */
export type RecordReply = { readonly sessions: SessionStatus[] } | { readonly error: { readonly code: string; readonly message: string } };

export type ToWorker =
  | { readonly t: "config"; readonly text: string; readonly format: "yaml" | "json"; readonly overrides: Overrides; readonly reload: boolean }
  | { readonly t: "metrics"; readonly id: number }
  | { readonly t: "routes"; readonly id: number }
  | { readonly t: "flush"; readonly id: number }
  | { readonly t: "record"; readonly id: number; readonly command: RecordCommand }
  | { readonly t: "shutdown" };

export type FromWorker =
  | { readonly t: "ready"; readonly port: number }
  | { readonly t: "applied"; readonly ok: boolean; readonly errors?: readonly string[] }
  | { readonly t: "reply"; readonly id: number; readonly data: unknown }
  | { readonly t: "fatal"; readonly code: string; readonly message: string };

export type { RouteInfo };
