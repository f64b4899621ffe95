/**
 * Validated TLS config → what the runtime hands to Bun: the listener's
 * default context and its SNI contexts (client-certificate policy on each),
 * and each upstream's client options. Files are read and checked here
 * (certificates.ts), at start and at every reload; no zod (workers load this).
 */
import { createHash } from "node:crypto";
import type { TLSOptions } from "bun";
import { type CertificateInfo, checkedBundle, checkedKey, checkedLeaf, describe, readPem } from "./certificates.ts";
import type { ListenerTlsConfig, UpstreamTlsConfig } from "./schema.ts";

export type { ListenerTlsConfig, UpstreamTlsConfig } from "./schema.ts";
export type ClientAuth = ListenerTlsConfig["client_auth"];

/** A certificate served for a name (SNI). */
export interface ServerNameTls {
  readonly serverName: string;
  readonly tls: TLSOptions;
}

export interface ListenerTlsSettings {
  /** The default context: clients that send no server name, or one no entry of serverNames matches. */
  readonly tls: TLSOptions;
  readonly serverNames: readonly ServerNameTls[];
  readonly clientAuth: ClientAuth;
  /** Every file read: watched for changes. */
  readonly files: readonly string[];
  /** The served certificates ("default" or the server name → what it is), for logs and metrics. */
  readonly certificates: ReadonlyMap<string, CertificateInfo>;
  /** SHA-256 over every file's contents: equal when nothing changed. */
  readonly digest: string;
  readonly watchInterval: number;
}

/** The client-certificate part of a server context (RFC 8446 §4.3.2 CertificateRequest). */
function clientAuthOptions(auth: ClientAuth, ca: string | undefined): Partial<TLSOptions> {
  if (auth === "none" || ca === undefined) return { requestCert: false };
  // optional: asked for and verified, but a missing or failing certificate does not end the handshake;
  // the engine exposes a certificate only when it verified (socket.authorized).
  return { requestCert: true, rejectUnauthorized: auth === "required", ca };
}

/**
 * Reads and checks the listener's files. Throws FICUS_TLS_FILE, FICUS_TLS_CERT_INVALID,
 * FICUS_TLS_KEY_MISMATCH or FICUS_TLS_CERT_EXPIRED naming the field (`where` is its prefix, "tls").
 */
export function compileListenerTls(config: ListenerTlsConfig, now = Date.now(), where = "tls"): ListenerTlsSettings {
  const hash = createHash("sha256");
  const files: string[] = [];
  const read = (field: string, path: string): string => {
    const text = readPem(field, path);
    files.push(path);
    hash.update(path).update("\0").update(text).update("\0");
    return text;
  };
  const caPem = config.client_ca !== undefined ? read(`${where}.client_ca`, config.client_ca) : undefined;
  if (caPem !== undefined && config.client_ca !== undefined) checkedBundle(`${where}.client_ca`, config.client_ca, caPem, now);
  const auth = clientAuthOptions(config.client_auth, caPem);
  const certificates = new Map<string, CertificateInfo>();
  const pair = (field: string, certPath: string, keyPath: string, name: string): { cert: string; key: string } => {
    const cert = read(`${field}.cert`, certPath);
    const leaf = checkedLeaf(`${field}.cert`, certPath, cert, now);
    const key = read(`${field}.key`, keyPath);
    checkedKey(`${field}.key`, keyPath, key, leaf, `${field}.cert`);
    certificates.set(name, describe(leaf));
    return { cert, key };
  };
  const tls: TLSOptions = { ...pair(where, config.cert, config.key, "default"), ...auth };
  const serverNames = config.sni.map((e, i) => ({ serverName: e.server_name, tls: { ...pair(`${where}.sni[${i}]`, e.cert, e.key, e.server_name), ...auth } }));
  return Object.freeze({
    tls,
    serverNames,
    clientAuth: config.client_auth,
    files: [...new Set(files)],
    certificates,
    digest: hash.digest("hex"),
    watchInterval: config.watch_interval,
  });
}

export interface UpstreamTlsSettings {
  /** Bun's client TLS options (serverName unset means the endpoint's host). */
  readonly options: TLSOptions;
  /** Distinguishes pools to one origin with different TLS settings (a hash: no key material). */
  readonly key: string;
  readonly insecure: boolean;
  readonly clientCertificate: CertificateInfo | undefined;
}

/**
 * Reads and checks an upstream's `tls:` (`where` is the field's path, e.g. "upstreams.orders.tls").
 * Verification stays on unless insecure_skip_verify; the caller logs that loudly.
 */
export function compileUpstreamTls(config: UpstreamTlsConfig, where: string, now = Date.now()): UpstreamTlsSettings {
  const hash = createHash("sha256");
  const options: TLSOptions = { rejectUnauthorized: !config.insecure_skip_verify };
  let clientCertificate: CertificateInfo | undefined;
  if (config.ca !== undefined) {
    const ca = readPem(`${where}.ca`, config.ca);
    checkedBundle(`${where}.ca`, config.ca, ca, now);
    options.ca = ca;
    hash.update("ca\0").update(ca);
  }
  if (config.cert !== undefined && config.key !== undefined) {
    const cert = readPem(`${where}.cert`, config.cert);
    const leaf = checkedLeaf(`${where}.cert`, config.cert, cert, now);
    const key = readPem(`${where}.key`, config.key);
    checkedKey(`${where}.key`, config.key, key, leaf, `${where}.cert`);
    options.cert = cert;
    options.key = key;
    clientCertificate = describe(leaf);
    hash.update("cert\0").update(cert).update("key\0").update(key);
  }
  if (config.server_name !== undefined) {
    options.serverName = config.server_name;
    hash.update("sni\0").update(config.server_name);
  }
  hash.update(config.insecure_skip_verify ? "insecure" : "verify");
  return Object.freeze({ options, key: hash.digest("hex").slice(0, 16), insecure: config.insecure_skip_verify, clientCertificate });
}
