/** The governance chain: before in order (an answer stops it), the call, after in reverse for the guards that ran. */
import { expect, test } from "bun:test";
import { type CallGuard, type GuardedCall, guarded, toolError } from "../../../src/mcp/governance/guard.ts";
import type { CallToolResult } from "../../../src/mcp/types.ts";

function call(): GuardedCall {
  return { caller: { identity: undefined, subject: "", address: "127.0.0.1", endpoint: "mcp", era: "modern" }, tool: {} as GuardedCall["tool"], args: { a: 1 }, requestId: "r", traceId: undefined, started: 0, retry: false, notes: {} };
}
const ok = (text: string): CallToolResult => ({ content: [{ type: "text", text }] });

function recorder(log: string[], name: string, opts: { answer?: boolean; rewrite?: boolean; replace?: string } = {}): CallGuard {
  return {
    name,
    before(c) {
      log.push(`before ${name}`);
      if (opts.rewrite) c.args = { ...c.args, forced: name };
      return opts.answer ? toolError(`denied by ${name}`) : undefined;
    },
    after(_c, end) {
      log.push(`after ${name} ${end.kind}`);
      return opts.replace !== undefined ? ok(opts.replace) : undefined;
    },
  };
}

test("every guard runs around the call, in order and in reverse; rewritten arguments are what is sent", async () => {
  const log: string[] = [];
  let sent: unknown;
  const r = await guarded([recorder(log, "a"), recorder(log, "b", { rewrite: true })], call(), async (args) => {
    sent = args;
    log.push("call");
    return ok("done");
  });
  expect(log).toEqual(["before a", "before b", "call", "after b result", "after a result"]);
  expect(sent).toEqual({ a: 1, forced: "b" });
  expect(r).toEqual(ok("done"));
});

test("an answer in before stops the chain: no call, and after runs only for the guards that ran", async () => {
  const log: string[] = [];
  const r = await guarded([recorder(log, "a"), recorder(log, "b", { answer: true }), recorder(log, "c")], call(), async () => {
    log.push("call");
    return ok("never");
  });
  expect(log).toEqual(["before a", "before b", "after b answered", "after a answered"]);
  expect(r.isError).toBe(true);
});

test("after may replace the result, inner guards first", async () => {
  const log: string[] = [];
  const r = await guarded([recorder(log, "outer", { replace: "outer" }), recorder(log, "inner", { replace: "inner" })], call(), async () => ok("raw"));
  expect(r).toEqual(ok("outer"));
});

test("a JSON-RPC error from the call reaches after as an error, and is rethrown", async () => {
  const log: string[] = [];
  const err = Object.assign(new Error("bad params"), { code: -32602 });
  await expect(guarded([recorder(log, "a")], call(), async () => Promise.reject(err))).rejects.toBe(err);
  expect(log).toEqual(["before a", "after a error"]);
});
