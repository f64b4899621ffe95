/**
 * A source of tools backed by HTTP calls: the declared tools of a `tools:`
 * source, or the operations of an OpenAPI document. Each tool is compiled
 * once (src/mcp/sources/http/compile.ts); a call turns the arguments into
 * the HTTP request, sends it with the source's invoker (an upstream, or the
 * gateway's own routes), and turns the answer into the tool's result.
 */
import { FicusError } from "../../core/errors.ts";
import type { CallContext, CallToolResult, JsonObject, SourceKind, ToolDefinition, ToolSource } from "../types.ts";
import { type CompiledHttpTool, compileHttpTool } from "./http/compile.ts";
import type { HttpAnswer, HttpCall, HttpToolSpec } from "./http/spec.ts";
import type { HttpInvoker, UpstreamAuth } from "./http-invoke.ts";
import { Interner } from "../registry/intern.ts";

export interface HttpSourceOptions {
  readonly name: string;
  readonly kind: Extract<SourceKind, "http" | "openapi">;
  /** The tools' specs: given (declared) or read from an OpenAPI document at start. */
  readonly load: () => Promise<readonly HttpToolSpec[]>;
  readonly invoker: HttpInvoker;
  readonly maxResponseBody: number;
  /** Called for tools left out (an operation the converter skipped), for the log. */
  readonly onSkipped?: (tool: string, why: string) => void;
  /** The Authorization each call sends (the source's credentials); the agent's own token is never sent. */
  readonly credentials?: UpstreamAuth | undefined;
}

export class HttpToolsSource implements ToolSource {
  readonly name: string;
  readonly kind: Extract<SourceKind, "http" | "openapi">;
  onListChanged: ToolSource["onListChanged"];
  private compiled = new Map<string, CompiledHttpTool>();
  private definitions: ToolDefinition[] = [];
  private state: { state: "up" | "starting" | "down"; detail?: string } = { state: "starting" };

  constructor(private readonly opts: HttpSourceOptions) {
    this.name = opts.name;
    this.kind = opts.kind;
  }

  async start(): Promise<void> {
    try {
      const specs = await this.opts.load();
      const compiled = new Map<string, CompiledHttpTool>();
      // Equal sub-schemas shared, and no link kept to the document they were read from.
      const interner = new Interner();
      for (const spec of specs) {
        try {
          compiled.set(spec.name, compileHttpTool(interner.intern(spec)));
        } catch (err) {
          this.opts.onSkipped?.(spec.name, err instanceof Error ? err.message : String(err));
        }
      }
      this.compiled = compiled;
      this.definitions = [...compiled.values()].map((c) => c.definition);
      this.state = { state: "up", detail: `${compiled.size} tools` };
    } catch (err) {
      this.state = { state: "down", detail: err instanceof Error ? err.message : String(err) };
      throw err instanceof FicusError ? err : new FicusError("FICUS_MCP_SOURCE_INVALID", `source ${this.name}: ${String(err)}`, { cause: err });
    }
  }

  tools(): readonly ToolDefinition[] {
    return this.definitions;
  }

  async call(tool: string, args: JsonObject, ctx: CallContext): Promise<CallToolResult> {
    const c = this.compiled.get(tool);
    if (c === undefined) return { content: [{ type: "text", text: `unknown tool ${tool}` }], isError: true };
    let request;
    try {
      request = c.request(args);
    } catch (err) {
      return { content: [{ type: "text", text: err instanceof Error ? err.message : String(err) }], isError: true };
    }
    // The trace goes on: the upstream's span is a child of the call's.
    const tp = ctx.meta?.traceparent;
    const carry = typeof tp === "string" ? ["traceparent", tp] : undefined;
    const creds = this.opts.credentials;
    if (creds === undefined) return c.result(await this.opts.invoker.send(request, { signal: ctx.signal, requestId: ctx.requestId, maxBody: this.opts.maxResponseBody, carry }));
    return c.result(await this.sendWith(creds, request, ctx, carry));
  }

  /** Sends with the source's Authorization; a 401 forgets the value and tries once more with a new one. */
  private async sendWith(creds: UpstreamAuth, request: HttpCall, ctx: CallContext, carry: string[] | undefined): Promise<HttpAnswer> {
    // The credentials are the one Authorization: a header the tool would set from an argument or fixed_headers is dropped.
    if (request.headers.some(([k]) => k.length === 13 && k.toLowerCase() === "authorization")) request = { ...request, headers: request.headers.filter(([k]) => k.toLowerCase() !== "authorization") };
    for (let attempt = 0; ; attempt++) {
      const value = await creds.authorization(ctx);
      const fields = carry === undefined ? [] : [...carry];
      if (value !== undefined) fields.push("authorization", value);
      const answer = await this.opts.invoker.send(request, { signal: ctx.signal, requestId: ctx.requestId, maxBody: this.opts.maxResponseBody, carry: fields });
      if (answer.status !== 401 || value === undefined || attempt > 0 || !creds.refused(value, ctx)) return answer;
    }
  }

  status(): { state: "up" | "starting" | "down"; detail?: string } {
    return this.state;
  }

  async close(): Promise<void> {}
}
