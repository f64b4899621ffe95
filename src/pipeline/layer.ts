/**
 * A layer: one concern of the data plane over one exchange, modelled on
 * Tower layers and Envoy filters but cheaper — no promise or closure per
 * layer per request unless the layer itself waits for something.
 *
 * The pipeline runs each layer's `request` in order. A layer continues
 * (returns undefined), answers (returns a Reply: the layers after it do not
 * run), or waits (returns a promise of either). The last layer must answer.
 * Then `response` runs in reverse order, for the layers whose `request` ran,
 * before the reply is written (a layer may edit the reply's fields), and
 * `done` runs for every layer once the exchange has ended, in order,
 * whatever happened (access log, metrics, tracing, releasing what a layer
 * holds).
 */
import type { Exchange, Reply } from "./exchange.ts";

export interface Layer {
  /** For logs and docs: what the layer does, in a word or two ("request-id", "routing", "forward"). */
  readonly name: string;
  request?(ex: Exchange): Reply | undefined | Promise<Reply | undefined>;
  response?(ex: Exchange, reply: Reply): void;
  done?(ex: Exchange): void;
}
