/**
 * The per-request canary decision (run: bun bench/canary.bench.ts): sticky by
 * header, by cookie, by client address, and without a key.
 */
import { bench, do_not_optimize, run } from "mitata";
import { assign, type CanarySettings } from "../src/migration/canary.ts";

const byHeader: CanarySettings = { percent: 10, header: "x-user-id", fallback: "ip", salt: "" };
const byCookie: CanarySettings = { percent: 10, cookie: "uid", fallback: "ip", salt: "" };
const noKey: CanarySettings = { percent: 10, fallback: "none", salt: "" };
const state = { acc: 0 };
const users = Array.from({ length: 1024 }, (_, i) => new Headers({ "x-user-id": `user-${i}`, cookie: `theme=dark; uid=u${i}; lang=en`, accept: "application/json" }));
const anonymous = new Headers({ accept: "application/json" });
let i = 0;

bench("sticky by header", () => do_not_optimize(assign(byHeader, state, users[i++ & 1023] as Headers, "10.0.0.1")));
bench("sticky by cookie", () => do_not_optimize(assign(byCookie, state, users[i++ & 1023] as Headers, "10.0.0.1")));
bench("client address fallback", () => do_not_optimize(assign(byHeader, state, anonymous, `10.0.${(i++ >> 8) & 255}.${i & 255}`)));
bench("no key (per request)", () => do_not_optimize(assign(noKey, state, anonymous, "")));

await run({ colors: false });
