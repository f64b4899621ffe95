#!/usr/bin/env bun
/** Entry point of the `ficus` binary (and of `bun build --compile`). No top-level await: bytecode builds need none. */
import { run } from "./program.ts";

void run(process.argv);
