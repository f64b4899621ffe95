import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../src/core/errors.ts";
import { didYouMean, interpolate, parseConfig, redactConfig } from "../../src/config/load.ts";
import { configJsonSchema, parseListen } from "../../src/config/schema.ts";
import { parseDuration, parseSize } from "../../src/config/units.ts";

function errorsOf(yaml: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(yaml, "ficus.yaml", env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  throw new Error("expected the config to be rejected");
}

const ROUTE = "routes:\n  - name: a\n    upstream: http://127.0.0.1:9000\n";

describe("config validation messages name the field and the line", () => {
  const cases: [string, string, string][] = [
    ["bad upstream URL", "routes:\n  - name: a\n    upstream: http://x\n  - name: b\n    upstream: http://y\n  - name: c\n    upstream: \"htp:/x\"\n", 'routes[2].upstream: expected an http(s) URL, got "htp:/x" (ficus.yaml:7)'],
    ["ftp endpoint in object", "routes:\n  - name: a\n    upstream:\n      endpoints: [ftp://x]\n", 'routes[0].upstream.endpoints[0]: expected an http(s) URL, got "ftp://x" (ficus.yaml:4)'],
    ["unknown top-level key", `${ROUTE}listne: 1.2.3.4:80\n`, 'listne: unknown key "listne"; did you mean "listen"? (ficus.yaml:4)'],
    ["unknown route key", `${ROUTE}    retrys: 2\n`, 'routes[0].retrys: unknown key "retrys"; did you mean "retries"? (ficus.yaml:4)'],
    ["unknown nested key", `${ROUTE}    timeouts: { hedaer: 1s }\n`, 'routes[0].timeouts.hedaer: unknown key "hedaer"; did you mean "header"? (ficus.yaml:4)'],
    ["unknown key without a near match", `${ROUTE}    zzzzzzzz: 1\n`, 'routes[0].zzzzzzzz: unknown key "zzzzzzzz" (ficus.yaml:4)'],
    ["bad duration", `${ROUTE}    timeouts: { header: 5x }\n`, 'routes[0].timeouts.header: expected a duration such as "500ms", "5s" or "2m", got "5x" (ficus.yaml:4)'],
    ["bad size", `${ROUTE}    max_body: lots\n`, 'routes[0].max_body: expected a size such as "64KiB" or "10MB", got "lots" (ficus.yaml:4)'],
    ["bad listen", "listen: nowhere\n", 'listen: expected HOST:PORT such as "0.0.0.0:8080" or "[::1]:8080", got "nowhere" (ficus.yaml:1)'],
    ["wrong type", "routes: 5\n", "routes: expected array, got number 5 (ficus.yaml:1)"],
    ["upstream of the wrong type", "routes:\n  - name: a\n    upstream: 5\n", "routes[0].upstream: expected string or array or object, got number 5 (ficus.yaml:3)"],
    ["missing upstream", "routes:\n  - name: a\n", "routes[0].upstream: is required (the route's upstream: give `upstream`, or `legacy` for a route being migrated) (ficus.yaml:2)"],
    ["bad enum", "routes:\n  - name: a\n    upstream: { endpoints: [http://x], balance: random }\n", 'routes[0].upstream.balance: expected one of "round_robin", "least_outstanding", got string "random" (ficus.yaml:3)'],
    ["duplicate route names", `${ROUTE}  - name: a\n    upstream: http://y\n`, 'routes[1].name: duplicate route name "a" (also routes[0]) (ficus.yaml:4)'],
    ["unknown named upstream", "routes:\n  - name: a\n    upstream: legacy\n", 'routes[0].upstream: unknown upstream "legacy"; expected an http(s) URL or one of: (no upstreams defined) (ficus.yaml:3)'],
    ["unknown default route", `${ROUTE}default_route: b\n`, 'default_route: no route named "b"; known routes: a (ficus.yaml:4)'],
    ["path and prefix together", "routes:\n  - name: a\n    match: { path: /x, prefix: /y }\n    upstream: http://x\n", "routes[0].match.prefix: give either path or prefix, not both (ficus.yaml:3)"],
    ["wildcard not last", "routes:\n  - name: a\n    match: { path: /x/*/y }\n    upstream: http://x\n", 'routes[0].match.path: "*" must be the last segment of a path template, got "/x/*/y" (ficus.yaml:3)'],
    ["path not absolute", "routes:\n  - name: a\n    match: { path: x }\n    upstream: http://x\n", 'routes[0].match.path: expected a string starting with "/", got string "x" (ficus.yaml:3)'],
    ["retries out of range", `${ROUTE}    retries: { attempts: 50 }\n`, "routes[0].retries.attempts: expected at most 10, got number 50 (ficus.yaml:4)"],
    ["client idle timeout out of range", "limits: { client_idle_timeout: 10m }\n", 'limits.client_idle_timeout: must be 1s to 255s, got "10m" (ficus.yaml:1)'],
    // Regression (issue 8, defect 2): durations past the longest timer validated, then fired after 1 ms.
    ["a duration past the longest timer", `${ROUTE}    timeouts: { header: 25d }\n`, 'routes[0].timeouts.header: must be 1ms to 2147483647ms (24.8d) (the longest timer the runtime can arm), got "25d" (ficus.yaml:4)'],
    ["a total timeout past the longest timer", `${ROUTE}    timeouts: { total: 25d }\n`, 'routes[0].timeouts.total: must be at most 2147483647ms (24.8d) (the longest timer the runtime can arm), got "25d" (ficus.yaml:4)'],
    ["a huge duration as a number", `${ROUTE}    timeouts: { idle: 1e300 }\n`, "routes[0].timeouts.idle: must be 1ms to 2147483647ms (24.8d) (the longest timer the runtime can arm), got 1e+300 (ficus.yaml:4)"],
    ["a zero header timeout", `${ROUTE}    timeouts: { header: 0s }\n`, 'routes[0].timeouts.header: must be 1ms to 2147483647ms (24.8d) (the longest timer the runtime can arm), got "0s" (ficus.yaml:4)'],
    ["a huge shadow timeout", "routes:\n  - name: a\n    legacy: http://x\n    shadow: { timeout: 30d }\n", 'routes[0].shadow.timeout: must be 1ms to 2147483647ms (24.8d) (the longest timer the runtime can arm), got "30d" (ficus.yaml:4)'],
    ["a huge drain timeout", "shutdown: { drain_timeout: 100d }\n", 'shutdown.drain_timeout: must be at most 2147483647ms (24.8d) (the longest timer the runtime can arm), got "100d" (ficus.yaml:1)'],
    ["a flush interval of zero", "store: { flush_interval: 0 }\n", "store.flush_interval: must be 10ms to 10m, got 0 (ficus.yaml:1)"],
    ["a huge size as a number", `${ROUTE}    max_body: 1e300\n`, "routes[0].max_body: must be at most 1TiB, got 1e+300 (ficus.yaml:4)"],
    ["a shadow body buffer past 64MiB", "routes:\n  - name: a\n    legacy: http://x\n    shadow: { max_body: 2GiB }\n", 'routes[0].shadow.max_body: must be at most 64MiB, got "2GiB" (ficus.yaml:4)'],
    ["a header limit past the parser's cap", "limits: { max_header_bytes: 1MiB }\n", 'limits.max_header_bytes: must be 1KiB to 16KiB, got "1MiB" (ficus.yaml:1)'],
    // Regression (issue 8, defect 4): invalid header values validated, then made every request a 500.
    ["a CR LF in an added request header", `${ROUTE}    request_headers: { add: { x-inj: "a\\r\\nX-Evil: 1" } }\n`, 'routes[0].request_headers.add.x-inj: invalid header value "a\\r\\nX-Evil: 1": contains a line break (CR or LF) at character 2, which would split the header (ficus.yaml:4)'],
    ["a non-Latin-1 response header value", `${ROUTE}    response_headers: { add: { x-snow: "☃" } }\n`, 'routes[0].response_headers.add.x-snow: invalid header value "☃": contains "☃" (U+2603) at character 1; header values are bytes, so only ASCII and Latin-1 characters can be sent (percent-encode others) (ficus.yaml:4)'],
    ["a NUL in a header value", `${ROUTE}    response_headers: { add: { x-a: "a\\0b" } }\n`, 'routes[0].response_headers.add.x-a: invalid header value "a\\u0000b": contains a NUL character at character 2 (ficus.yaml:4)'],
    ["a header name with a space", `${ROUTE}    request_headers: { add: { "x bad": v } }\n`, 'routes[0].request_headers.add.x bad: invalid header name "x bad": contains " " at character 2; a header name is a token (letters, digits and !#$%&\'*+-.^_`|~) (ficus.yaml:4)'],
    ["a header name with a colon to remove", `${ROUTE}    response_headers: { remove: ["x:y"] }\n`, 'routes[0].response_headers.remove[0]: invalid header name "x:y": contains ":" at character 2; a header name is a token (letters, digits and !#$%&\'*+-.^_`|~) (ficus.yaml:4)'],
    ["a framing header set by a route", `${ROUTE}    response_headers: { add: { Content-Length: "5" } }\n`, 'routes[0].response_headers.add.Content-Length: "Content-Length" cannot be changed by a route: it frames the message or belongs to one connection (the gateway sets it) (ficus.yaml:4)'],
    ["a transfer coding removed by a route", `${ROUTE}    request_headers: { remove: [transfer-encoding] }\n`, 'routes[0].request_headers.remove: "transfer-encoding" cannot be changed by a route: it frames the message or belongs to one connection (the gateway sets it) (ficus.yaml:4)'],
    ["a bad match header name", "routes:\n  - name: a\n    upstream: http://x\n    match: { headers: { \"x(y)\": true } }\n", 'routes[0].match.headers.x(y): invalid header name "x(y)": contains "(" at character 2; a header name is a token (letters, digits and !#$%&\'*+-.^_`|~) (ficus.yaml:4)'],
    // Found by adversarial testing: upstream URLs that validated, then lost parts silently.
    ["credentials in an upstream URL", "routes:\n  - name: a\n    upstream: http://user:pass@127.0.0.1:9000\n", 'routes[0].upstream: credentials in an upstream URL are not sent; set the header with request_headers.add (authorization: ${UPSTREAM_AUTH}), got "http://[redacted]@127.0.0.1:9000" (ficus.yaml:3)'],
    ["a query in an upstream URL", "routes:\n  - name: a\n    upstream: [\"http://h:80/base?x=1\"]\n", 'routes[0].upstream[0]: an upstream URL cannot carry a query (it would be dropped); the client\'s query is forwarded as it is, got "http://h:80/base?x=1" (ficus.yaml:3)'],
    ["port 0 in an upstream URL", "routes:\n  - name: a\n    upstream: { endpoints: [\"http://127.0.0.1:0\"] }\n", 'routes[0].upstream.endpoints[0]: port 0 is not a port an upstream can listen on, got "http://127.0.0.1:0" (ficus.yaml:3)'],
    ["an empty store path", 'store: { path: "" }\n', 'store.path: expected at least 1 character(s), got string "" (ficus.yaml:1)'],
    ["a control character in a tracing header", "tracing: { headers: { x-k: \"a\\tb\\u0007\" } }\n", 'tracing.headers.x-k: invalid header value "a\\tb\\u0007": contains the control character U+0007 at character 4 (ficus.yaml:1)'],
    ["not a mapping", "- a\n- b\n", "(root): expected a mapping of settings, got a list (ficus.yaml:1)"],
    ["upstream and legacy together", "routes:\n  - name: a\n    upstream: http://x\n    legacy: http://y\n", "routes[0].legacy: give either upstream or legacy, not both (they mean the same) (ficus.yaml:4)"],
    ["shadow without a candidate", "routes:\n  - name: a\n    legacy: http://x\n    stage: shadow\n", "routes[0].stage: stage shadow needs a candidate (ficus.yaml:4)"],
    ["an unknown stage", "routes:\n  - name: a\n    legacy: http://x\n    candidate: http://y\n    stage: blue-green\n", 'routes[0].stage: expected one of "legacy", "shadow", "canary", "candidate", got string "blue-green" (ficus.yaml:5)'],
    ["a canary percentage above 100", "routes:\n  - name: a\n    legacy: http://x\n    candidate: http://y\n    stage: canary\n    canary: { percent: 150 }\n", "routes[0].canary.percent: expected at most 100, got number 150 (ficus.yaml:6)"],
    ["a negative canary percentage", "routes:\n  - name: a\n    legacy: http://x\n    candidate: http://y\n    canary: { percent: -1 }\n", "routes[0].canary.percent: expected at least 0, got number -1 (ficus.yaml:5)"],
    ["sticky by header and cookie at once", "routes:\n  - name: a\n    legacy: http://x\n    candidate: http://y\n    canary: { sticky: { header: x-u, cookie: u } }\n", "routes[0].canary.sticky.cookie: give either header or cookie, not both (ficus.yaml:5)"],
    ["a malformed compare rule names the rule and line", "routes:\n  - name: a\n    legacy: http://x\n    compare:\n      ignore: [\"$.ok\", \"meta\"]\n", 'routes[0].compare.ignore[1]: a path must start with "$", got "meta" (ficus.yaml:5)'],
    ["a bad regex in normalize", "routes:\n  - name: a\n    legacy: http://x\n    compare: { normalize: [ { path: $.a, pattern: \"(\", replace: x } ] }\n", "routes[0].compare.normalize[0].pattern: not supported by the linear-time regex engine (RE2): missing closing ): `(` (ficus.yaml:4)"],
    ["an unknown compare key", "routes:\n  - name: a\n    legacy: http://x\n    compare: { ignroe: [] }\n", 'routes[0].compare.ignroe: unknown key "ignroe"; did you mean "ignore"? (ficus.yaml:4)'],
    ["bad route name", "routes:\n  - name: 'a b'\n    upstream: http://x\n", "routes[0].name: expected a name of letters, digits, '_', '.', '-', got string \"a b\" (ficus.yaml:2)"],
  ];
  for (const [name, yaml, message] of cases) {
    test(name, () => {
      expect(errorsOf(yaml)).toContain(message);
    });
  }

  test("every problem is reported, not just the first", () => {
    const errs = errorsOf("listen: x\nroutes:\n  - name: a\n    upstream: htp:/x\n    retrys: 1\n");
    expect(errs.length).toBe(3);
  });

  test("YAML syntax errors carry the line", () => {
    try {
      parseConfig("routes:\n  - name: a\n   upstream: [\n", "ficus.yaml", {});
      throw new Error("not rejected");
    } catch (err) {
      expect((err as ConfigError).code).toBe("FICUS_CONFIG_PARSE");
      expect((err as ConfigError).issues[0]).toMatch(/\(ficus\.yaml:\d+\)$/);
    }
  });

  test("duplicate keys are a parse error", () => {
    expect(() => parseConfig("listen: 1.1.1.1:1\nlisten: 1.1.1.1:2\n", "f.yaml", {})).toThrow(/unique/i);
  });
});

describe("environment interpolation", () => {
  test("replaces ${VAR} in values and marks them secret", () => {
    const loaded = parseConfig("routes:\n  - name: a\n    upstream: ${UP}\n    request_headers: { add: { x-api-key: \"${KEY}\" } }\n", "f.yaml", { UP: "http://10.0.0.1:81", KEY: "s3cret" });
    expect(loaded.config.routes[0]?.upstream).toBe("http://10.0.0.1:81");
    expect(loaded.config.routes[0]?.request_headers?.add["x-api-key"]).toBe("s3cret");
    expect(JSON.stringify(redactConfig(loaded))).not.toContain("s3cret");
    expect(JSON.stringify(redactConfig(loaded))).toContain("[redacted]");
  });

  test("a database URL written with its password is shown without it", () => {
    const loaded = parseConfig("store:\n  url: postgres://ficus:hunter2@db:5432/ficus\n", "f.yaml", {});
    expect(loaded.config.store.url).toBe("postgres://ficus:hunter2@db:5432/ficus");
    expect(loaded.config.store.schema).toBe("ficus");
    expect(JSON.stringify(redactConfig(loaded))).not.toContain("hunter2");
  });

  test("store url and schema are validated", () => {
    expect(() => parseConfig("store:\n  url: mysql://db/x\n", "f.yaml", {})).toThrow(/store\.url: must be a postgres/);
    expect(() => parseConfig("store:\n  url: postgres://db/x\n  schema: Bad-Name\n", "f.yaml", {})).toThrow(/store\.schema: must be a lower-case SQL identifier/);
  });

  test("a missing variable is an error naming the variable, field and line", () => {
    try {
      parseConfig("routes:\n  - name: a\n    upstream: ${NOPE}\n", "f.yaml", {});
      throw new Error("not rejected");
    } catch (err) {
      expect((err as ConfigError).code).toBe("FICUS_CONFIG_ENV_MISSING");
      expect((err as ConfigError).issues).toEqual(["routes[0].upstream: environment variable NOPE is not set (f.yaml:3)"]);
    }
  });

  test("defaults and escapes", () => {
    const missing: string[] = [];
    expect(interpolate("${A:-fallback}", {}, missing).value).toBe("fallback");
    expect(interpolate("$${A}", { A: "x" }, missing).value).toBe("${A}");
    expect(interpolate("a-${A}-b", { A: "x" }, missing).value).toBe("a-x-b");
    expect(missing).toEqual([]);
  });

  test("a value from the environment cannot inject YAML structure", () => {
    const loaded = parseConfig("routes:\n  - name: a\n    upstream: http://x\n    canary: { sticky: { salt: \"${V}\" } }\n", "f.yaml", { V: "1\n  evil: true" });
    expect(loaded.config.routes[0]?.canary.sticky.salt).toBe("1\n  evil: true");
  });

  test("a header value from the environment is checked like any other (no header injection through ${VAR})", () => {
    const errors = errorsOf("routes:\n  - name: a\n    upstream: http://x\n    request_headers: { add: { x: \"${V}\" } }\n", { V: "1\r\nX-Evil: 1" });
    expect(errors.join("\n")).toContain("routes[0].request_headers.add.x: invalid header value");
  });
});

describe("defaults and units", () => {
  test("an empty file is an error, never a config without routes (regression: it reloaded as one)", () => {
    for (const text of ["", "\n\n", "# nothing yet\n", "---\n"]) {
      let code: string | undefined;
      try {
        parseConfig(text, "f.yaml", {});
      } catch (err) {
        code = (err as ConfigError).code;
      }
      expect(code).toBe("FICUS_CONFIG_EMPTY");
    }
  });

  test("an empty mapping is a valid config with documented defaults", () => {
    const { config } = parseConfig("{}", "f.yaml", {});
    expect(config.listen).toEqual({ hostname: "0.0.0.0", port: 8080 });
    expect(config.admin.listen).toEqual({ hostname: "127.0.0.1", port: 9901 });
    expect(config.limits.max_url_bytes).toBe(8192);
    expect(config.access_log.enabled).toBe(true);
  });

  test("route defaults fill nested objects", () => {
    const { config } = parseConfig(ROUTE, "f.yaml", {});
    const r = config.routes[0];
    expect(r?.timeouts).toEqual({ header: 30000, idle: 60000, total: 0 });
    expect(r?.retries.attempts).toBe(1);
    expect(r?.match).toEqual({});
  });

  test("the loaded config is frozen", () => {
    const { config } = parseConfig(ROUTE, "f.yaml", {});
    expect(Object.isFrozen(config.routes[0])).toBe(true);
  });

  const durations: [string | number, number | undefined][] = [["250ms", 250], ["5s", 5000], ["1.5s", 1500], ["2m", 120000], ["1h", 3600000], [300, 300], ["5", undefined], ["-1s", undefined], ["s", undefined]];
  for (const [input, want] of durations) test(`duration ${JSON.stringify(input)}`, () => expect(parseDuration(input)).toBe(want));

  const sizes: [string | number, number | undefined][] = [["1KiB", 1024], ["1kb", 1000], ["10MB", 1e7], ["1GiB", 1024 ** 3], ["512", 512], [0, 0], ["1.5 MiB", 1572864], ["big", undefined], [-1, undefined]];
  for (const [input, want] of sizes) test(`size ${JSON.stringify(input)}`, () => expect(parseSize(input)).toBe(want));

  const listens: [string, { hostname: string; port: number } | undefined][] = [
    ["0.0.0.0:8080", { hostname: "0.0.0.0", port: 8080 }],
    [":9000", { hostname: "0.0.0.0", port: 9000 }],
    ["[::1]:80", { hostname: "::1", port: 80 }],
    ["localhost:0", { hostname: "localhost", port: 0 }],
    ["host:70000", undefined],
    ["8080", undefined],
  ];
  for (const [input, want] of listens) test(`listen ${input}`, () => expect(parseListen(input)).toEqual(want));
});

describe("did you mean", () => {
  test("suggests close keys only", () => {
    expect(didYouMean("upstreem", ["upstream", "upstreams", "listen"])).toBe("upstream");
    expect(didYouMean("xyz", ["upstream", "listen"])).toBeUndefined();
  });
});

describe("JSON Schema", () => {
  test("describes the input format", () => {
    const schema = configJsonSchema() as { properties: Record<string, { description?: string }>; additionalProperties: boolean };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(["listen", "admin", "routes", "upstreams", "limits", "tracing"]));
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.listen?.description).toContain("Default 0.0.0.0:8080");
  });
});

describe("secrets never leave through config output", () => {
  test("a value from ${ENV} is never quoted by a validation message (regression: a token with a trailing newline was printed)", () => {
    const env = { API_TOKEN: "sk-live-SECRET123\n", PG_URL: "mysql://u:PGSECRET@db/x" };
    const errors = errorsOf('routes:\n  - name: a\n    upstream: http://x\n    request_headers: { add: { authorization: "Bearer ${API_TOKEN}" } }\nstore: { url: "${PG_URL}" }\n', env);
    const text = errors.join("\n");
    expect(text).toContain("routes[0].request_headers.add.authorization: invalid header value \"[redacted]\": contains a line break");
    expect(text).toContain("store.url:");
    expect(text).not.toContain("SECRET123");
    expect(text).not.toContain("PGSECRET");
  });

  test("/admin/config hides values under secret-looking keys, exporter headers and secret query parameters (regression: shown in clear)", () => {
    const loaded = parseConfig(
      [
        "routes:",
        "  - name: a",
        "    upstream: http://x",
        "    request_headers: { add: { cookie: c=LIT1, x-auth: LIT2, x-access-key: LIT3, x-tenant: visible } }",
        "    canary: { sticky: { cookie: session_id } }",
        "tracing:",
        '  otlp_endpoint: "http://collector:4318/v1/traces?api_key=LIT4&region=eu"',
        "  headers: { x-honeycomb-team: LIT5 }",
        'store: { url: "postgres://ficus:LIT6@db/x?password=LIT7&sslmode=require" }',
      ].join("\n"),
      "f.yaml",
      {},
    );
    const shown = JSON.stringify(redactConfig(loaded));
    for (const secret of ["LIT1", "LIT2", "LIT3", "LIT4", "LIT5", "LIT6", "LIT7"]) expect(shown).not.toContain(secret);
    expect(shown).toContain('"x-tenant":"visible"');
    expect(shown).toContain("region=eu");
    expect(shown).toContain("sslmode=require");
    expect(shown).toContain('"cookie":"session_id"'); // a cookie's name, not its value
  });

  test("a billion-laughs file is a parse error, not an internal one", () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [i, n] of ["b", "c", "d", "e"].entries()) levels.push(`${n}: &${n} [${Array(9).fill(`*${"abcd"[i]}`).join(",")}]`);
    let code: string | undefined;
    let message = "";
    try {
      parseConfig(levels.join("\n"), "f.yaml", {});
    } catch (err) {
      code = (err as ConfigError).code;
      message = (err as Error).message;
    }
    expect(code).toBe("FICUS_CONFIG_PARSE");
    expect(message).toContain("too many alias");
  });
});
