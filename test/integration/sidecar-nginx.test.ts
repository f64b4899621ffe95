/**
 * examples/sidecar/nginx.conf with a real nginx (auth_request) in front of a
 * real upstream, Ficus in sidecar mode deciding (front: nginx): allowed (the
 * identity reaches the upstream), 401, 403, and 429 through the error_page
 * mapping (auth_request itself knows only 2xx, 401 and 403).
 */
import { describe } from "bun:test";
import { hasTool } from "../helpers/tools.ts";
import { NGINX, startNginx } from "../unit/sidecar/fronts.ts";
import { frontScenarios } from "../unit/sidecar/scenarios.ts";

describe.skipIf(!hasTool(NGINX, "the sidecar's nginx example test"))("nginx auth_request with examples/sidecar/nginx.conf", () => {
  frontScenarios({ front: "nginx" }, startNginx, { jsonDenials: "code-only" });
});
