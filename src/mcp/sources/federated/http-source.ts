/**
 * A federated MCP server reached over Streamable HTTP (source kind "mcp"). One SDK client
 * connection per source; the SDK negotiates the era (`auto` probes with `server/discover` and
 * falls back to the 2025 `initialize` handshake) unless one is forced.
 */
import { StreamableHTTPClientTransport, type Transport } from "@modelcontextprotocol/client";
import { FicusError } from "../../../core/errors.ts";
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
}

export class McpHttpSource extends McpClientSource {
  readonly kind = "mcp" as const;
  private readonly url: URL;
  private readonly headers: Record<string, string>;

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
  }

  protected openTransport(): Transport {
    return new StreamableHTTPClientTransport(this.url, {
      requestInit: { headers: this.headers },
      fetch: this.calls.watchingFetch(),
    });
  }

  protected where(): string {
    return this.url.href;
  }
}
