/**
 * The config a supervisor hands its workers (src/server/ipc.ts): what the loader validated, as JSON data.
 * Everything in a loaded config must survive the JSON of the IPC channel unchanged — a field that the schema
 * ever turns into a RegExp, a Set, a Map, a Date, a class instance or a non-finite number would break workers
 * silently, so these tests walk a config that sets every section.
 */
import { describe, expect, test } from "bun:test";
import { parseConfig, redactConfig } from "../../src/config/load.ts";
import { fromWire, toWire } from "../../src/server/ipc.ts";

const EVERYTHING = `
listen: 127.0.0.1:8080
admin: { listen: "[::1]:9901", token_env: ADMIN_TOKEN }
workers: 2
upstreams:
  pool:
    endpoints: [http://127.0.0.1:9001, http://127.0.0.1:9002/base]
    balance: least_outstanding
    health: { max_failures: 3, ejection: 5s, max_ejection: 1m }
default_route: legacy-rest
routes:
  - name: orders
    match: { host: "*.example.com", path: /orders/:id, methods: [get, Post], headers: { x-beta: true, x-no: false, x-v: "2" } }
    legacy: pool
    candidate: [http://127.0.0.1:9100, http://127.0.0.1:9101]
    stage: canary
    canary:
      percent: 12.5
      sticky: { header: x-user-id, salt: s1 }
      steps: [5, 50, 100]
      step: { min_duration: 90s, min_requests: 10 }
      gates: { mismatch_rate: 0.02, min_severity: high, latency: { p50_factor: 1.3, alpha: 0.05 } }
    compare:
      ignore: [$.meta.request_id, "$..etag"]
      numbers: { abs: 0.001, rel: 0.0001 }
      null_equals_missing: true
      arrays: { "$.items": { key: id }, "$.tags": unordered }
      timestamps: [$.created_at]
      normalize: [{ path: "$..id", pattern: "^ord_[0-9a-f]{8}$", replace: "ord_X" }]
      headers: { ignore: [x-trace], only: [] }
      budget: 20ms
    shadow: { sample: 0.5, max_body: 64KiB, redact: [$.card.number], noise: { min_aa: 5 } }
    rewrite: { strip_prefix: /orders, prefix: /v2 }
    request_headers: { add: { authorization: "Bearer \${API_TOKEN}" }, remove: [x-internal] }
    response_headers: { add: { x-served: ficus } }
    timeouts: { header: 2s, idle: 10s, total: 30s }
    retries: { attempts: 2, on: [connect-failure, "503", reset], backoff: 10ms }
    max_body: 10MB
    preserve_host: true
  - name: legacy-rest
    match: { prefix: / }
    upstream: http://127.0.0.1:9000
limits: { max_url_bytes: 4KiB, max_header_bytes: 8KiB, client_idle_timeout: 30s }
reload: { max_removed_routes: 0.25, settle: 50ms }
shutdown: { drain_timeout: 5s }
access_log: { enabled: true, sample: 0.1, output: stderr }
log: { level: warn }
store: { url: "postgres://ficus:\${PG_PASSWORD}@db:5432/ficus", schema: ficus_test, affects_readiness: true, retention: 1d }
redact: { defaults: false, headers: [session], body_keys: [pin], keep: [next_page_token] }
record: { dir: /tmp/rec, max_file_size: 1MiB, queue: 10 }
tracing: { otlp_endpoint: http://collector:4318/v1/traces, sample: 0.25, headers: { x-api-key: "\${OTEL_KEY}" } }
`;

const ENV = { API_TOKEN: "t0ken-value", PG_PASSWORD: "pg-secret", OTEL_KEY: "otel-secret" };

/** Where a value is not plain JSON data, with its path; undefined values are fine (JSON drops the key, reading it gives undefined). */
function notJson(v: unknown, path = "$"): string[] {
  if (v === undefined || v === null || typeof v === "string" || typeof v === "boolean") return [];
  if (typeof v === "number") return Number.isFinite(v) && !Object.is(v, -0) ? [] : [`${path}: ${v}`];
  if (Array.isArray(v)) return v.flatMap((x, i) => notJson(x, `${path}[${i}]`));
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) return Object.entries(v).flatMap(([k, x]) => notJson(x, `${path}.${k}`));
  return [`${path}: ${Object.prototype.toString.call(v)}`];
}

describe("the config a worker receives", () => {
  const loaded = parseConfig(EVERYTHING, "ficus.yaml", ENV);

  test("every value of a loaded config is plain JSON data", () => {
    expect(notJson(loaded.config)).toEqual([]);
    // The ones this config means to exercise are there.
    const orders = loaded.config.routes[0];
    expect(orders?.compare.normalize[0]?.pattern).toBe("^ord_[0-9a-f]{8}$");
    expect(orders?.timeouts.total).toBe(30_000);
    expect(loaded.config.admin.listen).toEqual({ hostname: "::1", port: 9901 });
  });

  test("through the IPC channel's JSON it is the same config: values, secret paths, source, redaction", () => {
    const received = fromWire(JSON.parse(JSON.stringify(toWire(loaded))));
    expect(received.config).toEqual(loaded.config);
    expect(received.source).toBe("ficus.yaml");
    expect(received.secretPaths).toEqual(loaded.secretPaths);
    expect([...received.secretPaths].sort()).toEqual(["routes[0].request_headers.add.authorization", "store.url", "tracing.headers.x-api-key"]);
    expect(redactConfig(received)).toEqual(redactConfig(loaded));
    expect(JSON.stringify(redactConfig(received))).not.toContain("secret");
  });

  test("it is frozen like the loader's", () => {
    const received = fromWire(JSON.parse(JSON.stringify(toWire(loaded))));
    expect(Object.isFrozen(received.config)).toBe(true);
    expect(Object.isFrozen(received.config.routes[0]?.compare.normalize[0])).toBe(true);
    expect(() => {
      (received.config.limits as { max_url_bytes: number }).max_url_bytes = 1;
    }).toThrow();
  });

  test("a config built from flags (JSON, defaults everywhere) crosses as well", () => {
    const flags = parseConfig(JSON.stringify({ routes: [{ name: "default", match: { prefix: "/" }, legacy: "http://127.0.0.1:9000", candidate: "http://127.0.0.1:9001", stage: "shadow" }] }), "(command line)", {}, undefined, "json");
    expect(notJson(flags.config)).toEqual([]);
    expect(fromWire(JSON.parse(JSON.stringify(toWire(flags)))).config).toEqual(flags.config);
  });
});
