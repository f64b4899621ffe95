/**
 * The input document of a tool policy (docs/mcp.md, "Policy"):
 *
 *   { action: "call" | "list", endpoint,
 *     tool: { name, source, upstream_name, annotations, hash },
 *     (for prompts and resources, action "list" | "get" | "read" and prompt: { name, source, upstream_name }
 *      or resource: { uri, name, source } instead of tool)
 *     arguments (null for "list"),
 *     identity: { subject, method, issuer, scopes, roles, claims } }
 *
 * Built as a Rego object directly: the tool part is converted once per
 * catalog tool and the identity once per Identity object (the auth layer
 * caches identities), so a call converts only its arguments.
 */
import { ANONYMOUS, type Identity } from "../../../auth/identity.ts";
import { fromJSON, type Value } from "../../../policy/rego/index.ts";
import { RegoObject } from "../../../policy/rego/value.ts";
import { definitionHash } from "../../pinning/hash.ts";
import type { CatalogTool } from "../../registry/registry.ts";
import type { JsonObject } from "../../types.ts";
import type { GuardedItem } from "../guard.ts";

const toolValues = new WeakMap<CatalogTool, Value>();
const identityValues = new WeakMap<Identity, Value>();

/** input.tool; the hash is the definitionHash (SHA-256 of RFC 8785 JSON) of the definition agents see. */
export function toolValue(t: CatalogTool): Value {
  let v = toolValues.get(t);
  if (v === undefined) {
    v = fromJSON({ name: t.name, source: t.entry.source.name, upstream_name: t.upstreamName, annotations: t.definition.annotations ?? {}, hash: definitionHash(t.definition) });
    toolValues.set(t, v);
  }
  return v;
}

/** input.identity (the anonymous identity when the endpoint has no authentication). */
export function identityValue(id: Identity | undefined): Value {
  const i = id ?? ANONYMOUS;
  let v = identityValues.get(i);
  if (v === undefined) {
    v = fromJSON({ subject: i.subject, method: i.method, issuer: i.issuer, scopes: i.scopes, roles: i.roles, claims: i.claims });
    identityValues.set(i, v);
  }
  return v;
}

/** The whole input document; `args` undefined for a list decision. Throws a TypeError for arguments Rego cannot hold. */
export function policyInput(action: "call" | "list", endpoint: string, tool: CatalogTool, args: JsonObject | undefined, identity: Identity | undefined): RegoObject {
  const o = new RegoObject();
  o.set("action", action);
  o.set("endpoint", endpoint);
  o.set("tool", toolValue(tool));
  o.set("arguments", args === undefined ? null : fromJSON(args, "arguments"));
  o.set("identity", identityValue(identity));
  return o;
}

/** The input document of a decision on a prompt or a resource (input.prompt or input.resource instead of input.tool). */
export function itemInput(action: "list" | "get" | "read", endpoint: string, item: GuardedItem, identity: Identity | undefined): RegoObject {
  const o = new RegoObject();
  o.set("action", action);
  o.set("endpoint", endpoint);
  if (item.kind === "prompt") o.set("prompt", fromJSON({ name: item.name, source: item.source, upstream_name: item.upstreamName }));
  else o.set("resource", fromJSON({ uri: item.uri, name: item.name, source: item.source }));
  o.set("identity", identityValue(identity));
  return o;
}
