/**
 * Several certificates on one TLS listener, chosen by the name the client
 * asks for (SNI, RFC 6066 §3). `Bun.listen` takes one TLS context and has no
 * public way to add more (Bun.serve's array form is not accepted there), but
 * its listeners carry the SNI table node:tls uses: `tls.Server#addContext`
 * puts a context for a name into the table of the listener it is given as
 * `_handle`. Adding a name again replaces its context (new handshakes only).
 * Checked once per process; a runtime without it fails with a clear error.
 */
import type { TLSOptions } from "bun";

type AddContext = (this: { _handle: unknown }, hostname: string, context: object) => void;

let addContext: AddContext | undefined;

function adder(): AddContext {
  if (addContext !== undefined) return addContext;
  // Loaded on first use: a listener without SNI entries never loads node:tls.
  const { Server } = require("node:tls") as typeof import("node:tls");
  const fn = (new Server({}) as unknown as { addContext?: unknown }).addContext;
  if (typeof fn !== "function") throw new Error("this runtime offers no SNI contexts on Bun.listen (node:tls Server#addContext is missing)");
  addContext = fn as AddContext;
  return addContext;
}

/** Serves `tls` to clients asking for `serverName` ("api.example.com", "*.example.com"). */
export function addServerName(listener: unknown, serverName: string, tls: TLSOptions): void {
  adder().call({ _handle: listener }, serverName, tls);
}
