/**
 * IP addresses and CIDR ranges, for deciding which connections come from a
 * trusted front (sidecar.trusted_fronts) and for reading X-Forwarded-For.
 * Addresses are compared as 16 bytes (IPv4 as ::ffff:a.b.c.d, RFC 4291
 * §2.5.5.2), so "127.0.0.1" and "::ffff:127.0.0.1" are the same address.
 */

/** An address as 16 bytes, or undefined when the text is not an IPv4 or IPv6 address. */
export function parseAddress(text: string): Uint8Array | undefined {
  let s = text;
  if (s.length > 2 && s.charCodeAt(0) === 91 /* [ */ && s.charCodeAt(s.length - 1) === 93 /* ] */) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (s.includes(":")) return parseV6(s);
  const v4 = parseV4(s);
  if (v4 === undefined) return undefined;
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(v4, 12);
  return out;
}

function parseV4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseV6(s: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const words: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i] as string;
      if (i === pieces.length - 1 && p.includes(".")) {
        const v4 = parseV4(p);
        if (v4 === undefined) return undefined;
        words.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) words.push(Number.parseInt(p, 16));
      else return undefined;
    }
    return words;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (head === undefined || tail === undefined) return undefined;
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const words = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[i * 2] = (words[i] as number) >> 8;
    out[i * 2 + 1] = (words[i] as number) & 0xff;
  }
  return out;
}

interface Range {
  readonly base: Uint8Array;
  /** Prefix length over the 16 bytes (an IPv4 /n is 96 + n). */
  readonly bits: number;
}

/** A range "10.0.0.0/8", "fd00::/8", or one address ("127.0.0.1", "::1"); undefined when malformed. */
export function parseRange(text: string): Range | undefined {
  const slash = text.indexOf("/");
  const addr = slash < 0 ? text : text.slice(0, slash);
  const base = parseAddress(addr);
  if (base === undefined) return undefined;
  const v4 = !addr.includes(":");
  const max = v4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const b = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(b) || Number(b) > max) return undefined;
    bits = Number(b);
  }
  return { base, bits: v4 ? 96 + bits : bits };
}

function inRange(a: Uint8Array, r: Range): boolean {
  const full = r.bits >> 3;
  for (let i = 0; i < full; i++) if (a[i] !== r.base[i]) return false;
  const rest = r.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((a[full] as number) & mask) === ((r.base[full] as number) & mask);
}

/**
 * A set of ranges, asked per request with the peer's address text: answers are remembered (the peers of a
 * sidecar are a few fronts), the memory cleared when it grows past a bound.
 */
export class AddressSet {
  private readonly ranges: readonly Range[];
  private readonly memo = new Map<string, boolean>();

  /** Throws when a range is malformed (the schema has checked them already). */
  constructor(readonly texts: readonly string[]) {
    this.ranges = texts.map((t) => {
      const r = parseRange(t);
      if (r === undefined) throw new Error(`not an IP address or CIDR range: ${JSON.stringify(t)}`);
      return r;
    });
  }

  has(address: string): boolean {
    const known = this.memo.get(address);
    if (known !== undefined) return known;
    const a = parseAddress(address);
    const yes = a !== undefined && this.ranges.some((r) => inRange(a, r));
    if (this.memo.size >= 1024) this.memo.clear();
    this.memo.set(address, yes);
    return yes;
  }
}

/**
 * The client's address from an X-Forwarded-For list sent by a trusted front: the rightmost entry that is not
 * itself a trusted front (entries to its left were written by the client or by untrusted hops, and are
 * ignored). Undefined when the list has no usable entry: the caller keeps the connection's address.
 */
export function clientFromForwardedFor(list: string, trusted: AddressSet): string | undefined {
  const entries = list.split(",");
  let lastTrusted: string | undefined;
  for (let i = entries.length - 1; i >= 0; i--) {
    let e = (entries[i] as string).trim();
    // "[v6]:port" and "v4:port" (some fronts add the port): keep the address.
    if (e.startsWith("[")) {
      const close = e.indexOf("]");
      if (close > 0) e = e.slice(1, close);
    } else if (e.indexOf(":") > 0 && e.indexOf(":") === e.lastIndexOf(":") && e.includes(".")) e = e.slice(0, e.indexOf(":"));
    if (parseAddress(e) === undefined) return lastTrusted;
    if (!trusted.has(e)) return e;
    lastTrusted = e;
  }
  return lastTrusted;
}
