/** upstream_connections: the keep-alive pools to upstreams, as configured (issue 9). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import { parseConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { Gateway } from "../../src/server/gateway.ts";

let opened = 0;
let upstream: TCPSocketListener<undefined>;

beforeAll(() => {
  upstream = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open() {
        opened++;
      },
      data(s, d) {
        if (d.toString("latin1").includes("\r\n\r\n")) s.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
      },
    },
  });
});
afterAll(() => upstream.stop(true));

async function connectionsFor(block: string, requests: number, pauseMs = 0): Promise<number> {
  const { config } = parseConfig(`listen: 127.0.0.1:0\naccess_log: { enabled: false }\n${block}routes:\n  - name: a\n    upstream: http://127.0.0.1:${upstream.port}\n`, "t.yaml", {});
  const g = await Gateway.start({ loaded: { config, secretPaths: new Set(), source: "t.yaml" }, logger: createLogger("error", {}, () => {}), reusePort: false });
  const before = opened;
  try {
    for (let i = 0; i < requests; i++) {
      expect(await (await fetch(`http://127.0.0.1:${g.port}/x`)).text()).toBe("ok");
      if (pauseMs > 0) await Bun.sleep(pauseMs);
    }
    return opened - before;
  } finally {
    await g.shutdown(1000);
  }
}

describe("upstream_connections", () => {
  test("by default one keep-alive connection serves requests one after another", async () => {
    expect(await connectionsFor("", 5)).toBe(1);
  });

  test("max_idle: 0 keeps none: every request opens a connection", async () => {
    expect(await connectionsFor("upstream_connections: { max_idle: 0 }\n", 3)).toBe(3);
  });

  test("idle_timeout closes a connection idle longer than it; the next request opens another", async () => {
    expect(await connectionsFor("upstream_connections: { idle_timeout: 50ms }\n", 2, 250)).toBe(2);
  });

  test("bounds are checked at load", () => {
    expect(() => parseConfig("upstream_connections: { connect_timeout: 0ms }\n", "t.yaml", {})).toThrow(/connect_timeout/);
    expect(() => parseConfig("upstream_connections: { max_idle: -1 }\n", "t.yaml", {})).toThrow(/max_idle/);
  });
});
