/**
 * Sessions of 2025-era clients without shared state: the Mcp-Session-Id is
 * the session itself, sealed with AES-256-GCM under a key every replica
 * holds (mcp.session.key). Any replica opens it, so a client load-balanced
 * to another gateway keeps its session with no sticky balancer; nobody
 * without the key can read or forge one. It carries what the gateway needs
 * to serve the session: the negotiated version, the client's capabilities
 * (to know whether it can be asked for sampling, elicitation or roots), the
 * endpoint it was opened on, and who opened it (a session never changes
 * hands between identities).
 *
 * A DELETE ends a session: its id is kept in a revocation list until the id
 * would have expired anyway (every replica of one gateway hears of it; see
 * docs/mcp.md for fleets). Ids are URL-safe base64, visible ASCII as the
 * spec requires.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export interface SessionState {
  /** The protocol version negotiated at initialize. */
  readonly version: string;
  /** The route (endpoint) the session was opened on. */
  readonly endpoint: string;
  /** Who opened it: the authenticated subject, or "" on an endpoint without authentication. */
  readonly subject: string;
  /** Client capabilities that matter to a relay: s = sampling, e = elicitation, r = roots. */
  readonly caps: string;
  /** When it was opened, ms since the epoch. */
  readonly opened: number;
  /** A random id, unique per session (keys in-flight calls, revocations and logs). */
  readonly nonce: string;
}

const VERSION = 1;

export class SessionSeal {
  private readonly key: Buffer;

  constructor(
    key: string | Uint8Array,
    /** A session is refused this long after it was opened. */
    private readonly ttlMs: number,
    /** Ended sessions (nonce → when the id would have expired): kept by the gateway, so a reload's new seal refuses them too. */
    private readonly revoked: Map<string, number> = new Map(),
  ) {
    this.key = typeof key === "string" ? Buffer.from(key, "base64") : Buffer.from(key);
    if (this.key.length !== 32) throw new Error(`the session key must be 32 bytes, got ${this.key.length}`);
  }

  /** A new random key, base64 (a gateway without mcp.session.key makes one at start and gives it to its workers). */
  static newKey(): string {
    return randomBytes(32).toString("base64");
  }

  seal(state: Omit<SessionState, "nonce" | "opened">, now = Date.now()): { id: string; state: SessionState } {
    const full: SessionState = { ...state, opened: now, nonce: randomBytes(9).toString("base64url") };
    const plain = Buffer.from(JSON.stringify([VERSION, full.version, full.endpoint, full.subject, full.caps, full.opened, full.nonce]));
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([c.update(plain), c.final()]);
    const id = Buffer.concat([iv, c.getAuthTag(), body]).toString("base64url");
    return { id, state: full };
  }

  /** The session an id holds, or undefined when it is forged, garbled, expired or ended. */
  open(id: string, now = Date.now()): SessionState | undefined {
    if (id.length < 40 || id.length > 2048) return undefined;
    const raw = Buffer.from(id, "base64url");
    if (raw.length < 29) return undefined;
    try {
      const d = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12));
      d.setAuthTag(raw.subarray(12, 28));
      const plain = Buffer.concat([d.update(raw.subarray(28)), d.final()]);
      const a = JSON.parse(plain.toString("utf8")) as unknown[];
      if (!Array.isArray(a) || a[0] !== VERSION) return undefined;
      const s: SessionState = { version: String(a[1]), endpoint: String(a[2]), subject: String(a[3]), caps: String(a[4]), opened: Number(a[5]), nonce: String(a[6]) };
      if (!(now - s.opened < this.ttlMs) || this.revoked.has(s.nonce)) return undefined;
      return s;
    } catch {
      return undefined;
    }
  }

  /** Tells the gateway's other processes of an ended session (set by the gateway); resolves once they know. */
  onRevoke: ((nonce: string, expires: number) => Promise<void>) | undefined;

  /** Ends a session: its id is refused from now on (until it would have expired anyway), here and by the gateway's other workers. */
  async revoke(state: SessionState, now = Date.now()): Promise<void> {
    const expires = state.opened + this.ttlMs;
    this.revoked.set(state.nonce, expires);
    if (this.revoked.size % 256 === 0) this.sweep(now);
    await this.onRevoke?.(state.nonce, expires);
  }

  /** Revocations heard from another worker (nonce and expiry). */
  revokeNonce(nonce: string, expires: number): void {
    this.revoked.set(nonce, expires);
  }

  private sweep(now: number): void {
    for (const [n, exp] of this.revoked) if (exp <= now) this.revoked.delete(n);
  }
}
