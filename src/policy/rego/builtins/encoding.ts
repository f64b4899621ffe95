/**
 * Encoding built-ins: base64 / base64url / hex, urlquery, json.* and yaml.*.
 *
 * OPA implements these with Go's standard library, and its error messages are
 * Go's ("illegal base64 data at input byte 4", `invalid URL escape "%zz"`),
 * so the codecs here follow Go's rules rather than Buffer's lenient ones:
 * Buffer.from(s, "base64") silently skips bad characters, where a policy
 * checking a token's encoding needs the error.
 *
 * YAML goes through the `yaml` package with YAML 1.1 rules, as OPA's go-yaml
 * v2 reads it (`yes`/`on` are booleans, `0777` is octal), except timestamps,
 * which go-yaml v2 hands to JSON as the strings they were written as.
 */
import { Document, Pair, parseAllDocuments, Scalar, type Tags, YAMLMap } from "yaml";
import { BigNum, isInteger, num, numberText, numFromBigInt, toBigInt, type RNumber } from "../number.ts";
import { RegoObject, RegoSet, typeName, type Value } from "../value.ts";
import { goQuoteBytes, utf8Bytes, utf8Text } from "./go-text.ts";
import { isValidJSON, JSONSyntaxError, jsonMembers, marshalJSON, marshalJSONIndent, unmarshalJSON } from "./json-text.ts";
import { builtinError, BuiltinError, operandError, type BuiltinDef } from "./types.ts";

function stringArg(name: string, args: readonly Value[], position: number): string {
  const v = args[position - 1] as Value;
  if (typeof v !== "string") throw operandError(name, position, "string", v);
  return v;
}

/** A built-in of one string operand. */
function stringFn(name: string, f: (s: string) => Value): BuiltinDef {
  return { name, arity: 1, args: ["string"], fn: (args) => f(stringArg(name, args, 1)) };
}

/** Runs a decoder whose failure is OPA's builtin error with Go's message. */
function orBuiltinError<T>(name: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof GoError) throw builtinError(name, e.message);
    throw e;
  }
}

/** A failure worded as Go's library words it; callers prefix the built-in's name. */
class GoError extends Error {}

// ---------------------------------------------------------------- base64

const STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function decodeMap(alphabet: string): Int16Array {
  const m = new Int16Array(256).fill(-1);
  for (let i = 0; i < alphabet.length; i++) m[alphabet.charCodeAt(i)] = i;
  return m;
}

const STD_MAP = decodeMap(STD);
const URL_MAP = decodeMap(URL);
const PAD = 0x3d; // '='

function base64Encode(s: string, url: boolean, pad: boolean): string {
  let out = Buffer.from(utf8Bytes(s)).toString(url ? "base64url" : "base64");
  if (url && pad) out += "=".repeat((4 - (out.length % 4)) % 4);
  return out;
}

function corrupt(offset: number): GoError {
  return new GoError(`illegal base64 data at input byte ${offset}`);
}

const isNewline = (b: number | undefined): boolean => b === 0x0a || b === 0x0d;

/**
 * Go's padded base64 decoding (StdEncoding / URLEncoding, not strict):
 * quanta of four characters, `\r` and `\n` skipped anywhere, padding only at
 * the end, and the error naming the offending byte's offset.
 */
function base64Decode(text: string, map: Int16Array): Uint8Array {
  const src = utf8Bytes(text);
  const out: number[] = [];
  let si = 0;
  while (si < src.length) {
    const quad = [0, 0, 0, 0];
    let len = 4;
    let trailing = -1;
    for (let j = 0; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return Uint8Array.from(out);
        throw corrupt(si - j);
      }
      const b = src[si] as number;
      si++;
      const d = map[b] as number;
      if (d >= 0) {
        quad[j] = d;
        continue;
      }
      if (isNewline(b)) {
        j--;
        continue;
      }
      if (b !== PAD || j < 2) throw corrupt(si - 1);
      if (j === 2) {
        // A second '=' must follow (newlines may stand between).
        while (si < src.length && isNewline(src[si])) si++;
        if (si === src.length) throw corrupt(src.length);
        if (src[si] !== PAD) throw corrupt(si - 1);
        si++;
      }
      while (si < src.length && isNewline(src[si])) si++;
      if (si < src.length) trailing = si;
      len = j;
      break;
    }
    const v = ((quad[0] as number) << 18) | ((quad[1] as number) << 12) | ((quad[2] as number) << 6) | (quad[3] as number);
    out.push((v >> 16) & 0xff);
    if (len >= 3) out.push((v >> 8) & 0xff);
    if (len >= 4) out.push(v & 0xff);
    if (trailing >= 0) throw corrupt(trailing);
  }
  return Uint8Array.from(out);
}

/** base64url.decode: unpadded input is padded first (RFC 7515 appendix C), as OPA does. */
function base64UrlDecode(s: string): string {
  let text = s;
  if (!text.endsWith("=")) {
    const rem = utf8Bytes(text).length % 4;
    if (rem === 1) throw new GoError(`illegal base64url string: ${text}`);
    if (rem > 0) text += "=".repeat(4 - rem);
  }
  return utf8Text(base64Decode(text, URL_MAP));
}

// ---------------------------------------------------------------- hex

function hexEncode(s: string): string {
  return Buffer.from(utf8Bytes(s)).toString("hex");
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x61 + 10;
  if (b >= 0x41 && b <= 0x46) return b - 0x41 + 10;
  return -1;
}

/** Go's `%#U` of a byte taken as a rune, as hex.InvalidByteError prints it. */
function invalidHexByte(b: number): GoError {
  const code = `U+${b.toString(16).toUpperCase().padStart(4, "0")}`;
  const ch = String.fromCodePoint(b);
  const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch);
  return new GoError(`encoding/hex: invalid byte: ${printable ? `${code} '${ch}'` : code}`);
}

function hexDecode(s: string): string {
  const src = utf8Bytes(s);
  const out = new Uint8Array(src.length >> 1);
  let j = 1;
  for (; j < src.length; j += 2) {
    const hi = hexValue(src[j - 1] as number);
    if (hi < 0) throw invalidHexByte(src[j - 1] as number);
    const lo = hexValue(src[j] as number);
    if (lo < 0) throw invalidHexByte(src[j] as number);
    out[j >> 1] = (hi << 4) | lo;
  }
  if (src.length % 2 === 1) {
    // An invalid last character is the earlier problem, so it is reported first.
    if (hexValue(src[j - 1] as number) < 0) throw invalidHexByte(src[j - 1] as number);
    throw new GoError("encoding/hex: odd length hex string");
  }
  return utf8Text(out);
}

// ---------------------------------------------------------------- urlquery

const HEX_UPPER = "0123456789ABCDEF";

/** url.QueryEscape: unreserved characters kept, space as `+`, every other byte `%XX`. */
export function queryEscape(s: string): string {
  let out = "";
  for (const b of utf8Bytes(s)) {
    const unreserved =
      (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
    if (unreserved) out += String.fromCharCode(b);
    else if (b === 0x20) out += "+";
    else out += `%${HEX_UPPER[b >> 4]}${HEX_UPPER[b & 15]}`;
  }
  return out;
}

/** url.QueryUnescape: `+` is a space; a malformed `%` escape is an error naming up to three bytes from it. */
function queryUnescape(s: string): string {
  const src = utf8Bytes(s);
  const out: number[] = [];
  for (let i = 0; i < src.length; ) {
    const b = src[i] as number;
    if (b === 0x25) {
      const hi = i + 2 < src.length ? hexValue(src[i + 1] as number) : -1;
      const lo = hi >= 0 ? hexValue(src[i + 2] as number) : -1;
      if (lo < 0) throw new GoError(`invalid URL escape ${goQuoteBytes(src.subarray(i, i + 3))}`);
      out.push((hi << 4) | lo);
      i += 3;
    } else {
      out.push(b === 0x2b ? 0x20 : b);
      i++;
    }
  }
  return utf8Text(Uint8Array.from(out));
}

/**
 * url.ParseQuery: `&`-separated pairs, a `;` in a pair is an error, and the
 * first error is reported after every other pair has been read.
 */
function parseQuery(query: string): RegoObject {
  const params = new Map<string, string[]>();
  let err: GoError | undefined;
  for (const part of query === "" ? [] : query.split("&")) {
    if (part.includes(";")) {
      err ??= new GoError("invalid semicolon separator in query");
      continue;
    }
    if (part === "") continue;
    const eq = part.indexOf("=");
    try {
      const key = queryUnescape(eq < 0 ? part : part.slice(0, eq));
      const value = queryUnescape(eq < 0 ? "" : part.slice(eq + 1));
      const list = params.get(key);
      if (list === undefined) params.set(key, [value]);
      else list.push(value);
    } catch (e) {
      if (!(e instanceof GoError)) throw e;
      err ??= e;
    }
  }
  if (err !== undefined) throw err;
  return RegoObject.fromEntries([...params].map(([k, vs]) => [k, vs] as const));
}

const ENCODE_OBJECT = "urlquery.encode_object";

/** url.Values.Encode over OPA's rules: string, array of strings or set of strings per key. */
function encodeObject(v: Value): string {
  if (!(v instanceof RegoObject)) throw operandError(ENCODE_OBJECT, 1, "object", v);
  const valuesErr = new BuiltinError("eval_type_error", `${ENCODE_OBJECT}: operand 1 values must be string, array[string], or set[string]`);
  const parts: string[] = [];
  for (const [key, val] of jsonMembers(v)) {
    let list: readonly Value[];
    if (typeof val === "string") list = [val];
    else if (Array.isArray(val)) list = val;
    else if (val instanceof RegoSet) list = val.values();
    else throw valuesErr;
    const k = queryEscape(key);
    for (const item of list) {
      if (typeof item !== "string") throw valuesErr;
      parts.push(`${k}=${queryEscape(item)}`);
    }
  }
  return parts.join("&");
}

// ---------------------------------------------------------------- json

const MARSHAL_OPTS = "json.marshal_with_options";

function optionError(message: string): BuiltinError {
  return new BuiltinError("eval_type_error", `${MARSHAL_OPTS}: operand 2 ${message}`);
}

/**
 * json.marshal_with_options: `prefix` or `indent` imply pretty printing
 * (indent defaults to a tab), `pretty` decides it explicitly, and the
 * prefix also starts the first line (MarshalIndent does not put it there).
 */
function marshalWithOptions(args: readonly Value[]): string {
  const opts = args[1] as Value;
  if (!(opts instanceof RegoObject)) throw operandError(MARSHAL_OPTS, 2, "object", opts);
  let prefix = "";
  let indent = "\t";
  let implied = false;
  let explicit: boolean | undefined;
  opts.entries().forEach(([k, val], idx) => {
    if (typeof k !== "string") {
      throw optionError(`failed to stringify key ${marshalJSON(k)} at index ${idx}: operand ${idx} must be string but got ${typeName(k)}`);
    }
    switch (k) {
      case "prefix":
      case "indent":
        if (typeof val !== "string") {
          throw optionError(`key ${k} failed cast to string: operand ${idx} must be string but got ${typeName(val)}`);
        }
        if (k === "prefix") prefix = val;
        else indent = val;
        implied = true;
        break;
      case "pretty":
        if (typeof val !== "boolean") throw optionError(`key ${k} failed cast to bool`);
        explicit = val;
        break;
      default:
        throw optionError(`object contained unknown key ${k}`);
    }
  });
  const data = args[0] as Value;
  if (!(explicit ?? implied)) return marshalJSON(data);
  return prefix + marshalJSONIndent(data, prefix, indent);
}

function jsonUnmarshal(s: string): Value {
  try {
    return unmarshalJSON(s);
  } catch (e) {
    if (e instanceof JSONSyntaxError) throw builtinError("json.unmarshal", e.message);
    throw e;
  }
}

// ---------------------------------------------------------------- yaml

/**
 * YAML 1.1 as go-yaml v2 reads it, less the tags it does not resolve for an
 * untyped target: timestamps and base-60 numbers stay strings there.
 */
function yaml11Tags(tags: Tags): Tags {
  return tags.filter((t) =>
    typeof t === "string"
      ? t !== "timestamp" && t !== "intTime" && t !== "floatTime"
      : !(t.tag === "tag:yaml.org,2002:timestamp" || ("format" in t && t.format === "TIME")),
  );
}

const YAML_OPTIONS = { version: "1.1", intAsBigInt: true, uniqueKeys: false, customTags: yaml11Tags } as const;

/** The first YAML line of an error message (the `yaml` package adds a code excerpt after it). */
function yamlErrorText(message: string): string {
  return `yaml: ${message.split("\n")[0] ?? message}`;
}

/** Every document of the text, or a GoError for the first error in any of them. */
function parseYAMLDocuments(text: string): Document[] {
  // An empty stream is an empty list (the yaml package types it apart).
  const list: Document[] = [...parseAllDocuments(text, YAML_OPTIONS)];
  for (const d of list) {
    const first = d.errors[0];
    if (first !== undefined) throw new GoError(yamlErrorText(first.message));
  }
  return list;
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** go-yaml v2's integers are int64 or uint64; beyond that a number is read as a float64. */
function yamlInteger(b: bigint): RNumber {
  if (b >= INT64_MIN && b <= UINT64_MAX) return numFromBigInt(b);
  const n = num(Number(b));
  if (n === undefined) throw new GoError(`json: unsupported value: ${b < 0n ? "-Inf" : "+Inf"}`);
  return n;
}

function yamlFloat(x: number): RNumber {
  const n = num(x);
  if (n === undefined) throw new GoError(`json: unsupported value: ${Number.isNaN(x) ? "NaN" : x > 0 ? "+Inf" : "-Inf"}`);
  return n;
}

/** A map key as sigs.k8s.io/yaml turns it into a JSON object key. */
function yamlKey(k: unknown): string {
  if (typeof k === "string") return k;
  if (typeof k === "boolean") return k ? "true" : "false";
  if (typeof k === "bigint") return k.toString();
  // sigs.k8s.io/yaml formats float keys at float32 precision; float64's shortest digits differ only past 7 digits.
  if (typeof k === "number") return goFloatG(k).replace("+Inf", ".inf").replace("-Inf", "-.inf").replace("NaN", ".nan");
  throw new GoError(`unsupported map key of type: ${k === null ? "<nil>" : typeof k}`);
}

/** The JS value the `yaml` package gives for a document, as the Rego value OPA ends up with. */
function fromYAML(x: unknown): Value {
  if (x === null || x === undefined) return null;
  switch (typeof x) {
    case "boolean":
    case "string":
      return x;
    case "bigint":
      return yamlInteger(x);
    case "number":
      return yamlFloat(x);
  }
  if (Array.isArray(x)) return x.map(fromYAML);
  if (x instanceof Uint8Array) return utf8Text(x);
  if (x instanceof Set) return RegoObject.fromEntries([...x].map((k) => [yamlKey(k), null] as const));
  const o = new RegoObject();
  const entries = x instanceof Map ? [...x.entries()] : Object.entries(x as Record<string, unknown>);
  for (const [k, v] of entries) o.set(yamlKey(k), fromYAML(v));
  return o;
}

function yamlUnmarshal(text: string): Value {
  const docs = parseYAMLDocuments(text);
  const first = docs[0];
  if (first === undefined) return null;
  let js: unknown;
  try {
    js = first.toJS({ mapAsMap: true, maxAliasCount: 100 });
  } catch (e) {
    // Alias bombs and unresolved aliases fail only here, as the yaml package's own errors.
    if (e instanceof Error) throw new GoError(yamlErrorText(e.message));
    throw e;
  }
  return fromYAML(js);
}

function yamlIsValid(text: string): boolean {
  try {
    yamlUnmarshal(text);
    return true;
  } catch (e) {
    if (e instanceof GoError) return false;
    throw e;
  }
}

/**
 * strconv.FormatFloat(x, 'g', -1, 64): the shortest digits that read back as
 * x, in exponent form (at least two exponent digits, signed) when the decimal
 * exponent is below -4 or at least 6, as Go decides for shortest formatting.
 */
export function goFloatG(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const [mant, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? "-" : "+";
    return `${mant}e${sign}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return String(x);
}

/** go-yaml v2's map-key order: runs of digits compare as numbers, letters after other characters. */
export function yamlKeyLess(a: string, b: string): number {
  const ar = [...a];
  const br = [...b];
  const isLetter = (c: string): boolean => /^\p{L}$/u.test(c);
  const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";
  for (let i = 0; i < ar.length && i < br.length; i++) {
    const ca = ar[i] as string;
    const cb = br[i] as string;
    if (ca === cb) continue;
    const al = isLetter(ca);
    const bl = isLetter(cb);
    if (al && bl) return (ca.codePointAt(0) as number) - (cb.codePointAt(0) as number);
    if (al || bl) return bl ? -1 : 1;
    let an = 0n;
    let bn = 0n;
    if (ca === "0" || cb === "0") {
      // A zero inside a number that already has a non-zero digit is a digit like any other.
      for (let j = i - 1; j >= 0 && isDigit(ar[j]); j--) {
        if (ar[j] !== "0") {
          an = 1n;
          bn = 1n;
          break;
        }
      }
    }
    let ai = i;
    let bi = i;
    for (; isDigit(ar[ai]); ai++) an = an * 10n + BigInt(Number(ar[ai]));
    for (; isDigit(br[bi]); bi++) bn = bn * 10n + BigInt(Number(br[bi]));
    if (an !== bn) return an < bn ? -1 : 1;
    if (ai !== bi) return ai - bi;
    return (ca.codePointAt(0) as number) - (cb.codePointAt(0) as number);
  }
  return ar.length - br.length;
}

/** A number as go-yaml v2 writes the value it read from OPA's JSON text. */
class YAMLNumber {
  constructor(readonly text: string) {}
}

function yamlNumberText(n: RNumber): string {
  if (isInteger(n)) {
    const b = toBigInt(n) as bigint;
    if (b >= INT64_MIN && b <= UINT64_MAX) return b.toString();
  }
  return goFloatG(typeof n === "number" ? n : Number(numberText(n)));
}

const numberTag = {
  identify: (v: unknown) => v instanceof YAMLNumber,
  default: true,
  tag: "tag:yaml.org,2002:float",
  stringify: (item: Scalar) => (item.value as YAMLNumber).text,
  resolve: (s: string) => s,
};

function toYAMLNode(doc: Document, v: Value): unknown {
  if (v === null || typeof v === "boolean" || typeof v === "string") return doc.createNode(v);
  if (typeof v === "number" || v instanceof BigNum) return new Scalar(new YAMLNumber(yamlNumberText(v)));
  if (v instanceof RegoObject) {
    const map = new YAMLMap();
    const members = jsonMembers(v).sort((x, y) => yamlKeyLess(x[0], y[0]));
    for (const [k, val] of members) map.items.push(new Pair(doc.createNode(k), toYAMLNode(doc, val)));
    return map;
  }
  const items = v instanceof RegoSet ? v.values() : (v as readonly Value[]);
  const seq = doc.createNode([]) as { items: unknown[] };
  for (const e of items) seq.items.push(toYAMLNode(doc, e));
  return seq;
}

function yamlMarshal(v: Value): string {
  const doc = new Document(null, { version: "1.1", customTags: [numberTag] });
  doc.contents = toYAMLNode(doc, v) as Document["contents"];
  return doc.toString({ indentSeq: false, lineWidth: 0 });
}

// ---------------------------------------------------------------- table

export const ENCODING_BUILTINS: readonly BuiltinDef[] = [
  stringFn("base64.encode", (s) => base64Encode(s, false, true)),
  stringFn("base64.decode", (s) => orBuiltinError("base64.decode", () => utf8Text(base64Decode(s, STD_MAP)))),
  {
    name: "base64.is_valid",
    arity: 1,
    args: ["string"],
    fn: (args) => {
      const s = args[0] as Value;
      if (typeof s !== "string") return false;
      try {
        base64Decode(s, STD_MAP);
        return true;
      } catch (e) {
        if (e instanceof GoError) return false;
        throw e;
      }
    },
  },
  stringFn("base64url.encode", (s) => base64Encode(s, true, true)),
  stringFn("base64url.encode_no_pad", (s) => base64Encode(s, true, false)),
  stringFn("base64url.decode", (s) => orBuiltinError("base64url.decode", () => base64UrlDecode(s))),
  stringFn("hex.encode", hexEncode),
  stringFn("hex.decode", (s) => orBuiltinError("hex.decode", () => hexDecode(s))),
  stringFn("urlquery.encode", queryEscape),
  stringFn("urlquery.decode", (s) => orBuiltinError("urlquery.decode", () => queryUnescape(s))),
  { name: ENCODE_OBJECT, arity: 1, args: ["object"], fn: (args) => encodeObject(args[0] as Value) },
  {
    name: "urlquery.decode_object",
    arity: 1,
    args: ["string"],
    fn: (args) => orBuiltinError("urlquery.decode_object", () => parseQuery(stringArg("urlquery.decode_object", args, 1))),
  },
  { name: "json.marshal", arity: 1, args: ["any"], fn: (args) => marshalJSON(args[0] as Value) },
  { name: MARSHAL_OPTS, arity: 2, args: ["any", "object"], fn: marshalWithOptions },
  stringFn("json.unmarshal", jsonUnmarshal),
  {
    name: "json.is_valid",
    arity: 1,
    args: ["any"],
    fn: (args) => typeof args[0] === "string" && isValidJSON(args[0]),
  },
  { name: "yaml.marshal", arity: 1, args: ["any"], fn: (args) => yamlMarshal(args[0] as Value) },
  {
    name: "yaml.unmarshal",
    arity: 1,
    args: ["string"],
    fn: (args) => orBuiltinError("yaml.unmarshal", () => yamlUnmarshal(stringArg("yaml.unmarshal", args, 1))),
  },
  {
    name: "yaml.is_valid",
    arity: 1,
    args: ["any"],
    fn: (args) => typeof args[0] === "string" && yamlIsValid(args[0]),
  },
];
