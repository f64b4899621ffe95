/**
 * CIDR built-ins: net.cidr_contains, net.cidr_intersects,
 * net.cidr_contains_matches, net.cidr_expand, net.cidr_merge and
 * net.cidr_is_valid, for IPv4 and IPv6, with OPA's results and messages.
 *
 * OPA runs these on Go's net package, and its quirks show through, so they are
 * reproduced here on purpose:
 * - Addresses are parsed as Go's netip does: IPv4 in dotted decimal with no
 *   leading zeros, IPv6 with at most one `::` and an optional trailing dotted
 *   quad, no zone.
 * - Every address lives in one 128-bit space; IPv4 is the IPv4-mapped range
 *   ::ffff:0:0/96, as in a Go 16-byte IP. An address in that range counts as
 *   IPv4 wherever Go would call To4() on it, so `::/0` does not contain
 *   10.0.0.1 but `::ffff:0:0/96` does, and such addresses print dotted.
 * - A bare IPv4 address given to net.cidr_merge takes its classful default
 *   mask (Go's IP.DefaultMask), and the address is kept unmasked when nothing
 *   merges with it: `10.1.2.3` comes back as "10.1.2.3/8", as in OPA.
 */
import { RegoSet, type Value, RegoObject } from "../value.ts";
import { builtinError, operandError, type BuiltinContext, type BuiltinDef } from "./types.ts";

const V4_PREFIX = 0xffffn << 32n;
const ALL_ONES = (1n << 128n) - 1n;

/** A network as Go's IPNet holds it: an address (masked, except for classful IPv4) and a prefix length in 128-bit space. */
interface Network {
  readonly ip: bigint;
  readonly bits: number;
}

function isV4(ip: bigint): boolean {
  return ip >> 32n === 0xffffn;
}

function maskOf(bits: number): bigint {
  return bits === 0 ? 0n : (ALL_ONES << BigInt(128 - bits)) & ALL_ONES;
}

// ---- parsing (Go's netip rules) ----

function parseIPv4Fields(s: string): number[] | undefined {
  const fields = s.split(".");
  if (fields.length !== 4) return undefined;
  const out: number[] = [];
  for (const f of fields) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(f)) return undefined;
    const n = Number(f);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseIPv4(s: string): bigint | undefined {
  const f = parseIPv4Fields(s);
  if (f === undefined) return undefined;
  return V4_PREFIX | BigInt((((f[0] as number) << 24) >>> 0) + ((f[1] as number) << 16) + ((f[2] as number) << 8) + (f[3] as number));
}

/** Go's parseIPv6 without zones (ParseIP and ParseCIDR reject them): 16 bytes or undefined. */
function parseIPv6(input: string): bigint | undefined {
  const bytes = new Uint8Array(16);
  let s = input;
  let ellipsis = -1;
  if (s.startsWith("::")) {
    ellipsis = 0;
    s = s.slice(2);
    if (s === "") return 0n;
  }
  let i = 0;
  while (i < 16) {
    const m = /^[0-9a-fA-F]*/.exec(s) as RegExpExecArray;
    const hex = m[0];
    if (hex.length === 0 || hex.length > 4) return undefined;
    if (s[hex.length] === ".") {
      // A trailing dotted quad: only as the last 32 bits.
      if ((ellipsis < 0 && i !== 12) || i + 4 > 16) return undefined;
      const f = parseIPv4Fields(s);
      if (f === undefined) return undefined;
      bytes.set(f, i);
      i += 4;
      s = "";
      break;
    }
    const acc = parseInt(hex, 16);
    bytes[i] = acc >> 8;
    bytes[i + 1] = acc & 0xff;
    i += 2;
    s = s.slice(hex.length);
    if (s === "") break;
    if (s[0] !== ":" || s.length === 1) return undefined;
    s = s.slice(1);
    if (s[0] === ":") {
      if (ellipsis >= 0) return undefined;
      ellipsis = i;
      s = s.slice(1);
      if (s === "") break;
    }
  }
  if (s !== "") return undefined;
  if (i < 16) {
    if (ellipsis < 0) return undefined;
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) bytes[j + n] = bytes[j] as number;
    bytes.fill(0, ellipsis, ellipsis + n);
  } else if (ellipsis >= 0) {
    // `::` must stand for at least one group of zeros.
    return undefined;
  }
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

interface ParsedAddr {
  readonly ip: bigint;
  /** Address length as written: 32 for dotted IPv4, 128 for IPv6 syntax (also ::ffff:1.2.3.4). */
  readonly bitLen: 32 | 128;
}

function parseAddr(s: string): ParsedAddr | undefined {
  for (const c of s) {
    if (c === ".") {
      const ip = parseIPv4(s);
      return ip === undefined ? undefined : { ip, bitLen: 32 };
    }
    if (c === ":") {
      const ip = parseIPv6(s);
      return ip === undefined ? undefined : { ip, bitLen: 128 };
    }
  }
  return undefined;
}

function parseIP(s: string): bigint | undefined {
  return parseAddr(s)?.ip;
}

/** Go's net.ParseCIDR: the masked network, or undefined. */
function parseCIDR(s: string): Network | undefined {
  const slash = s.indexOf("/");
  if (slash < 0) return undefined;
  const addr = parseAddr(s.slice(0, slash));
  const len = s.slice(slash + 1);
  if (addr === undefined || !/^[0-9]+$/.test(len)) return undefined;
  const n = Number(len);
  if (n > addr.bitLen) return undefined;
  const bits = n + (addr.bitLen === 32 ? 96 : 0);
  return { ip: addr.ip & maskOf(bits), bits };
}

// ---- formatting (Go's IP.String and IPNet.String) ----

function ipString(ip: bigint): string {
  if (isV4(ip)) {
    const v = Number(ip & 0xffffffffn);
    return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
  }
  const groups: number[] = [];
  for (let k = 7; k >= 0; k--) groups.push(Number((ip >> BigInt(k * 16)) & 0xffffn));
  // The longest run of two or more zero groups becomes "::" (the first, on a tie).
  let zeroStart = -1;
  let zeroEnd = -1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i >= 2 && j - i > zeroEnd - zeroStart) {
      zeroStart = i;
      zeroEnd = j;
    }
  }
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === zeroStart) {
      out += "::";
      i = zeroEnd - 1;
      continue;
    }
    if (i > 0 && !out.endsWith(":")) out += ":";
    out += (groups[i] as number).toString(16);
  }
  return out;
}

function networkString(n: Network): string {
  return isV4(n.ip) ? `${ipString(n.ip)}/${n.bits - 96}` : `${ipString(n.ip)}/${n.bits}`;
}

// ---- set operations ----

/** Go's IPNet.Contains: an IPv4(-mapped) address is only ever in an IPv4(-mapped) network. */
function contains(n: Network, ip: bigint): boolean {
  return isV4(n.ip) === isV4(ip) && ((n.ip ^ ip) & maskOf(n.bits)) === 0n;
}

function firstOf(n: Network): bigint {
  return n.ip & maskOf(n.bits);
}

function lastOf(n: Network): bigint {
  return firstOf(n) | (~maskOf(n.bits) & ALL_ONES);
}

// ---- operands ----

function stringArg(name: string, v: Value, position: number): string {
  if (typeof v !== "string") throw operandError(name, position, "string", v);
  return v;
}

/**
 * A CIDR operand. OPA reports a non-string here as "operand 1" whichever
 * operand it is; the wording is kept so messages match OPA's.
 */
function cidrArg(name: string, v: Value): Network {
  const s = stringArg(name, v, 1);
  const n = parseCIDR(s);
  if (n === undefined) throw builtinError(name, `invalid CIDR address: ${s}`);
  return n;
}

function cidrContains(name: string, a: Value, b: Value): boolean {
  const outer = cidrArg(name, a);
  const s = stringArg(name, b, 1);
  const ip = parseIP(s);
  if (ip !== undefined) return contains(outer, ip);
  const inner = parseCIDR(s);
  if (inner === undefined) throw builtinError(name, `not a valid textual representation of an IP address or CIDR: ${s}`);
  return contains(outer, inner.ip) && contains(outer, lastOf(inner));
}

function cidrIntersects(args: readonly Value[]): Value {
  const a = cidrArg("net.cidr_intersects", args[0] as Value);
  const b = cidrArg("net.cidr_intersects", args[1] as Value);
  return contains(a, b.ip) || contains(b, a.ip);
}

function cidrIsValid(args: readonly Value[]): Value {
  const v = args[0] as Value;
  return typeof v === "string" && parseCIDR(v) !== undefined;
}

/** Each CIDR of a cidr_contains_matches operand with the key it is reported under, lazily, so errors come in OPA's order. */
function* matchTerms(position: number, v: Value): Generator<[Value, Value]> {
  const cidrOf = (e: Value): Value => {
    if (typeof e === "string") return e;
    if (Array.isArray(e) && e.length > 0) return e[0] as Value;
    throw builtinError("net.cidr_contains_matches", `operand ${position}: element must be string or non-empty array`);
  };
  if (typeof v === "string") yield [v, v];
  else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) yield [cidrOf(v[i] as Value), i];
  else if (v instanceof RegoSet) for (const e of v.values()) yield [cidrOf(e), e];
  else if (v instanceof RegoObject) for (const [k, e] of v.entries()) yield [cidrOf(e), k];
  // OPA's type checker rejects other operand types; at run time they match nothing.
}

function cidrContainsMatches(args: readonly Value[], ctx: BuiltinContext): Value {
  const name = "net.cidr_contains_matches";
  const out = new RegoSet();
  for (const [cidr1, key1] of matchTerms(1, args[0] as Value)) {
    for (const [cidr2, key2] of matchTerms(2, args[1] as Value)) {
      ctx.charge(1);
      if (cidrContains(name, cidr1, cidr2)) out.add([key1, key2]);
    }
  }
  return out;
}

function cidrExpand(args: readonly Value[], ctx: BuiltinContext): Value {
  const name = "net.cidr_expand";
  const s = stringArg(name, args[0] as Value, 1);
  const n = parseCIDR(s);
  if (n === undefined) throw builtinError(name, `invalid CIDR address: ${s}`);
  const out = new RegoSet();
  const last = lastOf(n);
  // Every address costs a step, so a /8 or an IPv6 /64 runs out of budget instead of memory.
  for (let ip = firstOf(n); ip <= last; ip++) {
    ctx.charge(1);
    out.add(ipString(ip));
  }
  return out;
}

// ---- net.cidr_merge ----

/** A range of addresses; `network` is kept while nothing merged into it, so it prints as given. */
interface Range {
  first: bigint;
  last: bigint;
  network: Network | undefined;
}

/** Go's classful IP.DefaultMask, as a prefix length in 128-bit space. */
function defaultMaskBits(ip: bigint): number | undefined {
  const top = Number((ip >> 24n) & 0xffn);
  if (top < 0x80) return 96 + 8;
  if (top < 0xc0) return 96 + 16;
  if (top < 0xe0) return 96 + 24;
  return undefined;
}

function mergeOperand(v: Value): Network {
  const name = "net.cidr_merge";
  if (typeof v !== "string") throw builtinError(name, "element must be string");
  const ip = parseIP(v);
  if (ip === undefined) {
    const n = parseCIDR(v);
    if (n === undefined) throw builtinError(name, `invalid CIDR address: ${v}`);
    return n;
  }
  if (!isV4(ip)) throw builtinError(name, "IPv6 invalid: needs prefix length");
  // Go has no default mask for class D and E addresses and prints "<nil>"; a single address is the sensible reading.
  return { ip, bits: defaultMaskBits(ip) ?? 128 };
}

/** The fewest CIDR blocks covering first..last, largest aligned block first. */
function rangeToNetworks(first: bigint, last: bigint): Network[] {
  const out: Network[] = [];
  let ip = first;
  while (ip <= last) {
    let host = 0;
    // Grow the block while it stays aligned on ip and inside the range.
    while (host < 128) {
      const size = 1n << BigInt(host + 1);
      if ((ip & (size - 1n)) !== 0n || ip + size - 1n > last) break;
      host++;
    }
    out.push({ ip, bits: 128 - host });
    ip += 1n << BigInt(host);
  }
  return out;
}

function mergeRanges(ranges: Range[]): Range[] {
  ranges.sort((a, b) => (a.last !== b.last ? (a.last < b.last ? -1 : 1) : a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  // Walk down from the top, folding each range into the one below when they touch or overlap.
  for (let i = ranges.length - 1; i > 0; i--) {
    const cur = ranges[i] as Range;
    const prev = ranges[i - 1] as Range;
    const before = cur.first === 0n || cur.first === V4_PREFIX ? cur.first : cur.first - 1n;
    if (before <= prev.last) {
      ranges[i - 1] = { first: prev.first < cur.first ? prev.first : cur.first, last: cur.last, network: undefined };
      ranges.splice(i, 1);
    }
  }
  return ranges;
}

function cidrMerge(args: readonly Value[], ctx: BuiltinContext): Value {
  const v = args[0] as Value;
  let items: readonly Value[];
  if (Array.isArray(v)) items = v;
  else if (v instanceof RegoSet) items = v.values();
  else throw builtinError("net.cidr_merge", "operand must be an array");
  const ranges: Range[] = items.map((e) => {
    ctx.charge(1);
    const n = mergeOperand(e);
    return { first: firstOf(n), last: lastOf(n), network: n };
  });
  const out = new RegoSet();
  for (const r of mergeRanges(ranges)) {
    const networks = r.network !== undefined ? [r.network] : rangeToNetworks(r.first, r.last);
    for (const n of networks) out.add(networkString(n));
  }
  return out;
}

export const NET_BUILTINS: readonly BuiltinDef[] = [
  {
    name: "net.cidr_contains",
    arity: 2,
    args: ["string", "string"],
    fn: (args) => cidrContains("net.cidr_contains", args[0] as Value, args[1] as Value),
  },
  { name: "net.cidr_intersects", arity: 2, args: ["string", "string"], fn: cidrIntersects },
  { name: "net.cidr_contains_matches", arity: 2, fn: cidrContainsMatches },
  { name: "net.cidr_expand", arity: 1, args: ["string"], fn: cidrExpand },
  { name: "net.cidr_merge", arity: 1, fn: cidrMerge },
  { name: "net.cidr_is_valid", arity: 1, args: ["string"], fn: cidrIsValid },
];
