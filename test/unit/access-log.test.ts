import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AccessLog } from "../../src/observability/access-log.ts";
import { tempDir } from "../helpers/processes.ts";

let log: AccessLog | undefined;
afterEach(() => log?.close());

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

test("writes one valid JSON line per request, escaping the path", async () => {
  const file = join(tempDir(), "access.log");
  log = new AccessLog({ enabled: true, sample: 1, output: file });
  log.write("rid-1", "orders", "GET", '/a"b\\c\u0001', 200, 1.23456, "http://u:1", 10, "127.0.0.1", undefined);
  log.write("rid-2", "(none)", "POST", "/x", 404, 0.5, "", 0, "::1", "FICUS_ROUTE_NOT_FOUND");
  log.close();
  await Bun.sleep(50);
  const [a, b] = lines(file);
  expect(a).toMatchObject({ request_id: "rid-1", route: "orders", method: "GET", path: '/a"b\\c\u0001', status: 200, duration_ms: 1.235, upstream: "http://u:1", bytes: 10, client: "127.0.0.1" });
  expect(a?.error).toBeUndefined();
  expect(typeof a?.time).toBe("string");
  expect(b).toMatchObject({ status: 404, error: "FICUS_ROUTE_NOT_FOUND" });
});

test("sampling keeps every k-th request and always keeps server errors", () => {
  log = new AccessLog({ enabled: true, sample: 0.25, output: join(tempDir(), "a.log") });
  const kept = Array.from({ length: 100 }, () => log?.wants(200)).filter(Boolean).length;
  expect(kept).toBe(25);
  expect(log.wants(502)).toBe(true);
});

test("disabled or zero sampling writes nothing", () => {
  log = new AccessLog({ enabled: false, sample: 1, output: "stdout" });
  expect(log.wants(200)).toBe(false);
  expect(log.wants(500)).toBe(false);
  const zero = new AccessLog({ enabled: true, sample: 0, output: join(tempDir(), "z.log") });
  expect(zero.wants(200)).toBe(false);
  expect(zero.wants(503)).toBe(true);
  zero.close();
});

test("a path with quotes, backslashes and control characters is valid JSON in the line", async () => {
  const { AccessLog } = await import("../../src/observability/access-log.ts");
  const { mkdtempSync, readFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const file = join(mkdtempSync(join(tmpdir(), "ficus-al-")), "a.log");
  const log = new AccessLog({ enabled: true, sample: 1, output: file });
  const path = '/a"b\\c\u0001d\u00e9';
  log.write("rid", "r", "GET", path, 200, 1.23456, "http://u", 5, "127.0.0.1", "FICUS_X");
  log.close();
  await Bun.sleep(50);
  const line = JSON.parse(readFileSync(file, "utf8").trim()) as Record<string, unknown>;
  expect(line).toMatchObject({ request_id: "rid", path, status: 200, duration_ms: 1.235, bytes: 5, error: "FICUS_X" });
});
