/**
 * Guardrails redaction tables: each built-in secret pattern on a true positive (and the words around it kept), the
 * ordinary text each must leave alone, structured content, the operator's patterns, and linear time on a pattern
 * that is exponential for a backtracking engine.
 */
import { describe, expect, test } from "bun:test";
import { BUILT_IN, isSecretKey, Redactor } from "../../../../src/mcp/governance/guardrails/redact.ts";

const R = "[redacted]";
const defaults = () => new Redactor({ defaults: true, patterns: [], replacement: R });

// Fake credentials made for these tests (right shapes, no real keys).
const AWS_ID = "AKIAZ7Q2EXAMPLE4KEY9";
const AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const GH = `ghp_${"a1B2c3D4e5".repeat(3)}abcdef`;
const PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7Vq1x\nZm9vYmFy\n-----END RSA PRIVATE KEY-----";

/** [what, input, expected output] */
const positives: [string, string, string][] = [
  ["aws access key id", `key id ${AWS_ID} here`, `key id ${R} here`],
  ["aws secret with its name (ini)", `aws_secret_access_key = ${AWS_SECRET}`, `aws_secret_access_key = ${R}`],
  ["aws secret in STS JSON", `{"SecretAccessKey": "${AWS_SECRET}"}`, `{"SecretAccessKey": "${R}"}`],
  ["jwt", `token ${JWT} end`, `token ${R} end`],
  ["bearer jwt is one redaction", `Authorization: Bearer ${JWT}`, `Authorization: Bearer ${R}`],
  ["bearer opaque token", "Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0", `Authorization: Bearer ${R}`],
  ["basic credentials", "Authorization: Basic dXNlcjpzM2NyM3Q=", `Authorization: Basic ${R}`],
  ["gcp api key", `key=AIzaSyD-${"x1Y2z3".repeat(5)}a`, `key=${R}`],
  ["gcp access token", `ya29.a0AfH6SMB${"q".repeat(30)}`, R],
  ["github token", `GITHUB_TOKEN ${GH}`, `GITHUB_TOKEN ${R}`],
  ["github fine-grained pat", `github_pat_11ABCDEFG0123456789_${"abcXYZ".repeat(8)}`, R],
  ["slack bot token", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", R],
  ["slack webhook", "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", `https://hooks.slack.com/services/${R}`],
  ["stripe secret key", `sk_live_${"4eC39HqLyjWDarjtT1zdp7dc".slice(0, 24)}`, R],
  ["stripe restricted test key", "rk_test_51H8abcdefGHIJKLmnop", R],
  ["stripe webhook secret", "whsec_abcdefghijklmnopqrstuvwxyz012345", R],
  ["pem private key block", `before\n${PEM}\nafter`, `before\n${R}\nafter`],
  ["private key cut before its END", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC", R],
  ["pgp private key block", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----", R],
  ["gcp service account key in JSON text", '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\\n"}', `{"private_key": "${R}"}`],
  ["password= in a query", "GET /login?user=bob&password=hunter2&x=1", `GET /login?user=bob&password=${R}&x=1`],
  ["env file", "DB_PASSWORD=s3cr3t!\nCLIENT_SECRET=abc123", `DB_PASSWORD=${R}\nCLIENT_SECRET=${R}`],
  ["json secret field", '{"user":"bob","password":"hunter2","apiKey":"k-123"}', `{"user":"bob","password":"${R}","apiKey":"${R}"}`],
  ["json fields with a prefix", '{"db_password":"p","stripe-api-key":"k"}', `{"db_password":"${R}","stripe-api-key":"${R}"}`],
  ["json field with escapes", '{"client_secret": "a\\"b\\\\c"}', `{"client_secret": "${R}"}`],
  ["url with a password", "postgres://app:pa55w0rd@db.internal:5432/orders", `postgres://app:${R}@db.internal:5432/orders`],
];

/** Ordinary text that looks a little like a secret and must stay as it is. */
const negatives: [string, string][] = [
  ["prose with bearer", "The bearer of this letter is authorised to collect the parcel."],
  ["bearer with a short word", "Bearer token required"],
  ["password prose", "password: must be at least 12 characters long, with a digit"],
  ["password field named in docs", "Set the password field in the form, then press Save."],
  ["a git commit hash", "commit 3f786850e387550fdab836ed7e6dc881de23001b"],
  ["a uuid", "order 123e4567-e89b-12d3-a456-426614174000 shipped"],
  ["a sha256", "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
  ["public key block", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"],
  ["certificate", "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----"],
  ["url with a port", "see https://example.com:8443/path?q=1 and http://localhost:3000/"],
  ["email address", "write to ops@example.com or mailto:ops@example.com"],
  ["basic prose", "basic authentication is described in RFC 7617; Basic internationalization matters"],
  ["stripe publishable key", "pk_live_51H8abcdefGHIJKLmnopqrstu"],
  ["word ending in sk_live", "task_live_settings_enabled_for_everyone"],
  ["short AKIA word", "AKIAN is not a key, nor is AKIA123"],
  ["eyJ alone", "eyJhbGciOiJIUzI1NiJ9 is a header only"],
  ["token counts", '{"tokens": 1200, "token_count": "42", "next_token": "abc"}'],
  ["passwordless", "passwordless sign-in: no password=required here? no: password-less"],
];

describe("built-in patterns redact real shapes", () => {
  for (const [what, input, expected] of positives) {
    test(what, () => {
      const r = defaults();
      expect(r.text(input)).toBe(expected);
      expect(r.count).toBeGreaterThan(0);
    });
  }
});

describe("built-in patterns leave ordinary text alone", () => {
  for (const [what, input] of negatives) {
    test(what, () => {
      const r = defaults();
      const out = r.text(input);
      // "password=required" in the last case is an assignment by design; everything else must stay.
      if (what === "passwordless") expect(out).toBe(`passwordless sign-in: no password=${R} here? no: password-less`);
      else expect(out).toBe(input);
    });
  }
});

test("each built-in has a name, and its hint is a literal check that the pattern needs", () => {
  const names = BUILT_IN.map((b) => b.name);
  expect(new Set(names).size).toBe(names.length);
  for (const b of BUILT_IN) expect(b.hint.source).not.toMatch(/[*+{]/);
});

test("text with nothing to redact is returned as the same string, and nothing is counted", () => {
  const r = defaults();
  const s = "x".repeat(1000);
  expect(r.text(s)).toBe(s);
  expect(r.count).toBe(0);
});

test("counts every secret replaced", () => {
  const r = defaults();
  r.text(`${AWS_ID} and ${AWS_ID.replace("Z7", "Q8")} and ${GH}`);
  expect(r.count).toBe(3);
});

test("structured content: string values at any depth, and values of secret-named keys whole; copy on write", () => {
  const r = defaults();
  const sc = { id: 7, owner: { name: "bob", password: "hunter2", keys: [`id ${AWS_ID}`, "plain"] }, untouched: { a: [1, 2] } };
  const out = r.value(sc) as typeof sc;
  expect(out).toEqual({ id: 7, owner: { name: "bob", password: R, keys: [`id ${R}`, "plain"] }, untouched: { a: [1, 2] } });
  expect(r.count).toBe(2);
  expect(sc.owner.password).toBe("hunter2"); // the original is not changed
  expect(out.untouched).toBe(sc.untouched); // what did not change is shared
  const clean = { a: "b", c: [1, "d"] };
  expect(r.value(clean)).toBe(clean);
});

test("secret key names", () => {
  for (const k of ["password", "Password", "client_secret", "clientSecret", "api_key", "apiKey", "access_token", "SecretAccessKey", "private_key", "db_password", "stripeSecretKey", "X-Api-Key"]) expect(isSecretKey(k)).toBe(true);
  for (const k of ["token", "key", "tokens", "monkey", "password_hint_url_x", "author", "passwordPolicy", "secretary", "api_key_id", "next_token"]) expect(isSecretKey(k)).toBe(false);
});

test("defaults: false keeps only the operator's patterns; the replacement is taken literally", () => {
  const r = new Redactor({ defaults: false, patterns: ["\\bEMP-[0-9]{6}\\b", "(?i)internal-[a-z]+"], replacement: "<$1 gone>" });
  expect(r.text(`${AWS_ID} EMP-123456 Internal-Alpha`)).toBe(`${AWS_ID} <$1 gone> <$1 gone>`);
  expect(r.count).toBe(2);
  expect(r.value({ password: "x" })).toEqual({ password: "x" });
});

test("a pattern that can match the empty string redacts only what it really matches", () => {
  const r = new Redactor({ defaults: false, patterns: ["x*"], replacement: "#" });
  expect(r.text("abxxc")).toBe("ab#c");
  expect(r.count).toBe(1);
});

test("a pattern exponential for backtracking engines runs in linear time on RE2", () => {
  const r = new Redactor({ defaults: false, patterns: ["(a+)+$", "(x+x+)+y"], replacement: R });
  const hostile = `${"a".repeat(50_000)}!${"x".repeat(50_000)}`;
  const t0 = performance.now();
  expect(r.text(hostile)).toBe(hostile);
  expect(performance.now() - t0).toBeLessThan(2000);
  // The same first pattern in a backtracking engine already takes visible time at 24 characters (2^24 paths); not run here.
});

test("a megabyte of ordinary text is checked against every built-in quickly", () => {
  const r = defaults();
  const text = "The quick brown fox jumps over the lazy dog; order 12345 shipped to Berlin. ".repeat(14_000);
  const t0 = performance.now();
  expect(r.text(text)).toBe(text);
  expect(performance.now() - t0).toBeLessThan(500);
});
