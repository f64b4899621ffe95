/**
 * Deny patterns on tool-call arguments (`mcp.guardrails.deny_arguments`):
 * each rule is compiled once, on RE2 (linear time whatever the pattern), and
 * checks the string values of the arguments it names (argument names or JSON
 * pointers, RFC 6901), or all of them, at any depth. Only whether a rule
 * matched comes out of here, never the value it matched (logs and metrics
 * name the rule, not the arguments).
 */
import { compileUserRegex, type UserRegex } from "../../../core/regex.ts";
import { compileGlobs } from "../../names.ts";
import type { JsonObject } from "../../types.ts";
import type { DenyRuleConfig } from "./schema.ts";

/** Deeper values than this are not walked: a rule checking them denies (nothing is let through unchecked). */
export const MAX_DEPTH = 256;

/** The reference tokens of a JSON pointer ("" is the whole document), or undefined when it is not one. */
export function parsePointer(p: string): string[] | undefined {
  if (p === "") return [];
  if (!p.startsWith("/")) return undefined;
  const out: string[] = [];
  for (const raw of p.slice(1).split("/")) {
    if (/~[^01]|~$/.test(raw)) return undefined;
    out.push(raw.replace(/~1/g, "/").replace(/~0/g, "~"));
  }
  return out;
}

/** The value at a pointer's tokens, or undefined. Array indexes are decimal, without leading zeros (RFC 6901 §4). */
function resolve(root: unknown, tokens: readonly string[]): unknown {
  let v: unknown = root;
  for (const t of tokens) {
    if (Array.isArray(v)) {
      if (!/^(?:0|[1-9][0-9]*)$/.test(t)) return undefined;
      v = v[Number(t)];
    } else if (v !== null && typeof v === "object") {
      v = Object.hasOwn(v, t) ? (v as JsonObject)[t] : undefined;
    } else return undefined;
    if (v === undefined) return undefined;
  }
  return v;
}

/** True when `re` matches one of the strings inside `v` (at any depth), or the value nests deeper than MAX_DEPTH. */
function anyString(v: unknown, re: UserRegex, depth: number): boolean {
  if (typeof v === "string") return re.test(v);
  if (v === null || typeof v !== "object") return false;
  if (depth >= MAX_DEPTH) return true;
  if (Array.isArray(v)) {
    for (const x of v) if (anyString(x, re, depth + 1)) return true;
    return false;
  }
  for (const k in v) if (anyString((v as JsonObject)[k], re, depth + 1)) return true;
  return false;
}

export class DenyRule {
  /** For the metric and the log: "deny_arguments:<name or index>". */
  readonly rule: string;
  readonly message: string;
  private readonly re: UserRegex;
  /** Top-level argument names and pointers' tokens; undefined: the whole arguments. */
  private readonly fields: readonly (string | readonly string[])[] | undefined;
  private readonly tools: ((name: string) => boolean) | undefined;

  constructor(config: DenyRuleConfig, index: number) {
    this.rule = `deny_arguments:${config.name ?? index}`;
    this.message = config.message ?? `the arguments of this call are not allowed (guardrail ${this.rule})`;
    this.re = compileUserRegex(config.pattern);
    this.fields = config.fields?.map((f) => (f.startsWith("/") ? (parsePointer(f) as string[]) : f));
    this.tools = config.tools !== undefined ? compileGlobs(config.tools) : undefined;
  }

  /** Whether the rule applies to a tool (by the name agents see). */
  appliesTo(tool: string): boolean {
    return this.tools === undefined || this.tools(tool);
  }

  /** Whether the arguments match the rule. */
  matches(args: JsonObject): boolean {
    if (this.fields === undefined) return anyString(args, this.re, 0);
    for (const f of this.fields) {
      const v = typeof f === "string" ? (Object.hasOwn(args, f) ? args[f] : undefined) : resolve(args, f);
      if (v !== undefined && anyString(v, this.re, 0)) return true;
    }
    return false;
  }
}

/** Compiles the rules (patterns were checked when the config loaded). */
export function compileDenyRules(rules: readonly DenyRuleConfig[]): DenyRule[] {
  return rules.map((r, i) => new DenyRule(r, i));
}
