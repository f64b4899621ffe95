/**
 * What validating a config with zod cannot see: the files it names and the
 * policies in them. Certificates and keys are read and checked, API-key
 * variables and files resolved, Rego policies compiled, rate limits
 * cross-checked — exactly as a data-plane process will, so `ficus validate`
 * and a supervisor's reload refuse a config that its workers could not run,
 * before any worker hears of it. Throws the part's coded error. Each part is
 * loaded only when the config uses it (a supervisor stays small).
 */
import type { LoadedConfig } from "../config/load.ts";
import { compileListenerTls, compileUpstreamTls } from "../tls/settings.ts";
import { configDir, partsUsed } from "./enforcement.ts";

export function preflight(loaded: LoadedConfig): void {
  const c = loaded.config;
  if (c.tls !== undefined) compileListenerTls(c.tls);
  for (const [name, u] of Object.entries(c.upstreams)) if (u.tls !== undefined) compileUpstreamTls(u.tls, `upstreams.${name}.tls`);
  for (const r of c.routes) {
    for (const field of ["upstream", "legacy", "candidate"] as const) {
      const u = r[field];
      if (u !== undefined && typeof u === "object" && !Array.isArray(u) && u.tls !== undefined) compileUpstreamTls(u.tls, `routes.${r.name}.${field}.tls`);
    }
  }
  const used = partsUsed(c);
  if (used.auth) (require("../auth/settings.ts") as typeof import("../auth/settings.ts")).compileAuthSettings(c);
  if (used.authz) {
    const authz = require("../authz/settings.ts") as typeof import("../authz/settings.ts");
    authz.compileAuthz(c.routes, { baseDir: configDir(loaded) });
    authz.compileDecisionLog(c.decision_log);
  }
  if (used.rateLimit) (require("../ratelimit/settings.ts") as typeof import("../ratelimit/settings.ts")).compileRateLimits(c);
}
