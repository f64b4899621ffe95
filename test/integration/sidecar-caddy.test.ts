/**
 * examples/sidecar/Caddyfile with a real Caddy (forward_auth) in front of a
 * real upstream, Ficus in sidecar mode deciding (front: caddy): allowed (the
 * identity reaches the upstream), 401, 403 and 429, each passed to the
 * client as Ficus answered it.
 */
import { describe } from "bun:test";
import { hasTool } from "../helpers/tools.ts";
import { CADDY, startCaddy } from "../unit/sidecar/fronts.ts";
import { frontScenarios } from "../unit/sidecar/scenarios.ts";

describe.skipIf(!hasTool(CADDY, "the sidecar's Caddy example test"))("Caddy forward_auth with examples/sidecar/Caddyfile", () => {
  frontScenarios({ front: "caddy" }, startCaddy, { jsonDenials: "full" });
});
