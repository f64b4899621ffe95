/** src/tls: the schema fragments, the file checks of settings.ts (each FICUS_TLS_* code), and the peer certificate's form. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { listenerTlsSchema, upstreamTlsSchema } from "../../../src/tls/schema.ts";
import { compileListenerTls, compileUpstreamTls, type ListenerTlsConfig } from "../../../src/tls/settings.ts";
import { certificateIdentity, distinguishedName, subjectAltNames, toPeerCertificate } from "../../../src/tls/peer.ts";
import { hasTool } from "../../helpers/tools.ts";
import { type Issued, TestPki } from "../../helpers/tls-certs.ts";

const HAVE = hasTool("openssl", "TLS settings tests (certificates are made at test time)");
const pki = new TestPki();
let ca: Issued;
let a: Issued;
let b: Issued;
let expired: Issued;
let garbage: string;

beforeAll(() => {
  if (!HAVE) return;
  ca = pki.ca("ca");
  a = pki.leaf("a", ca, "a.test", "DNS:a.test");
  b = pki.leaf("b", ca, "b.test", "DNS:b.test");
  expired = pki.leaf("expired", ca, "old.test", "DNS:old.test", { expired: true });
  garbage = pki.path("garbage.pem");
  writeFileSync(garbage, "not a pem file\n");
});
afterAll(() => pki.cleanup());

const listener = (o: Partial<ListenerTlsConfig>): ListenerTlsConfig => ({ cert: a.cert, key: a.key, sni: [], client_auth: "none", watch_interval: 1000, ...o }) as ListenerTlsConfig;

describe("schema", () => {
  test("listener: defaults, and what zod refuses", () => {
    expect(listenerTlsSchema.parse({ cert: "c.pem", key: "k.pem" })).toEqual({ cert: "c.pem", key: "k.pem", sni: [], client_auth: "none", watch_interval: 1000 });
    const refused: [unknown, string][] = [
      [{ cert: "c", key: "k", client_auth: "required" }, "needs client_ca"],
      [{ cert: "c", key: "k", client_ca: "ca.pem" }, "client_auth is none"],
      [{ cert: "c", key: "k", sni: [{ server_name: "A.test", cert: "x", key: "y" }, { server_name: "a.test", cert: "x", key: "y" }] }, "duplicate server_name"],
      [{ cert: "c", key: "k", sni: [{ server_name: "bad name", cert: "x", key: "y" }] }, "expected a DNS name"],
      [{ cert: "", key: "k" }, "must name a file"],
      [{ cert: "c", key: "k", client_auth: "maybe" }, ""],
      [{ cert: "c" }, ""],
    ];
    for (const [input, message] of refused) {
      const r = listenerTlsSchema.safeParse(input);
      expect({ input, ok: r.success }).toEqual({ input, ok: false });
      if (!r.success) expect(r.error.issues.map((i) => i.message).join("; ")).toContain(message);
    }
  });

  test("upstream: cert and key together; ca with insecure_skip_verify refused", () => {
    expect(upstreamTlsSchema.parse({ server_name: "API.example.com" })).toEqual({ server_name: "api.example.com", insecure_skip_verify: false });
    expect(upstreamTlsSchema.safeParse({ cert: "c.pem" }).success).toBe(false);
    expect(upstreamTlsSchema.safeParse({ ca: "ca.pem", insecure_skip_verify: true }).success).toBe(false);
  });
});

describe.skipIf(!HAVE)("compileListenerTls", () => {
  test("reads the files: Bun's options, client-certificate policy on every context, a digest", () => {
    const s = compileListenerTls(listener({ client_ca: ca.cert, client_auth: "optional", sni: [{ server_name: "b.test", cert: b.cert, key: b.key }] }));
    expect(s.tls).toMatchObject({ requestCert: true, rejectUnauthorized: false });
    expect(s.serverNames.map((n) => [n.serverName, n.tls.requestCert, typeof n.tls.ca])).toEqual([["b.test", true, "string"]]);
    expect([...s.certificates.keys()]).toEqual(["default", "b.test"]);
    expect(s.certificates.get("b.test")?.subject).toBe("CN=b.test");
    expect(s.files).toEqual([ca.cert, a.cert, a.key, b.cert, b.key]);
    expect(compileListenerTls(listener({ client_ca: ca.cert, client_auth: "optional", sni: [{ server_name: "b.test", cert: b.cert, key: b.key }] })).digest).toBe(s.digest);
    expect(compileListenerTls(listener({})).digest).not.toBe(s.digest);
    expect(compileListenerTls(listener({ client_ca: ca.cert, client_auth: "required" })).tls).toMatchObject({ requestCert: true, rejectUnauthorized: true });
    expect(compileListenerTls(listener({})).tls.requestCert).toBe(false);
  });

  test("each bad file: a stable code and a message naming the field, never a key's contents", () => {
    const cases: [Partial<ListenerTlsConfig>, string, string][] = [
      [{ cert: pki.path("nope.pem") }, "FICUS_TLS_FILE", "tls.cert: cannot read"],
      [{ cert: garbage }, "FICUS_TLS_CERT_INVALID", "tls.cert:"],
      [{ key: garbage }, "FICUS_TLS_CERT_INVALID", "tls.key:"],
      [{ key: b.key }, "FICUS_TLS_KEY_MISMATCH", "tls.key:"],
      [{ cert: expired.cert, key: expired.key }, "FICUS_TLS_CERT_EXPIRED", "tls.cert:"],
      [{ sni: [{ server_name: "b.test", cert: b.cert, key: a.key }] }, "FICUS_TLS_KEY_MISMATCH", "tls.sni[0].key:"],
      [{ client_ca: garbage, client_auth: "required" }, "FICUS_TLS_CERT_INVALID", "tls.client_ca:"],
      [{ client_ca: expired.cert, client_auth: "required" }, "FICUS_TLS_CERT_EXPIRED", "tls.client_ca:"],
    ];
    const keyText = require("node:fs").readFileSync(a.key, "utf8") as string;
    for (const [o, code, start] of cases) {
      let err: (Error & { code?: string }) | undefined;
      try {
        compileListenerTls(listener(o));
      } catch (e) {
        err = e as Error & { code?: string };
      }
      expect({ o, code: err?.code, start: err?.message.startsWith(start) }).toEqual({ o, code, start: true });
      expect(err?.message).not.toContain("PRIVATE KEY");
      expect(err?.message).not.toContain(keyText.split("\n")[1] ?? "-");
    }
  });

  test("an expired certificate is judged by the clock given", () => {
    expect(() => compileListenerTls(listener({ cert: expired.cert, key: expired.key }), Date.parse("2020-01-01T12:00:00Z"))).not.toThrow();
    expect(() => compileListenerTls(listener({}), Date.parse("2019-01-01T00:00:00Z"))).toThrow(/not valid before/);
  });
});

describe.skipIf(!HAVE)("compileUpstreamTls", () => {
  test("options for Bun.connect; the pool key changes with the contents, never holds them", () => {
    const s = compileUpstreamTls({ ca: ca.cert, cert: a.cert, key: a.key, server_name: "api.test", insecure_skip_verify: false }, "upstreams.x.tls");
    expect(s.options).toMatchObject({ rejectUnauthorized: true, serverName: "api.test" });
    expect(typeof s.options.ca).toBe("string");
    expect(s.key).toMatch(/^[0-9a-f]{16}$/);
    expect(s.clientCertificate?.subject).toBe("CN=a.test");
    const other = compileUpstreamTls({ ca: ca.cert, cert: b.cert, key: b.key, server_name: "api.test", insecure_skip_verify: false }, "upstreams.x.tls");
    expect(other.key).not.toBe(s.key);
    const insecure = compileUpstreamTls({ insecure_skip_verify: true }, "upstreams.x.tls");
    expect(insecure).toMatchObject({ insecure: true, options: { rejectUnauthorized: false } });
    expect(() => compileUpstreamTls({ cert: expired.cert, key: expired.key, insecure_skip_verify: false }, "upstreams.x.tls")).toThrow(expect.objectContaining({ code: "FICUS_TLS_CERT_EXPIRED" }));
  });
});

describe("peer certificate", () => {
  test("subjectAltName lists, quoted values included", () => {
    const cases: [string | undefined, string[]][] = [
      [undefined, []],
      ["", []],
      ["DNS:a.test", ["DNS:a.test"]],
      ["URI:spiffe://acme/orders, DNS:orders.internal, IP Address:10.0.0.1, email:ops@acme.test", ["URI:spiffe://acme/orders", "DNS:orders.internal", "IP:10.0.0.1", "email:ops@acme.test"]],
      ['DNS:a.test, URI:"http://x/a, b", DNS:c.test', ["DNS:a.test", "URI:http://x/a, b", "DNS:c.test"]],
    ];
    for (const [text, sans] of cases) expect({ text, sans: subjectAltNames(text) }).toEqual({ text, sans });
  });

  test("distinguished names in certificate order, RFC 4514 escapes", () => {
    expect(distinguishedName({ CN: "orders-service", O: "Acme" })).toBe("CN=orders-service,O=Acme");
    expect(distinguishedName({ O: "Acme, Inc.", OU: ["a", "b"] })).toBe("O=Acme\\, Inc.,OU=a,OU=b");
    expect(distinguishedName(undefined)).toBe("");
  });

  test("converted once per raw certificate; the identity it gives", () => {
    const raw = { subject: { CN: "svc", O: "Acme" }, issuer: { CN: "CA" }, subjectaltname: "DNS:svc.internal", fingerprint256: "AB:CD", valid_to: "Jan  6 21:51:43 2027 GMT" } as never;
    const pc = toPeerCertificate(raw);
    expect(toPeerCertificate(raw)).toBe(pc);
    expect(pc).toEqual({ subject: "CN=svc,O=Acme", commonName: "svc", sans: ["DNS:svc.internal"], issuer: "CN=CA", fingerprint256: "AB:CD", validTo: Date.parse("Jan  6 21:51:43 2027 GMT") });
    expect(certificateIdentity(pc)).toMatchObject({ method: "mtls", subject: "svc", issuer: "CN=CA", scopes: [], roles: [], expiresAt: pc.validTo });
    expect(certificateIdentity({ ...pc, commonName: "" }).subject).toBe("DNS:svc.internal");
  });
});
