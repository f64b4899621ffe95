/**
 * The auth config: the schema's defaults and messages, the settings compiler's checks (named policies,
 * API key environment variables and files), and that the data-plane side (layer, settings) loads no zod.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { ConfigError } from "../../../src/core/errors.ts";
import { authPoliciesSchema, authPolicySchema, authReferenceIssues, routeAuthSchema } from "../../../src/auth/schema.ts";
import { compileAuthSettings } from "../../../src/auth/settings.ts";
import { findApiKey, sha256 } from "../../../src/auth/api-keys.ts";

const issues = (input: unknown) => {
  const r = authPolicySchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("schema", () => {
  test("defaults: required mode, Authorization: Bearer, asymmetric algorithms, 30 s leeway, Keycloak role claims", () => {
    const p = authPolicySchema.parse({ jwt: { issuer: "https://idp.example/realms/acme" } });
    expect(p.mode).toBe("required");
    expect(p.realm).toBe("ficus");
    expect(p.jwt?.token_from).toEqual([{ header: "authorization" }]);
    expect(p.jwt?.algorithms).not.toContain("HS256" as never);
    expect(p.jwt?.leeway).toBe(30_000);
    expect(p.jwt?.max_token_size).toBe(8192);
    expect(p.jwt?.keys).toEqual({ timeout: 3000, refetch_interval: 10_000, refresh_interval: 600_000, max_size: 262_144 });
    expect(p.jwt?.identity).toEqual({ subject: "sub", scopes: ["scope", "scp"], roles: ["realm_access.roles", "roles"] });
  });

  test("table of invalid policies and their messages", () => {
    const cases: [unknown, RegExp][] = [
      [{}, /give at least one of jwt, api_key or mtls/],
      [{ jwt: {} }, /give issuer .* or jwks_url/],
      [{ jwt: { jwks_url: "ftp://x/jwks" } }, /expected an http\(s\) URL/],
      [{ jwt: { jwks_url: "https://user:pw@x/jwks" } }, /without credentials/],
      [{ jwt: { issuer: "https://i", algorithms: ["HS256"] } }, /algorithms/],
      [{ jwt: { issuer: "https://i", algorithms: ["none"] } }, /algorithms/],
      [{ jwt: { issuer: "https://i", token_from: [{ header: "a", cookie: "b" }] } }, /exactly one of header, cookie or query/],
      [{ jwt: { issuer: "https://i", token_from: [{ cookie: "b", scheme: "Bearer" }] } }, /scheme goes with header/],
      [{ jwt: { issuer: "https://i", leeway: "1h" } }, /leeway: must be at most 5m/],
      [{ jwt: { issuer: "https://i", max_token_size: "1MiB" } }, /max_token_size: must be/],
      [{ jwt: { issuer: "https://i", identity: { roles: ["a..b"] } } }, /dotted path/],
      [{ methods: ["jwt"] }, /method jwt needs its jwt block/],
      [{ methods: ["mtls", "mtls"] }, /listed twice/],
      [{ api_key: {} }, /give keys or a file/],
      [{ api_key: { keys: [{ id: "a" }] } }, /exactly one of env or sha256/],
      [{ api_key: { keys: [{ id: "a", sha256: "abc" }] } }, /64 hex digits/],
      [{ api_key: { keys: [{ id: "a", env: "X" }, { id: "a", env: "Y" }] } }, /duplicate key id/],
      [{ mtls: {}, identity_headers: { subject: "Authorization" } }, /cannot be an identity header/],
      [{ mtls: {}, identity_headers: { subject: "x-who", roles: "X-Who" } }, /already used/],
      [{ mtls: {}, identity_headers: { claims: { "bad header": "sub" } } }, /invalid header name/],
      [{ mtls: {}, realm: 'a"b' }, /printable ASCII/],
      [{ mtls: {}, mode: "maybe" }, /mode/],
      [{ mtls: {}, extra: 1 }, /extra|Unrecognized/i],
    ];
    for (const [input, re] of cases) {
      const got = issues(input);
      if (!got.some((m) => re.test(m))) throw new Error(`${JSON.stringify(input)}: expected ${re}, got ${JSON.stringify(got)}`);
    }
  });

  test("a route's auth is a policy name or a policy; unknown names are reported with the known ones", () => {
    expect(routeAuthSchema.parse("staff")).toBe("staff");
    expect(authReferenceIssues(authPoliciesSchema.parse({ staff: { mtls: {} } }), [{ auth: "staff" }, { auth: "stafff" }, {}])).toEqual([{ route: 1, message: 'no auth policy named "stafff"; known: staff' }]);
  });
});

describe("settings", () => {
  const dir = mkdtempSync(join(tmpdir(), "ficus-auth-"));

  test("named and inline policies, the strip list is the union of identity headers, a missing name is an error", () => {
    const s = compileAuthSettings({
      auth_policies: authPoliciesSchema.parse({ p: { mtls: {}, identity_headers: { subject: "X-Sub" } } }),
      routes: [
        { name: "a", auth: "p" },
        { name: "b", auth: routeAuthSchema.parse({ mtls: {}, identity_headers: { roles: "X-Roles", claims: { "X-Tenant": "tenant" } } }) },
        { name: "c" },
      ],
    });
    expect([...s.routes.keys()]).toEqual(["a", "b"]);
    expect([...s.strip].sort()).toEqual(["x-roles", "x-sub", "x-tenant"]);
    expect(() => compileAuthSettings({ routes: [{ name: "a", auth: "nope" }] })).toThrow(/routes\[0\]\.auth: no auth policy named "nope"/);
  });

  test("API keys: environment variables (missing or short ones are errors), files of hashes or keys, duplicates refused", () => {
    const policy = (api_key: unknown) => ({ routes: [{ name: "r", auth: routeAuthSchema.parse({ api_key }) }] });
    expect(() => compileAuthSettings(policy({ keys: [{ id: "a", env: "NOPE_KEY" }] }), { env: {} })).toThrow(ConfigError);
    try {
      compileAuthSettings(policy({ keys: [{ id: "a", env: "NOPE_KEY" }] }), { env: {} });
    } catch (err) {
      expect((err as ConfigError).code).toBe("FICUS_CONFIG_ENV_MISSING");
    }
    expect(() => compileAuthSettings(policy({ keys: [{ id: "a", env: "K" }] }), { env: { K: "short" } })).toThrow(/shorter than 16/);
    const file = join(dir, "keys.json");
    const keyText = "key-from-the-file-0123456789";
    writeFileSync(file, JSON.stringify([{ id: "f1", key: keyText, scopes: ["s"] }, { id: "f2", sha256: sha256("hashed-key-0123456789").toHex() }]));
    const s = compileAuthSettings(policy({ keys: [{ id: "e", env: "K" }], file }), { env: { K: "env-key-0123456789" } });
    const entries = s.routes.get("r")?.apiKey?.entries ?? [];
    expect(entries.map((e) => e.identity.subject)).toEqual(["e", "f1", "f2"]);
    expect(findApiKey(entries, keyText)?.scopes).toEqual(["s"]);
    expect(findApiKey(entries, "hashed-key-0123456789")?.subject).toBe("f2");
    expect(JSON.stringify([...s.routes.values()])).not.toContain(keyText);
    const bad: [string, RegExp][] = [
      ["{", /not valid JSON/],
      ['{"x":1}', /must hold an array/],
      ['[{"id":"a"}]', /exactly one of sha256 or key/],
      ['[{"id":"a","key":"k","sha256":"00"}]', /exactly one/],
      ['[{"id":"a b","key":"0123456789abcdefg"}]', /id must be/],
      ['[{"id":"a","key":"0123456789abcdefg","extra":1}]', /unknown field "extra"/],
      ['[{"id":"a","key":"0123456789abcdefg","roles":"x"}]', /roles must be an array/],
      ['[{"id":"a","key":"0123456789abcdefg"},{"id":"a","key":"0123456789abcdefgh"}]', /given twice/],
      ['[{"id":"a","key":"0123456789abcdefg"},{"id":"b","key":"0123456789abcdefg"}]', /same key as another/],
    ];
    for (const [text, re] of bad) {
      writeFileSync(file, text);
      expect(() => compileAuthSettings(policy({ file }))).toThrow(re);
    }
    expect(() => compileAuthSettings(policy({ file: join(dir, "missing.json") }))).toThrow(/cannot read the API key file/);
  });
});

describe("the data plane loads no zod", () => {
  test("layer.ts and settings.ts import schema.ts for types only", () => {
    const root = resolve(import.meta.dir, "../../../src/auth");
    const seen = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const i of new Bun.Transpiler({ loader: "ts" }).scanImports(readFileSync(file, "utf8"))) {
        expect(i.path).not.toBe("zod");
        if (!i.path.startsWith(".")) continue;
        const next = resolve(dirname(file), i.path);
        if (existsSync(next) && next.startsWith(resolve(root, ".."))) walk(next);
      }
    };
    walk(join(root, "layer.ts"));
    walk(join(root, "settings.ts"));
    expect(seen.has(join(root, "schema.ts"))).toBe(false);
  });
});
