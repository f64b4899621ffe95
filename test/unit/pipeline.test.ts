/** The layer pipeline: order, answering early, async layers, response phase in reverse, done once, throws contained. */
import { describe, expect, test } from "bun:test";
import { Exchange, type Reply } from "../../src/pipeline/exchange.ts";
import type { Layer } from "../../src/pipeline/layer.ts";
import { Pipeline } from "../../src/pipeline/pipeline.ts";
import { createLogger } from "../../src/observability/logger.ts";

function exchange(): Exchange {
  return new Exchange(performance.now(), "GET", "/a?b=1", "/a", "?b=1", "h", "h", [], { address: "127.0.0.1", port: 1 }, false, "http/1.1", undefined, undefined);
}

function recorder() {
  const lines: string[] = [];
  const logger = createLogger("error", {}, (line: string) => lines.push(line));
  return { lines, logger };
}

const answer = (status: number): Reply => ({ status, fields: [], body: new Uint8Array(0) });

function trace(name: string, log: string[], out?: () => Reply | undefined | Promise<Reply | undefined>): Layer {
  return {
    name,
    request: () => {
      log.push(`req ${name}`);
      return out?.();
    },
    response: () => void log.push(`res ${name}`),
    done: () => void log.push(`done ${name}`),
  };
}

describe("pipeline", () => {
  test("request in order, response in reverse for the layers that ran, done for all, once", async () => {
    const log: string[] = [];
    const p = new Pipeline([trace("a", log), trace("b", log, () => answer(204)), trace("c", log, () => answer(200))], recorder().logger);
    const ex = exchange();
    const reply = await p.run(ex);
    expect(reply.status).toBe(204);
    expect(p.inflight).toBe(1);
    p.end(ex);
    p.end(ex);
    expect(log).toEqual(["req a", "req b", "res b", "res a", "done a", "done b", "done c"]);
    expect(p.inflight).toBe(0);
  });

  test("a layer that waits: the next ones run after it, and a synchronous pipeline stays synchronous", async () => {
    const log: string[] = [];
    const p = new Pipeline([trace("a", log, () => Promise.resolve(undefined)), trace("b", log, () => answer(200))], recorder().logger);
    const out = p.run(exchange());
    expect(out).toBeInstanceOf(Promise);
    expect((await out).status).toBe(200);
    const sync = new Pipeline([trace("x", [], () => answer(201))], recorder().logger).run(exchange());
    expect(sync).not.toBeInstanceOf(Promise);
  });

  test("a layer that throws, synchronously or not, answers 500 FICUS_INTERNAL with the request id and names the layer in the log", async () => {
    for (const fail of [() => { throw new Error("boom"); }, () => Promise.reject(new Error("boom"))]) {
      const { lines, logger } = recorder();
      const p = new Pipeline([{ name: "id", request: (ex) => void (ex.id = "rid-7") }, { name: "broken", request: fail as Layer["request"] }], logger);
      const ex = exchange();
      const reply = await p.run(ex);
      expect(reply.status).toBe(500);
      expect(JSON.parse(new TextDecoder().decode(reply.body as Uint8Array))).toEqual({ error: { code: "FICUS_INTERNAL", message: expect.any(String), request_id: "rid-7" } });
      expect(ex.error).toBe("FICUS_INTERNAL");
      expect(lines.join("\n")).toContain('"layer":"broken"');
      expect(lines.join("\n")).toContain("boom");
    }
  });

  test("no layer answering is an internal error, not a hang", async () => {
    const reply = await new Pipeline([{ name: "noop", request: () => undefined }], recorder().logger).run(exchange());
    expect(reply.status).toBe(500);
  });

  test("a done that throws does not stop the others", () => {
    const log: string[] = [];
    const p = new Pipeline([{ name: "bad", request: () => answer(200), done: () => { throw new Error("x"); } }, trace("after", log)], recorder().logger);
    const ex = exchange();
    p.run(ex);
    p.end(ex);
    expect(log).toEqual(["done after"]);
  });

  test("idle() resolves once the last exchange ends", async () => {
    const p = new Pipeline([{ name: "a", request: () => answer(200) }], recorder().logger);
    const ex = exchange();
    p.run(ex);
    let idle = false;
    const wait = p.idle().then(() => (idle = true));
    await Bun.sleep(1);
    expect(idle).toBe(false);
    p.end(ex);
    await wait;
    expect(idle).toBe(true);
  });
});
