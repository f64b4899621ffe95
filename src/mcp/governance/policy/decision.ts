/**
 * What a tool policy decided: `true` allows, `false` or undefined denies,
 * and an object `{allow, message, arguments}` allows (with `arguments`
 * merged over the call's) or denies with `message`. Any other shape is a
 * policy error, like a Rego error or a budget stop.
 */
import { RegoError, toJSON, type Value } from "../../../policy/rego/index.ts";
import type { JsonObject } from "../../types.ts";
import { kindOf } from "../../../core/describe.ts";

export type PolicyResult = "allow" | "deny" | "error";

export interface Decision {
  readonly result: PolicyResult;
  /** For the agent (a denial's tool error). */
  readonly message: string;
  /** For the decision log: the policy's message, or the error. */
  readonly reason: string | undefined;
  /** Arguments to merge over the call's (an allow only). */
  readonly rewrite: JsonObject | undefined;
}

const MAX_MESSAGE = 1024;

export const ALLOW: Decision = Object.freeze({ result: "allow", message: "", reason: undefined, rewrite: undefined });

function deny(message: string, reason: string): Decision {
  return { result: "deny", message, reason, rewrite: undefined };
}

export function failure(reason: string): Decision {
  return { result: "error", message: "", reason, rewrite: undefined };
}

/** The decision a value stands for; `tool` names the tool in the default denial message. */
export function interpret(v: Value | undefined, tool: string): Decision {
  if (v === true) return ALLOW;
  if (v === false || v === undefined) return deny(`the policy denies calling ${tool}`, "policy decision: false");
  const d = toJSON(v) as Record<string, unknown>;
  if (d === null || typeof d !== "object" || Array.isArray(d)) return failure(`the decision is ${kindOf(d)}; expected a boolean or an object {allow, message, arguments}`);
  for (const k of Object.keys(d)) if (k !== "allow" && k !== "message" && k !== "arguments") return failure(`the decision has an unknown key ${JSON.stringify(k)}; expected allow, message, arguments`);
  const allow = d.allow;
  if (allow !== undefined && typeof allow !== "boolean") return failure(`the decision's allow is ${kindOf(allow)}; expected a boolean`);
  if (d.message !== undefined && typeof d.message !== "string") return failure(`the decision's message is ${kindOf(d.message)}; expected a string`);
  let message = d.message as string | undefined;
  if (message !== undefined && message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE)}…`;
  const a = d.arguments;
  if (a !== undefined && (a === null || typeof a !== "object" || Array.isArray(a))) return failure(`the decision's arguments is ${kindOf(a)}; expected an object`);
  if (allow !== true) return deny(message ?? `the policy denies calling ${tool}`, message ?? "policy decision: allow is not true");
  const rewrite = a as JsonObject | undefined;
  return rewrite === undefined || Object.keys(rewrite).length === 0 ? ALLOW : { result: "allow", message: "", reason: undefined, rewrite };
}

export function evalFailure(e: unknown): Decision {
  if (e instanceof RegoError) return failure(`${e.code}: ${e.message}`);
  if (e instanceof TypeError) return failure(`FICUS_POLICY_EVAL: the input is not a Rego value: ${e.message}`);
  return failure(`FICUS_INTERNAL: ${e instanceof Error ? e.message : String(e)}`);
}

