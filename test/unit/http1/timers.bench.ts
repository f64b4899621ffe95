/**
 * The timer wheel against setTimeout (run: npx bun test/unit/http1/timers.bench.ts):
 * arm+cancel, and reset of an armed idle timer, with 10 000 other timers armed.
 */
import { bench, do_not_optimize, run } from "mitata";
import { TimerWheel } from "../../../src/http1/timers.ts";

const wheel = new TimerWheel({ tickMs: 50 });
const noop = () => {};
const background = Array.from({ length: 10_000 }, (_, i) => wheel.arm(60_000 + i, noop));
const idle = wheel.arm(30_000, noop);

bench("wheel arm+cancel", () => wheel.arm(30_000, noop).cancel());
bench("wheel reset (idle timer, later deadline)", () => idle.reset());
bench("wheel reset (alternating earlier/later)", () => idle.reset(idle.ms === 30_000 ? 20_000 : 30_000));
bench("setTimeout+clearTimeout", () => clearTimeout(setTimeout(noop, 30_000)));
bench("timeout.refresh()", function* () {
  const t = setTimeout(noop, 30_000);
  yield () => do_not_optimize(t.refresh());
  clearTimeout(t);
});

await run({ colors: false });
wheel.clear();
do_not_optimize(background);
