/**
 * Where the admin API really listens. Whether it may run without a token is
 * decided on the IP address it binds, never on the spelling of the host name:
 * "127.example.com" can resolve anywhere, while "localhost", "::1",
 * "0:0:0:0:0:0:0:1" and "::ffff:127.0.0.1" are all loopback. The listener then
 * binds the very address that was checked, so a second lookup cannot differ.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { FicusError } from "../core/errors.ts";

/** The 16 bytes of an IPv6 address (with an embedded IPv4 tail or "::"), or undefined when malformed. */
function ipv6Bytes(ip: string): Uint8Array | undefined {
  let text = ip.toLowerCase();
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  const groups: number[] = [];
  // A trailing dotted IPv4 part stands for the last two groups.
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = ipv4Bytes(tail);
    if (!v4) return undefined;
    text = `${text.slice(0, lastColon + 1)}${((v4[0] as number) << 8 | (v4[1] as number)).toString(16)}:${((v4[2] as number) << 8 | (v4[3] as number)).toString(16)}`;
  }
  const parts = text.split("::");
  if (parts.length > 2) return undefined;
  const head = parts[0] === "" ? [] : (parts[0] as string).split(":");
  const rest = parts.length === 2 ? (parts[1] === "" ? [] : (parts[1] as string).split(":")) : [];
  const fill = 8 - head.length - rest.length;
  if (parts.length === 1 ? head.length !== 8 : fill < 1) return undefined;
  for (const g of [...head, ...Array<string>(parts.length === 2 ? fill : 0).fill("0"), ...rest]) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    groups.push(Number.parseInt(g, 16));
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function ipv4Bytes(ip: string): Uint8Array | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return Uint8Array.from(parts.map(Number));
}

/** True when `ip` (an IP literal, brackets allowed) is a loopback address: 127.0.0.0/8, ::1, or IPv4-mapped 127/8. */
export function isLoopbackIp(ip: string): boolean {
  const a = ip.replace(/^\[|\]$/g, "");
  const family = isIP(a.replace(/%.*$/, ""));
  if (family === 4) return ipv4Bytes(a)?.[0] === 127;
  if (family !== 6) return false;
  const b = ipv6Bytes(a);
  if (!b) return false;
  const zeros = (from: number, to: number) => b.subarray(from, to).every((x) => x === 0);
  if (zeros(0, 15) && b[15] === 1) return true; // ::1
  // ::ffff:a.b.c.d (IPv4-mapped) with a loopback IPv4 address.
  return zeros(0, 10) && b[10] === 0xff && b[11] === 0xff && b[12] === 127;
}

export interface ResolvedListen {
  /** The IP address to bind (what was checked). */
  readonly address: string;
  readonly loopback: boolean;
}

/**
 * Resolves a listen host to the address to bind. An IP literal is taken as it
 * is; a name is looked up, and counts as loopback only when every address it
 * resolves to is loopback.
 */
export async function resolveListenHost(hostname: string, resolve: (host: string) => Promise<{ address: string }[]> = (h) => lookup(h, { all: true, verbatim: true })): Promise<ResolvedListen> {
  const bare = hostname.replace(/^\[|\]$/g, "");
  if (isIP(bare.replace(/%.*$/, "")) !== 0) return { address: bare, loopback: isLoopbackIp(bare) };
  let addresses: { address: string }[];
  try {
    addresses = await resolve(bare);
  } catch (err) {
    throw new FicusError("FICUS_LISTEN_FAILED", `cannot resolve the admin listen host ${JSON.stringify(hostname)}: ${(err as Error).message}`, { cause: err });
  }
  const first = addresses[0];
  if (first === undefined) throw new FicusError("FICUS_LISTEN_FAILED", `the admin listen host ${JSON.stringify(hostname)} resolves to no address`);
  return { address: first.address, loopback: addresses.every((a) => isLoopbackIp(a.address)) };
}
