/**
 * rand.intn(key, n): a random integer in [0, |n|) (0 when n is 0), the same
 * for the same (key, n) within one evaluation (ctx.evalMemo), as OPA keeps
 * it within a query; the next decision draws again. Uses the platform's
 * cryptographic generator, so a policy cannot be steered by a guessable seed.
 */
import { randomInt } from "node:crypto";
import type { Value } from "../value.ts";
import { intArg, stringArg } from "./text-operands.ts";
import type { BuiltinContext, BuiltinDef } from "./types.ts";

/** randomInt's exclusive bound must stay under 2^48. */
const MAX_BOUND = 2 ** 48;

function intn(args: readonly Value[], ctx: BuiltinContext): Value {
  const key = stringArg("rand.intn", args, 1);
  const n = Math.abs(intArg("rand.intn", args, 2));
  if (n === 0) return 0;
  const memoKey = `rand.intn:${JSON.stringify(key)}:${n}`;
  const known = ctx.evalMemo.get(memoKey);
  if (known !== undefined) return known;
  const v = n <= MAX_BOUND ? randomInt(n) : Math.floor(Math.random() * n);
  ctx.evalMemo.set(memoKey, v);
  return v;
}

export const RANDOM_BUILTINS: readonly BuiltinDef[] = [{ name: "rand.intn", arity: 2, args: ["string", "number"], fn: intn, nondeterministic: true }];
