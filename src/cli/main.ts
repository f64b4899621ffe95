#!/usr/bin/env bun
/**
 * Entry point of the `ficus` binary (and of `bun build --compile`). No top-level await: bytecode builds need none.
 * A worker process (the supervisor runs this same file or binary with WORKER_ARG) goes straight to the data plane:
 * the CLI program (commander, the commands, the config schema, zod, yaml) is never loaded there.
 */
import { OPENAPI_ARG, WORKER_ARG } from "../server/ipc.ts";

if (process.argv[2] === WORKER_ARG) void import("../server/worker.ts").then((w) => w.workerMain());
else if (process.argv[2] === OPENAPI_ARG) void import("../mcp/sources/http/openapi-child.ts").then((c) => c.openApiChildMain());
else void import("./program.ts").then((p) => p.run(process.argv));
