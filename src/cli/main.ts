#!/usr/bin/env bun
/**
 * Entry point of the `ficus` binary (and of `bun build --compile`). No top-level await: bytecode builds need none.
 * A worker process (the supervisor runs this same file or binary with WORKER_ARG) goes straight to the data plane:
 * the CLI program (commander, the commands, the config schema, zod, yaml) is never loaded there.
 */
import { WORKER_ARG } from "../server/ipc.ts";

if (process.argv[2] === WORKER_ARG) void import("../server/worker.ts").then((w) => w.workerMain());
else void import("./program.ts").then((p) => p.run(process.argv));
