/**
 * The syntax of hosts and request-targets: `uri-host [":" port]` (RFC 3986
 * §3.2, as used by Host, RFC 9112 §3.2) and the four request-target forms
 * (RFC 9112 §3.2.1–3.2.4). Works on decoded strings; run once per request on
 * the target when it is not origin-form, and on the Host value.
 */

// unreserved / sub-delims (RFC 3986 §2.2–2.3): the characters of a reg-name besides pct-encoded.
const REG_NAME = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=") REG_NAME[c.charCodeAt(0)] = 1;

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Why `s` is not `uri-host [":" port]`, or undefined when it is. `strict`
 * (absolute-form and CONNECT targets) also refuses an empty host; a Host field
 * may be empty (RFC 9112 §3.2). `portRequired` is for CONNECT's authority-form.
 */
export function hostProblem(s: string, strict: boolean, portRequired: boolean): string | undefined {
  const n = s.length;
  let i = 0;
  if (n > 0 && s.charCodeAt(0) === 0x5b /* [ */) {
    // IP-literal: IPv6address or IPvFuture, between brackets.
    const close = s.indexOf("]");
    if (close < 0) return "has an unclosed '['";
    const inner = s.slice(1, close);
    if (inner.length === 0) return "has an empty IP literal";
    const first = inner.charCodeAt(0);
    if (first === 0x76 || first === 0x56 /* v V */) {
      const dot = inner.indexOf(".");
      if (dot < 2 || dot === inner.length - 1) return "has a malformed IPvFuture literal";
      for (let k = 1; k < dot; k++) if (!isHex(inner.charCodeAt(k))) return "has a malformed IPvFuture literal";
      for (let k = dot + 1; k < inner.length; k++) {
        const c = inner.charCodeAt(k);
        if (c !== 0x3a && (c >= 128 || REG_NAME[c] !== 1)) return "has a malformed IPvFuture literal";
      }
    } else {
      let colons = 0;
      for (let k = 0; k < inner.length; k++) {
        const c = inner.charCodeAt(k);
        if (c === 0x3a) colons++;
        else if (!isHex(c) && c !== 0x2e) return "has a malformed IPv6 literal";
      }
      if (colons < 2) return "has a malformed IPv6 literal";
    }
    i = close + 1;
  } else {
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 0x3a /* : */) break;
      if (c === 0x25 /* % */) {
        if (i + 2 >= n || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return "has a '%' not followed by two hex digits";
        i += 3;
        continue;
      }
      if (c >= 128 || REG_NAME[c] !== 1) {
        if (c === 0x40) return "contains '@' (userinfo is not allowed)";
        if (c === 0x2f) return "contains '/'";
        if (c === 0x20 || c === 0x09) return "contains whitespace";
        return `contains the character ${JSON.stringify(s[i])}`;
      }
      i++;
    }
    if (strict && i === 0) return "has an empty host";
  }
  if (i === n) return portRequired ? "has no port" : undefined;
  if (s.charCodeAt(i) !== 0x3a) return "has characters after the IP literal";
  const p0 = i + 1;
  if (p0 === n) return portRequired ? "has an empty port" : undefined;
  if (n - p0 > 5) return "has a port above 65535";
  let port = 0;
  for (let k = p0; k < n; k++) {
    const c = s.charCodeAt(k);
    if (!isDigit(c)) return "has a port that is not a number";
    port = port * 10 + (c - 0x30);
  }
  if (port > 65535) return "has a port above 65535";
  return undefined;
}

/**
 * Where the authority of an absolute-form target lies: [start, end) in
 * `target`, or undefined when the target is not absolute-form with an
 * authority ("scheme://authority…").
 */
export function absoluteAuthority(target: string): { start: number; end: number } | undefined {
  const c0 = target.charCodeAt(0);
  if (c0 === 0x2f || target === "*") return undefined;
  const colon = schemeEnd(target);
  if (colon < 0 || target.charCodeAt(colon + 1) !== 0x2f || target.charCodeAt(colon + 2) !== 0x2f) return undefined;
  const start = colon + 3;
  let end = start;
  while (end < target.length) {
    const c = target.charCodeAt(end);
    if (c === 0x2f || c === 0x3f) break; // "/" or "?"
    end++;
  }
  return { start, end };
}

/** The index of the ":" ending a URI scheme at the start of `s` (RFC 3986 §3.1), or -1. */
function schemeEnd(s: string): number {
  const c0 = s.charCodeAt(0);
  if (!((c0 >= 0x41 && c0 <= 0x5a) || (c0 >= 0x61 && c0 <= 0x7a))) return -1;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3a) return i;
    const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e;
    if (!ok) return -1;
  }
  return -1;
}

function isHttpScheme(s: string, colon: number): boolean {
  const scheme = s.slice(0, colon).toLowerCase();
  return scheme === "http" || scheme === "https";
}

/**
 * Why a request-target of a non-origin form is not acceptable for `method`,
 * or undefined (RFC 9112 §3.2). Origin-form ("/…") is checked by the caller
 * before decoding; this sees the others:
 * - asterisk-form "*" only for OPTIONS;
 * - authority-form (host:port) only, and always, for CONNECT;
 * - absolute-form, for the http and https schemes only (what a gateway can
 *   serve; RFC 9110 §7.4), with an authority holding a non-empty host and no
 *   userinfo (RFC 9110 §4.2.1, §4.2.4).
 */
export function targetProblem(method: string, target: string): string | undefined {
  if (method === "CONNECT") {
    const p = hostProblem(target, true, true);
    return p === undefined ? undefined : `CONNECT needs authority-form (host:port); the target ${p}`;
  }
  if (target.charCodeAt(0) === 0x2f) return undefined;
  if (target === "*") return method === "OPTIONS" ? undefined : "asterisk-form (*) is only for OPTIONS";
  const colon = schemeEnd(target);
  if (colon < 0) return "is neither origin-form (/path), absolute-form (http://…), authority-form (CONNECT) nor *";
  if (!isHttpScheme(target, colon)) return "is absolute-form with a scheme other than http or https";
  const auth = absoluteAuthority(target);
  if (auth === undefined) return "is an http(s) URI without an authority (//host)";
  const p = hostProblem(target.slice(auth.start, auth.end), true, false);
  return p === undefined ? undefined : `has an authority that ${p}`;
}
