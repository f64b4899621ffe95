#!/usr/bin/env bun
/** Entry point of the `ficus` binary (and of `bun build --compile`). */
import { run } from "./program.ts";

await run(process.argv);
