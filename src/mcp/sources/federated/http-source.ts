/**
 * A federated MCP server reached over Streamable HTTP (source kind "mcp"). One SDK client
 * connection per source; the SDK negotiates the era (`auto` probes with `server/discover` and
 * falls back to the 2025 `initialize` handshake) unless one is forced.
 */
import { StreamableHTTPClientTransport, type Transport } from "@modelcontextprotocol/client";
import { FicusError } from "../../../core/errors.ts";
import type { UpstreamAuth } from "../http-invoke.ts";
import { McpClientSource, type EraChoice } from "./client-source.ts";

export interface McpHttpSourceOptions {
  name: string;
  /** The upstream's MCP endpoint (http or https). */
  url: string;
  /** Sent with every request (e.g. an Authorization header for the upstream). */
  headers?: Record<string, string> | undefined;
  /** Per-call timeout in ms (default 60 000). */
  timeout?: number | undefined;
  era?: EraChoice | undefined;
  onLog?: ((line: string) => void) | undefined;
  /**
   * The Authorization of each request (the source's credentials), chosen per request: for the call it is made for
   * (the call scope), or for none (connecting, list refreshes). Overrides an Authorization in `headers`. The agent's
   * own token is never sent.
   */
  credentials?: UpstreamAuth | undefined;
}

export class McpHttpSource extends McpClientSource {
  readonly kind = "mcp" as const;
  private readonly url: URL;
  private readonly headers: Record<string, string>;
  private readonly credentials: UpstreamAuth | undefined;

  constructor(options: McpHttpSourceOptions) {
    super(options);
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new FicusError("FICUS_MCP_SOURCE_INVALID", `source ${options.name}: url is not a URL: ${String(options.url)}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new FicusError("FICUS_MCP_SOURCE_INVALID", `source ${options.name}: url must be http or https, got ${url.protocol}`);
    }
    this.url = url;
    this.headers = { ...options.headers };
    this.credentials = options.credentials;
  }

  protected openTransport(): Transport {
    return new StreamableHTTPClientTransport(this.url, {
      requestInit: { headers: this.headers },
      fetch: this.calls.watchingFetch(this.credentials === undefined ? fetch : (this.authorizedFetch as typeof fetch)),
    });
  }

  /**
   * The transport's fetch with the source's credentials: one connection carries every agent's calls, so the
   * Authorization is chosen per request, by the call whose async scope sent it (call-scope.ts). A 401 forgets the
   * value and sends the request once more with a new one.
   */
  private readonly authorizedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const creds = this.credentials as UpstreamAuth;
    const ctx = this.calls.current()?.ctx;
    for (let attempt = 0; ; attempt++) {
      const value = await creds.authorization(ctx);
      const headers = new Headers(init?.headers);
      if (value !== undefined) headers.set("authorization", value);
      const response = await fetch(input, { ...init, headers });
      if (response.status !== 401 || value === undefined || attempt > 0 || !creds.refused(value, ctx)) return response;
      await response.body?.cancel();
    }
  };

  protected where(): string {
    return this.url.href;
  }
}
