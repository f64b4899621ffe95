/**
 * The admin API's exposure check (issue 8, defect 6): decided on the resolved
 * IP address, never on how the host name is spelled.
 */
import { describe, expect, test } from "bun:test";
import { isLoopbackIp, resolveListenHost } from "../../src/admin/address.ts";
import { startAdminServer } from "../../src/admin/server.ts";
import { FicusError } from "../../src/core/errors.ts";
import { createLogger } from "../../src/observability/logger.ts";

describe("isLoopbackIp", () => {
  const cases: [string, boolean][] = [
    ["127.0.0.1", true],
    ["127.255.255.254", true],
    ["127.1.2.3", true],
    ["::1", true],
    ["[::1]", true],
    ["0:0:0:0:0:0:0:1", true],
    ["0000:0000:0000:0000:0000:0000:0000:0001", true],
    ["::ffff:127.0.0.1", true],
    ["::ffff:7f00:1", true],
    ["[::ffff:127.9.9.9]", true],
    ["0.0.0.0", false],
    ["::", false],
    ["10.0.0.1", false],
    ["128.0.0.1", false],
    ["126.255.255.255", false],
    ["::2", false],
    ["::ffff:10.0.0.1", false],
    ["::ffff:0:127.0.0.1", false], // IPv4-translated, not mapped
    ["fe80::1", false],
    ["1::1", false],
    ["2001:db8::127.0.0.1", false],
    // Names are not addresses: the string test that let these pass is gone.
    ["127.evil.example", false],
    ["localhost", false],
    ["127.0.0.1.nip.example", false],
    ["", false],
  ];
  for (const [ip, loopback] of cases) test(`${JSON.stringify(ip)} → ${loopback}`, () => expect(isLoopbackIp(ip)).toBe(loopback));
});

describe("resolveListenHost", () => {
  const fake = (table: Record<string, string[]>) => async (h: string) => {
    const a = table[h];
    if (!a) throw new Error("getaddrinfo ENOTFOUND");
    return a.map((address) => ({ address }));
  };

  test("a name beginning with 127. that resolves elsewhere is not loopback (regression: a string prefix check)", async () => {
    expect(await resolveListenHost("127.attacker.example", fake({ "127.attacker.example": ["203.0.113.7"] }))).toEqual({ address: "203.0.113.7", loopback: false });
  });
  test("a name is loopback only when every address it resolves to is", async () => {
    expect(await resolveListenHost("localhost", fake({ localhost: ["127.0.0.1", "::1"] }))).toEqual({ address: "127.0.0.1", loopback: true });
    expect((await resolveListenHost("dual", fake({ dual: ["127.0.0.1", "192.0.2.1"] }))).loopback).toBe(false);
  });
  test("IP literals are checked as they are, without a lookup", async () => {
    const none = fake({});
    expect(await resolveListenHost("127.0.0.1", none)).toEqual({ address: "127.0.0.1", loopback: true });
    expect(await resolveListenHost("[::1]", none)).toEqual({ address: "::1", loopback: true });
    expect(await resolveListenHost("0.0.0.0", none)).toEqual({ address: "0.0.0.0", loopback: false });
  });
  test("a name that does not resolve is FICUS_LISTEN_FAILED", async () => {
    const err = await resolveListenHost("nowhere.invalid", fake({})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FicusError);
    expect((err as FicusError).code).toBe("FICUS_LISTEN_FAILED");
  });
});

describe("startAdminServer", () => {
  const backend = {} as Parameters<typeof startAdminServer>[0];
  const logger = createLogger("error", {}, () => {});

  test("without a token, a host named 127.… that resolves to a public address refuses to start", async () => {
    const err = await startAdminServer(backend, { hostname: "127.attacker.example", port: 0, tokenEnv: "T", env: {}, logger, resolve: async () => [{ address: "203.0.113.7" }] }).catch((e: unknown) => e);
    expect((err as FicusError).code).toBe("FICUS_ADMIN_TOKEN_REQUIRED");
    expect((err as FicusError).message).toContain("(203.0.113.7), which is not loopback");
  });

  test("a name that resolves to loopback binds the checked address", async () => {
    const server = await startAdminServer(backend, { hostname: "admin.local.test", port: 0, tokenEnv: "T", env: {}, logger, resolve: async () => [{ address: "127.0.0.1" }] });
    try {
      expect(server.hostname).toBe("127.0.0.1");
      const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(res.status).toBe(200);
    } finally {
      server.stop(true);
    }
  });
});
