/**
 * The enforcement layers of one data-plane process — authentication,
 * authorization (with its decision log) and rate limiting — loaded only when
 * the config uses them. A gateway that only proxies never loads jose, the
 * Rego engine or the Redis client: its start time and memory stay those of
 * the proxy (docs/architecture.md, "What the data-plane process loads").
 *
 * Each part sits in the pipeline as a slot, a layer that passes the exchange
 * to the part once one is loaded and does nothing before. A reload that
 * starts using a part loads it then (synchronously: Bun's require), and a
 * part once loaded stays, updated in place by every reload (its caches,
 * counts and connections carry over). Everything is compiled before
 * anything is swapped, so a bad policy or key file fails the whole reload.
 */
import { dirname } from "node:path";
import type { AuthLayer } from "../auth/layer.ts";
import type { AuthSettings } from "../auth/settings.ts";
import type { DecisionLog } from "../authz/decision-log.ts";
import type { AuthzLayer } from "../authz/layer.ts";
import type { AuthzSettings, DecisionLogSettings } from "../authz/settings.ts";
import type { LoadedConfig } from "../config/load.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Exchange, Reply } from "../pipeline/exchange.ts";
import type { Layer } from "../pipeline/layer.ts";
import type { RateLimitLayer } from "../ratelimit/layer.ts";
import type { RateLimitSettings } from "../ratelimit/settings.ts";

type Config = LoadedConfig["config"];

/** A place in the pipeline for a part that may not be loaded: a pass-through until it is. */
export class LayerSlot<L extends Layer> implements Layer {
  inner: L | undefined;

  constructor(readonly name: string) {}

  request(ex: Exchange): Reply | undefined | Promise<Reply | undefined> {
    return this.inner?.request?.(ex);
  }

  response(ex: Exchange, reply: Reply): void {
    this.inner?.response?.(ex, reply);
  }

  done(ex: Exchange): void {
    this.inner?.done?.(ex);
  }
}

/** Which parts a config uses (sidecar mode uses them all: deciding is all it does). */
export function partsUsed(c: Config): { auth: boolean; authz: boolean; rateLimit: boolean } {
  const all = c.mode === "sidecar";
  return {
    auth: all || Object.keys(c.auth_policies).length > 0 || c.routes.some((r) => r.auth !== undefined),
    authz: all || c.routes.some((r) => r.authz !== undefined),
    rateLimit: all || c.routes.some((r) => (r.rate_limit?.limits.length ?? 0) > 0 || r.concurrency > 0 || r.max_response_body > 0),
  };
}

/** Where relative policy and data paths are read from: the config file's folder. */
export function configDir(loaded: LoadedConfig): string {
  return loaded.source.includes("/") ? dirname(loaded.source) : process.cwd();
}

interface Compiled {
  auth?: AuthSettings;
  authz?: AuthzSettings;
  decisionLog?: DecisionLogSettings;
  rateLimits?: RateLimitSettings;
}

export class Enforcement {
  readonly auth = new LayerSlot<AuthLayer>("auth");
  readonly authz = new LayerSlot<AuthzLayer>("authz");
  readonly rateLimit = new LayerSlot<RateLimitLayer>("rate-limit");
  private decisionLog: DecisionLog | undefined;

  constructor(
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  /**
   * Applies a config: compiles every part it uses (or that is already loaded),
   * then swaps them in. Throws (a ConfigError with FICUS_* codes) before
   * changing anything when a file or a policy is bad.
   */
  configure(loaded: LoadedConfig): void {
    const c = loaded.config;
    const used = partsUsed(c);
    const next: Compiled = {};
    if (used.auth || this.auth.inner !== undefined) next.auth = (require("../auth/settings.ts") as typeof import("../auth/settings.ts")).compileAuthSettings(c);
    if (used.authz || this.authz.inner !== undefined) {
      const authz = require("../authz/settings.ts") as typeof import("../authz/settings.ts");
      // On MCP routes, a 403 for missing scopes also names where the resource's metadata is (MCP authorization, RFC 9728).
      const resourceMetadata = c.routes.some((r) => r.mcp !== undefined) ? (require("../mcp/governance/oauth/resources.ts") as typeof import("../mcp/governance/oauth/resources.ts")).resourceMetadataUrls(c) : undefined;
      next.authz = authz.compileAuthz(c.routes, { baseDir: configDir(loaded), resourceMetadata });
      next.decisionLog = authz.compileDecisionLog(c.decision_log);
    }
    if (used.rateLimit || this.rateLimit.inner !== undefined) next.rateLimits = (require("../ratelimit/settings.ts") as typeof import("../ratelimit/settings.ts")).compileRateLimits(c);
    this.swap(next);
  }

  private swap(next: Compiled): void {
    if (next.auth !== undefined) {
      if (this.auth.inner === undefined) {
        const { AuthLayer } = require("../auth/layer.ts") as typeof import("../auth/layer.ts");
        this.auth.inner = new AuthLayer(next.auth, { metrics: this.metrics, logger: this.logger });
      } else this.auth.inner.replace(next.auth);
    }
    if (next.authz !== undefined && next.decisionLog !== undefined) {
      if (this.authz.inner === undefined) {
        const { AuthzLayer } = require("../authz/layer.ts") as typeof import("../authz/layer.ts");
        const { DecisionLog } = require("../authz/decision-log.ts") as typeof import("../authz/decision-log.ts");
        const { authzMetrics } = require("../authz/metrics.ts") as typeof import("../authz/metrics.ts");
        const am = authzMetrics(this.metrics);
        this.decisionLog = new DecisionLog(next.decisionLog, { onDrop: () => am.logDropped.inc() });
        this.authz.inner = new AuthzLayer(next.authz, { metrics: am, log: this.decisionLog, logger: this.logger });
      } else {
        this.decisionLog?.reconfigure(next.decisionLog);
        this.authz.inner.replace(next.authz);
      }
    }
    if (next.rateLimits !== undefined) {
      if (this.rateLimit.inner === undefined) {
        const { RateLimitLayer } = require("../ratelimit/layer.ts") as typeof import("../ratelimit/layer.ts");
        const { RateLimitMetrics } = require("../ratelimit/metrics.ts") as typeof import("../ratelimit/metrics.ts");
        this.rateLimit.inner = new RateLimitLayer(next.rateLimits, { metrics: new RateLimitMetrics(this.metrics), logger: this.logger });
      } else this.rateLimit.inner.replace(next.rateLimits);
    }
  }

  /** Fetches signing keys ahead of the first request (never throws: a provider that is down is retried on demand). */
  async warm(): Promise<void> {
    await this.auth.inner?.warm().catch((err: unknown) => this.logger.warn("could not fetch signing keys at start; retried when a token needs them", { error: err instanceof Error ? err.message : String(err) }));
  }

  close(): void {
    this.decisionLog?.close();
    this.rateLimit.inner?.close();
  }
}
