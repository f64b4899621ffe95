/**
 * Whether a config migrates an MCP server (a source with a `candidate`): the one question the data plane's
 * start and reload ask, in a module of its own so that they load nothing else (no schema, no zod).
 */
import type { FicusConfig } from "../../../config/schema.ts";

export function hasMcpMigrations(config: FicusConfig): boolean {
  for (const s of Object.values(config.mcp.sources)) if (s.candidate !== undefined) return true;
  return false;
}
