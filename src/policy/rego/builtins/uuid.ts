/**
 * uuid.rfc4122 and uuid.parse.
 *
 * uuid.rfc4122(k) is a random version-4 UUID, the same one for the same key
 * within one evaluation (ctx.evalMemo), as OPA gives within a query; the next
 * decision draws new ones.
 *
 * uuid.parse(s) reads the forms Google's uuid package reads for OPA
 * (canonical, "urn:uuid:" prefixed, braced, 32 bare hex digits) and returns
 * version and variant, plus what versions 1 and 2 encode: the time in Unix
 * nanoseconds, clock sequence, node id and its MAC-address bits, and for
 * version 2 the DCE domain and id. A string that is no UUID gives no result.
 */
import { randomBytes } from "node:crypto";
import { numFromBigInt } from "../number.ts";
import { RegoObject, canonicalKey, type Value } from "../value.ts";
import { isASCII, stringArg } from "./text-operands.ts";
import type { BuiltinContext, BuiltinDef } from "./types.ts";

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** A random version-4, RFC 4122 variant UUID. */
export function randomUUIDv4(): string {
  const b = randomBytes(16);
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const h = hexOf(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function rfc4122(args: readonly Value[], ctx: BuiltinContext): Value {
  const key = `uuid.rfc4122:${canonicalKey(args[0] as Value)}`;
  const known = ctx.evalMemo.get(key);
  if (typeof known === "string") return known;
  const id = randomUUIDv4();
  ctx.evalMemo.set(key, id);
  return id;
}

/** The 16 bytes of a UUID in one of Google's uuid.Parse forms, or undefined. */
export function uuidBytes(s: string): Uint8Array | undefined {
  if (!isASCII(s)) return undefined;
  let body: string;
  if (s.length === 36) body = s;
  else if (s.length === 45 && s.slice(0, 9).toLowerCase() === "urn:uuid:") body = s.slice(9);
  // Google's parser takes the first and last characters of this form to be braces without looking.
  else if (s.length === 38) body = s.slice(1, 37);
  else if (s.length === 32) return hexBytes(s);
  else return undefined;
  if (body[8] !== "-" || body[13] !== "-" || body[18] !== "-" || body[23] !== "-") return undefined;
  return hexBytes(body.slice(0, 8) + body.slice(9, 13) + body.slice(14, 18) + body.slice(19, 23) + body.slice(24));
}

function hexBytes(h: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F]{32}$/.test(h)) return undefined;
  return Uint8Array.from(Buffer.from(h, "hex"));
}

function variantName(b8: number): string {
  if ((b8 & 0xc0) === 0x80) return "RFC4122";
  if ((b8 & 0xe0) === 0xc0) return "Microsoft";
  if ((b8 & 0xe0) === 0xe0) return "Future";
  return "Reserved";
}

/** What the first byte of a MAC address says: locally administered or global, multicast or unicast. */
function macVariables(b: number): string {
  if ((b & 0b11) === 0b11) return "local:multicast";
  if ((b & 0b01) === 0b01) return "global:multicast";
  if ((b & 0b10) === 0b10) return "local:unicast";
  return "global:unicast";
}

const DOMAINS = ["Person", "Group", "Org"];

/** 100-nanosecond intervals between 1582-10-15 (the UUID epoch) and 1970-01-01. */
const GREGORIAN_TO_UNIX = 122192928000000000n;

function be(bytes: Uint8Array, from: number, to: number): bigint {
  let v = 0n;
  for (let i = from; i < to; i++) v = (v << 8n) | BigInt(bytes[i] as number);
  return v;
}

export function describeUUID(u: Uint8Array): RegoObject {
  const version = (u[6] as number) >> 4;
  const out = new RegoObject().set("version", version).set("variant", variantName(u[8] as number));
  if (version !== 1 && version !== 2) return out;
  const ticks = be(u, 0, 4) | (be(u, 4, 6) << 32n) | ((be(u, 6, 8) & 0xfffn) << 48n);
  // Go computes this in int64, wrapping for dates past 2262; so does this.
  out.set("time", numFromBigInt(BigInt.asIntN(64, (ticks - GREGORIAN_TO_UNIX) * 100n)));
  out.set("clocksequence", Number(be(u, 8, 10) & 0x3fffn));
  const node = u.slice(10, 16);
  out.set("nodeid", Array.from(node, (b) => b.toString(16).padStart(2, "0")).join("-"));
  out.set("macvariables", macVariables(node[0] as number));
  if (version === 2) {
    const domain = u[9] as number;
    out.set("domain", DOMAINS[domain] ?? `Domain${domain}`);
    out.set("id", Number(be(u, 0, 4)));
  }
  return out;
}

function parse(args: readonly Value[]): Value | undefined {
  const bytes = uuidBytes(stringArg("uuid.parse", args, 1));
  return bytes === undefined ? undefined : describeUUID(bytes);
}

export const UUID_BUILTINS: readonly BuiltinDef[] = [
  { name: "uuid.rfc4122", arity: 1, args: ["string"], fn: rfc4122, nondeterministic: true },
  { name: "uuid.parse", arity: 1, args: ["string"], fn: parse },
];
