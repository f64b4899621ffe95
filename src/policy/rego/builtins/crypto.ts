/**
 * Hash and HMAC built-ins: crypto.md5, crypto.sha1, crypto.sha256 (hex digests
 * of a string's UTF-8 bytes), crypto.hmac.md5/sha1/sha256/sha512 (message,
 * key → hex MAC) and crypto.hmac.equal (constant-time comparison of two MACs).
 *
 * Everything goes through node:crypto, whose hashing is synchronous, so these
 * fit the evaluator's synchronous calls with no detour.
 *
 * OPA has no crypto.sha512 (only its HMAC form), so none is registered here:
 * a policy using it would not run on OPA either.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { Value } from "../value.ts";
import { operandError, type BuiltinDef } from "./types.ts";

type HashName = "md5" | "sha1" | "sha256" | "sha512";

function stringOperand(name: string, args: readonly Value[], position: number): string {
  const v = args[position - 1] as Value;
  if (typeof v !== "string") throw operandError(name, position, "string", v);
  return v;
}

function digest(name: string, algorithm: HashName): BuiltinDef {
  return {
    name,
    arity: 1,
    args: ["string"],
    fn: (args) => createHash(algorithm).update(stringOperand(name, args, 1), "utf8").digest("hex"),
  };
}

function hmac(name: string, algorithm: HashName): BuiltinDef {
  return {
    name,
    arity: 2,
    args: ["string", "string"],
    fn: (args) => {
      const message = stringOperand(name, args, 1);
      const key = stringOperand(name, args, 2);
      return createHmac(algorithm, Buffer.from(key, "utf8")).update(message, "utf8").digest("hex");
    },
  };
}

/**
 * Compares the two strings' bytes in time that depends only on their length,
 * so a policy checking a caller's MAC does not leak how much of it matched.
 * Different lengths are unequal at once, as Go's hmac.Equal decides.
 */
function hmacEqual(args: readonly Value[]): Value {
  const a = Buffer.from(stringOperand("crypto.hmac.equal", args, 1), "utf8");
  const b = Buffer.from(stringOperand("crypto.hmac.equal", args, 2), "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

export const CRYPTO_BUILTINS: readonly BuiltinDef[] = [
  digest("crypto.md5", "md5"),
  digest("crypto.sha1", "sha1"),
  digest("crypto.sha256", "sha256"),
  hmac("crypto.hmac.md5", "md5"),
  hmac("crypto.hmac.sha1", "sha1"),
  hmac("crypto.hmac.sha256", "sha256"),
  hmac("crypto.hmac.sha512", "sha512"),
  { name: "crypto.hmac.equal", arity: 2, args: ["string", "string"], fn: hmacEqual },
];
