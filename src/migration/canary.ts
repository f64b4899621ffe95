/**
 * Canary assignment: which side serves a request of a route in the canary
 * stage. Sticky by a key (a header, a cookie; the client address as fallback):
 * the key's stable hash picks a bucket in 0..9999, and the candidate serves
 * buckets below percent × 100. A key therefore always lands on the same side
 * at a given percentage, and raising the percentage only moves keys from
 * legacy to the candidate, never back. Requests without a key are assigned
 * per request by an accumulator (exactly the percentage over time).
 */

import { getFieldList } from "../pipeline/fields.ts";

export type Side = "legacy" | "candidate";

/** A request's header fields: a web Headers object, or the flat list the data plane carries. */
export type HeaderLookup = Headers | readonly string[];

function header(h: HeaderLookup, lower: string): string | null {
  if (!Array.isArray(h)) return (h as Headers).get(lower);
  // Several Cookie fields are one cookie-string joined by "; " (RFC 9113 §8.2.3); other lists by ", ".
  return getFieldList(h as readonly string[], lower, lower === "cookie" ? "; " : ", ") ?? null;
}

export interface CanarySettings {
  /** Mutable: commands change it at runtime. */
  percent: number;
  readonly header?: string | undefined;
  readonly cookie?: string | undefined;
  readonly fallback: "ip" | "none";
  readonly salt: string;
}

/** Buckets per 100%: assignment granularity is 0.01%. */
export const BUCKETS = 10_000;

/** The stable bucket of a key (0..9999). */
export function bucketOf(key: string, salt: string): number {
  return Bun.hash.xxHash32(salt === "" ? key : `${salt}\u0000${key}`) % BUCKETS;
}

/** True when a key's bucket is served by the candidate at this percentage. */
export function inCanary(bucket: number, percent: number): boolean {
  return bucket < Math.round(percent * (BUCKETS / 100));
}

/** The value of one cookie in a Cookie header, or undefined. */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The sticky key of a request, or undefined when it has none. */
export function stickyKey(s: CanarySettings, headers: HeaderLookup, clientIp: string): string | undefined {
  if (s.header !== undefined) {
    const v = header(headers, s.header);
    if (v !== null && v !== "") return v;
  }
  if (s.cookie !== undefined) {
    const v = cookieValue(header(headers, "cookie"), s.cookie);
    if (v !== undefined && v !== "") return v;
  }
  return s.fallback === "ip" && clientIp !== "" ? clientIp : undefined;
}

/** Per-route state for requests without a key. */
export interface CanaryState {
  acc: number;
}

/** Decides the side for one request. */
export function assign(s: CanarySettings, state: CanaryState, headers: HeaderLookup, clientIp: string): Side {
  if (s.percent <= 0) return "legacy";
  if (s.percent >= 100) return "candidate";
  const key = stickyKey(s, headers, clientIp);
  if (key !== undefined) return inCanary(bucketOf(key, s.salt), s.percent) ? "candidate" : "legacy";
  state.acc += s.percent / 100;
  if (state.acc >= 1) {
    state.acc -= 1;
    return "candidate";
  }
  return "legacy";
}

/** The side an X-Ficus-Force header asks for, if valid. */
export function forcedSide(value: string | null): Side | undefined {
  if (value === null) return undefined;
  const v = value.trim().toLowerCase();
  return v === "legacy" || v === "candidate" ? v : undefined;
}
