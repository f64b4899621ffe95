/**
 * Header lists as the pipeline carries them: one flat array, name, value,
 * name, value…, names as received (case kept), in order, repeats kept. This
 * is what the wire has and what is forwarded, so nothing is reordered,
 * merged or added on the way that the configuration did not ask for. Names
 * are compared case-insensitively; `lower` arguments are lowercase.
 */

/** ASCII-lowercase equality of a received name with a lowercase one, without allocating. */
export function nameEquals(name: string, lower: string): boolean {
  const n = name.length;
  if (n !== lower.length) return false;
  if (name === lower) return true;
  for (let i = 0; i < n; i++) {
    let c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** The first value of a field, or undefined. */
export function getField(fields: readonly string[], lower: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (nameEquals(fields[i] as string, lower)) return fields[i + 1];
  return undefined;
}

/** Every value of a field joined by ", " (RFC 9110 §5.3; Cookie takes "; "), or undefined. */
export function getFieldList(fields: readonly string[], lower: string, separator = ", "): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    if (nameEquals(fields[i] as string, lower)) out = out === undefined ? (fields[i + 1] as string) : `${out}${separator}${fields[i + 1]}`;
  }
  return out;
}

export function hasField(fields: readonly string[], lower: string): boolean {
  for (let i = 0; i < fields.length; i += 2) if (nameEquals(fields[i] as string, lower)) return true;
  return false;
}

/** Removes every occurrence of a field, in place. Returns how many were removed. */
export function deleteField(fields: string[], lower: string): number {
  let w = 0;
  let removed = 0;
  for (let r = 0; r < fields.length; r += 2) {
    if (nameEquals(fields[r] as string, lower)) {
      removed++;
      continue;
    }
    if (w !== r) {
      fields[w] = fields[r] as string;
      fields[w + 1] = fields[r + 1] as string;
    }
    w += 2;
  }
  fields.length = w;
  return removed;
}

/** Replaces a field: the first occurrence keeps its place (and the name's case), the others go; appended when absent. */
export function setField(fields: string[], lower: string, value: string, name: string = lower): void {
  for (let i = 0; i < fields.length; i += 2) {
    if (nameEquals(fields[i] as string, lower)) {
      fields[i + 1] = value;
      for (let j = i + 2; j < fields.length; j += 2) {
        if (nameEquals(fields[j] as string, lower)) {
          deleteFrom(fields, lower, j);
          break;
        }
      }
      return;
    }
  }
  fields.push(name, value);
}

function deleteFrom(fields: string[], lower: string, from: number): void {
  let w = from;
  for (let r = from; r < fields.length; r += 2) {
    if (nameEquals(fields[r] as string, lower)) continue;
    fields[w] = fields[r] as string;
    fields[w + 1] = fields[r + 1] as string;
    w += 2;
  }
  fields.length = w;
}

/** Appends `value` to a list field (", " joined) or adds it. */
export function appendToField(fields: string[], lower: string, value: string): void {
  const current = getFieldList(fields, lower);
  if (current === undefined) fields.push(lower, value);
  else setField(fields, lower, `${current}, ${value}`);
}

/**
 * Fields that describe one connection, not the message (RFC 9110 §7.6.1): removed before a message is forwarded,
 * with every field the Connection header names. Trailer too, as RFC 7230 §6.1 listed it.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set(["connection", "proxy-connection", "keep-alive", "te", "transfer-encoding", "upgrade", "trailer"]);

/** ASCII-lowercase, without allocating when `s` has no uppercase letter. */
export function lowerAscii(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.toLowerCase();
  }
  return s;
}

/** Lengths of the names `endToEnd` must look at more closely: hop-by-hop names, Content-Length, Host. */
const WATCHED_LENGTHS = new Set([2, 4, 7, 10, 14, 16, 17]);

/**
 * The end-to-end fields of a received list, copied in one pass: hop-by-hop fields, the fields Connection names,
 * and Content-Length left out; Host left out too when `host` is asked for (its first value is returned).
 */
export function endToEnd(src: readonly string[], takeHost: boolean): { fields: string[]; host: string | undefined } {
  const fields: string[] = [];
  let host: string | undefined;
  let connection: string | undefined;
  for (let i = 0; i < src.length; i += 2) {
    const name = src[i] as string;
    const n = name.length;
    if (WATCHED_LENGTHS.has(n)) {
      const lower = lowerAscii(name);
      if (n === 4 && lower === "host") {
        if (takeHost) {
          host ??= src[i + 1];
          continue;
        }
      } else if (HOP_BY_HOP.has(lower) || lower === "content-length") {
        if (lower === "connection") connection = connection === undefined ? src[i + 1] : `${connection}, ${src[i + 1]}`;
        continue;
      }
    }
    fields.push(name, src[i + 1] as string);
  }
  if (connection !== undefined) {
    for (const raw of connection.split(",")) {
      const t = lowerAscii(raw.trim());
      if (t !== "" && t !== "close" && t !== "keep-alive") deleteField(fields, t);
    }
  }
  return { fields, host };
}

/** Size of a header section as received: names, values and the ": " and CRLF around them. */
export function fieldsBytes(fields: readonly string[]): number {
  let size = 0;
  for (let i = 0; i < fields.length; i++) size += (fields[i] as string).length + 2;
  return size;
}

/** As a web `Headers` object (for the code that compares and records, off the hot path). */
export function toHeaders(fields: readonly string[]): Headers {
  const h = new Headers();
  for (let i = 0; i < fields.length; i += 2) h.append(fields[i] as string, fields[i + 1] as string);
  return h;
}

/** As [lowercase name, value] pairs, in order (how the compare engine reads a message's fields). */
export function lowerPairs(fields: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < fields.length; i += 2) out.push([lowerAscii(fields[i] as string), fields[i + 1] as string]);
  return out;
}
