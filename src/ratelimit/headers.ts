/**
 * The IETF rate-limit fields, in the structured-field form of
 * draft-ietf-httpapi-ratelimit-headers-11 (§3, §4): each is a List of Items
 * whose value is the policy's name as an sf-string.
 *
 *   RateLimit-Policy: "per-client";q=100;w=1, "per-user";q=1000;w=60
 *   RateLimit: "per-client";r=0;t=3
 *
 * `q` is the quota (requests, the default unit, so `qu` is left out) per
 * window `w` in whole seconds; `r` is the quota still available, `t` the
 * seconds until it is whole again (on a refusal, until the next request
 * would be admitted, matching Retry-After, §6). RateLimit-Policy is fixed per
 * route and built once; RateLimit reports the tightest limit of the request.
 * No partition key (`pk`) is sent: it would echo a client's key.
 */

/** A policy item: `"name";q=…;w=…` (names are config names: letters, digits, `_.-`, safe inside an sf-string). */
export function policyItem(name: string, quota: number, windowSeconds: number): string {
  return `"${name}";q=${quota};w=${windowSeconds}`;
}

/** A service-limit item: `"name";r=…;t=…`. */
export function limitItem(name: string, remaining: number, resetSeconds: number): string {
  return `"${name}";r=${remaining};t=${resetSeconds}`;
}

/** Whole seconds for a duration in ms, rounded up (0 stays 0): delay-seconds never promise earlier than the truth. */
export function ceilSeconds(ms: number): number {
  return ms <= 0 ? 0 : Math.ceil(ms / 1000 - 1e-9);
}

/**
 * The quota and window advertised for `count` requests per `periodMs`: the window is the period in whole
 * seconds (at least 1; a sub-second period is stated per second, its count scaled, rounded down).
 */
export function advertised(count: number, periodMs: number): { quota: number; window: number } {
  if (periodMs >= 1000 && periodMs % 1000 === 0) return { quota: count, window: periodMs / 1000 };
  const window = Math.max(1, Math.round(periodMs / 1000));
  return { quota: Math.floor((count * window * 1000) / periodMs), window };
}
