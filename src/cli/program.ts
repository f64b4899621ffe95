/**
 * The `ficus` command line. Each command lives in commands/; this file only
 * declares them. Exit codes: 0 success, 1 failure (invalid config, cannot
 * start), 2 usage error.
 */
import { Command, CommanderError, Option } from "commander";
import { VERSION } from "../core/version.ts";
import { reportError } from "./output.ts";

export function buildProgram(): Command {
  const program = new Command("ficus")
    .description("Ficus: an API gateway for replacing a service safely, endpoint by endpoint.")
    .version(VERSION, "-V, --version")
    .showHelpAfterError()
    .exitOverride();

  program
    .command("start")
    .description("run the gateway (proxy, sidecar or edge-mcp mode)")
    .option("-c, --config <file>", "configuration file (ficus.yaml)")
    .option("--legacy <url>", "zero-config: proxy every path to this upstream")
    .option("--upstream <url>", "alias of --legacy")
    .option("--candidate <url>", "zero-config: the new implementation")
    .option("--stage <stage>", "zero-config: legacy, shadow (mirror to the candidate and compare), canary (the candidate serves --percent) or candidate")
    .option("--percent <n>", "zero-config canary: share of requests the candidate serves (0-100)")
    .option("--sticky-header <name>", "zero-config canary: request header keeping a client on one side")
    .option("--sample <fraction>", "zero-config: share of requests mirrored to the other side and compared (default 1)")
    .option("--store <path>", "zero-config: SQLite file for shadow results (default .ficus/results.db)")
    .option("--listen <host:port>", "data-plane address (default 0.0.0.0:8080)")
    .option("--admin <host:port>", "admin API address (default 127.0.0.1:9901)")
    .option("--workers <n>", "worker processes sharing the port (default: number of CPUs)")
    .option("--mode <mode>", "proxy (default); sidecar: answer allow/deny for another gateway (nginx auth_request, Caddy forward_auth, Traefik forwardAuth, Envoy ext_authz) instead of forwarding; edge-mcp: serve MCP tools to AI agents at /mcp")
    .option("--openapi <file|url>", "edge-mcp: the operations of this OpenAPI document as tools (their calls go to --upstream)")
    .option("--mcp <url>", "edge-mcp: federate this MCP server (Streamable HTTP); repeatable", (v: string, all: string[] = []) => [...all, v])
    .option("--stdio <command>", "edge-mcp: spawn and federate this MCP server over stdio, e.g. 'npx my-server --flag'; repeatable", (v: string, all: string[] = []) => [...all, v])
    .option("--issuer <url>", "zero-config: require a JWT from this OpenID issuer (keys by discovery)")
    .option("--jwks <url>", "zero-config: require a JWT signed by a key of this JWK Set")
    .option("--audience <aud>", "zero-config: the JWT's accepted audience")
    .option("--policy <file.rego>", "zero-config: authorize each request with this Rego module (with --query)")
    .option("--query <ref>", "zero-config: the policy's decision, e.g. data.http.allow")
    .option("--rate-limit <rate>", "zero-config: limit each client address, e.g. 100/s or 1000/m")
    .addOption(new Option("--log-level <level>", "application log level").choices(["debug", "info", "warn", "error"]))
    .action(async (o) => {
      const { startCommand } = await import("./commands/start.ts");
      await startCommand(o);
    });

  program
    .command("validate")
    .description("check a configuration file; exit 0 when valid, 1 with every problem otherwise")
    .requiredOption("-c, --config <file>", "configuration file")
    .action(async (o: { config: string }) => {
      const { validateCommand } = await import("./commands/validate.ts");
      process.exitCode = validateCommand(o.config);
    });

  for (const action of ["promote", "pause", "resume"] as const) {
    const what = { promote: "move a route to its next stage or canary step", pause: "hold a route against promotion", resume: "release a held route" }[action];
    program
      .command(`${action} <route>`)
      .description(`${what} (through the admin API; every gateway obeys within a second)`)
      .option("--admin <url>", "admin API of a gateway", "http://127.0.0.1:9901")
      .option("--reason <text>", "recorded in the audit trail")
      .action(async (route: string, o: { admin: string; reason?: string }) => {
        const { controlCommand } = await import("./commands/control.ts");
        process.exitCode = await controlCommand(action, route, o);
      });
  }
  program
    .command("rollback [route]")
    .description("send a route back to its rollback stage and hold it; --all: every route to legacy (the kill switch)")
    .option("--all", "every route with a candidate")
    .option("--admin <url>", "admin API of a gateway", "http://127.0.0.1:9901")
    .option("--reason <text>", "recorded in the audit trail")
    .action(async (route: string | undefined, o: { admin: string; reason?: string; all?: boolean }) => {
      const { controlCommand } = await import("./commands/control.ts");
      process.exitCode = await controlCommand("rollback", route, o);
    });
  program
    .command("reload")
    .description("re-read the gateway's config file (as SIGHUP); prints the routes added, removed and changed")
    .option("--force", "apply even a config that removes every route or more than reload.max_removed_routes of them")
    .option("--admin <url>", "admin API of a gateway", "http://127.0.0.1:9901")
    .option("--json", "print JSON")
    .action(async (o: { admin: string; force?: boolean; json?: boolean }) => {
      const { reloadCommand } = await import("./commands/reload.ts");
      process.exitCode = await reloadCommand(o);
    });
  program
    .command("events [route]")
    .description("the audit trail of migration transitions (oldest first)")
    .option("--admin <url>", "admin API of a gateway", "http://127.0.0.1:9901")
    .option("--json", "print JSON")
    .option("--limit <n>", "how many events (default 200)")
    .action(async (route: string | undefined, o: { admin: string; json?: boolean; limit?: string }) => {
      const { eventsCommand } = await import("./commands/control.ts");
      process.exitCode = await eventsCommand(route, o);
    });

  program
    .command("compare")
    .description("compare two saved responses (JSON documents or `curl -i` output); exit 0 equal, 1 different, 2 error")
    .argument("<legacy>", "the legacy response file")
    .argument("<candidate>", "the candidate response file")
    .option("--rules <file>", "compare rules (YAML or JSON; the keys of a route's compare block)")
    .option("--json", "print the verdict as JSON")
    .action(async (legacy: string, candidate: string, o: { rules?: string; json?: boolean }) => {
      const { compareCommand } = await import("./commands/compare.ts");
      process.exitCode = compareCommand(legacy, candidate, o);
    });

  program
    .command("report")
    .description("print the migration report of a running gateway (per route: stage, comparisons, latency, mismatch signatures)")
    .option("--admin <url>", "admin API of the gateway", "http://127.0.0.1:9901")
    .option("--json", "print the report as JSON")
    .action(async (o: { admin: string; json?: boolean }) => {
      const { reportCommand } = await import("./commands/report.ts");
      process.exitCode = await reportCommand(o);
    });

  const collect = (v: string, acc: string[]) => [...acc, v];
  const record = program.command("record").description("record live traffic of a route to Ficus JSON Lines (for ficus replay)");
  for (const action of ["start", "stop", "status"] as const) {
    const what = { start: "start recording a route", stop: "stop recording (one route, or all)", status: "show the recordings of the gateway" }[action];
    const cmd = record.command(action).description(what).option("--admin <url>", "admin API of the gateway", "http://127.0.0.1:9901").option("--json", "print the result as JSON");
    if (action !== "status") cmd.option("--route <name>", action === "start" ? "the route to record" : "the route to stop (default: all)");
    if (action === "start") {
      cmd
        .option("--sample <fraction>", "share of the route's requests recorded", "1")
        .option("--max <n>", "exchanges to record, then stop", "10000")
        .option("--out <dir>", "folder for the files (default: record.dir of the gateway)")
        .option("--gzip", "write gzip files");
    }
    cmd.action(async (o: { admin: string; route?: string; sample: string; max: string; out?: string; gzip?: boolean; json?: boolean }) => {
      const { recordCommand } = await import("./commands/record.ts");
      process.exitCode = await recordCommand(action, o);
    });
  }

  program
    .command("replay")
    .description("replay recorded traffic against legacy and candidate (or one target against the recording), compare, and report; exit 1 over --fail-on-mismatch-rate, 2 on bad input")
    .argument("<files...>", "recordings: Ficus JSON Lines (.jsonl, .gz), HAR 1.2 (.har) or GoReplay (.gor)")
    .option("--legacy <url>", "the existing service")
    .option("--candidate <url>", "the new implementation")
    .option("--target <url>", "compare this service with the recorded responses (no live legacy)")
    .option("-c, --config <file>", "ficus.yaml: route names, matching and compare rules")
    .option("--rules <file>", "compare rules for every request (instead of the config's)")
    .option("--concurrency <n>", "exchanges in flight", "32")
    .option("--rate <n>", "requests per second, evenly paced")
    .option("--speed <x>", "follow the recorded timing, x times faster")
    .option("--filter <expr>", "FIELD OP VALUE, e.g. method=GET or path^=/api (repeatable; all must hold)", collect, [])
    .option("--aa <fraction>", "share of safe requests sent to legacy twice, to learn noise", "0")
    .option("--out <dir>", "where report.html and report.json are written", "ficus-replay")
    .option("--fail-on-mismatch-rate <p>", "exit 1 when (mismatched + candidate failures) / compared is over this (0.01 or 1%)")
    .option("--min-severity <level>", "least severity of a mismatch counted by the rate: low, medium or high (docs/canary.md)", "medium")
    .option("--allow-unsafe", "also replay POST, PUT, PATCH and DELETE")
    .option("--header <header>", "'Name: value' set on every request, replacing the recorded one (repeatable)", collect, [])
    .option("--host <host>", "Host header to send instead of the target's")
    .option("--timeout <ms>", "time allowed for each answer", "10000")
    .option("--samples <n>", "sample pairs kept per mismatch signature", "5")
    .action(async (files: string[], o: import("./commands/replay.ts").ReplayCliOptions) => {
      const { replayCommand } = await import("./commands/replay.ts");
      process.exitCode = await replayCommand(files, o);
    });

  const policy = program.command("policy").description("the embedded Rego (OPA) policy engine: evaluate, test and check policies, run OPA's conformance cases (docs/policy.md)");
  policy
    .command("eval")
    .description("evaluate a query, as `opa eval`: prints {\"result\": [...]}, or {} when undefined; exit 1 on an error")
    .argument("<query>", "a ref (data.authz.allow) or a query ('x := data.roles[_]')")
    .option("-d, --data <path>", ".rego, .json or .yaml file, or a directory of them (repeatable)", collect, [])
    .option("-i, --input <file>", "the input document (JSON or YAML)")
    .option("--strict", "a built-in's error is an error, not undefined (OPA's --strict-builtin-errors)")
    .option("--strict-builtin-errors", "alias of --strict")
    .addOption(new Option("-f, --format <format>", "output format").choices(["json", "pretty"]).default("json"))
    .action(async (query: string, o: import("./commands/policy.ts").EvalCliOptions) => {
      const { policyEvalCommand } = await import("./commands/policy.ts");
      process.exitCode = await policyEvalCommand(query, o);
    });
  policy
    .command("test")
    .description("run every rule named test_* (as `opa test`); exit 1 when one fails or errs")
    .argument("<paths...>", ".rego and data files, or directories of them")
    .option("-v, --verbose", "every test's result, and its print() output")
    .option("-r, --run <regex>", "only the tests whose name (data.pkg.test_x) matches")
    .action(async (paths: string[], o: { verbose?: boolean; run?: string }) => {
      const { policyTestCommand } = await import("./commands/policy.ts");
      process.exitCode = await policyTestCommand(paths, o);
    });
  policy
    .command("check")
    .description("parse and compile .rego files; prints each error as file:line:col: message, exit 1 on errors")
    .argument("<paths...>", ".rego files or directories of them")
    .action(async (paths: string[]) => {
      const { policyCheckCommand } = await import("./commands/policy.ts");
      process.exitCode = await policyCheckCommand(paths);
    });
  policy
    .command("conformance")
    .description("run OPA's YAML conformance cases found under the folders; exit 1 when one fails")
    .argument("<dirs...>", "folders of OPA test-case files (searched recursively)")
    .option("--json", "per-file and per-case results as JSON")
    .action(async (dirs: string[], o: { json?: boolean }) => {
      const { policyConformanceCommand } = await import("./commands/policy.ts");
      process.exitCode = await policyConformanceCommand(dirs, o);
    });

  // edge-mcp tool-definition pinning (src/mcp/pinning/, docs/mcp.md).
  const mcp = program.command("mcp").description("edge-mcp: tool definitions waiting for approval (rug-pull defence), failed tool calls, the audit log");
  mcp
    .command("pins")
    .description("the tool definitions waiting for approval, with what changed")
    .option("--admin <url>", "admin API of the gateway", "http://127.0.0.1:9901")
    .option("--json", "print JSON")
    .action(async (o: { admin: string; json?: boolean }) => {
      const { mcpPinsCommand } = await import("./commands/mcp.ts");
      process.exitCode = await mcpPinsCommand(o);
    });
  mcp
    .command("approve")
    .description("approve pending tool definitions (agents see them within a second); exit 1 when none matched")
    .option("--source <name>", "the source's pending changes")
    .option("--tool <name>", "the tool's pending change (its name at the source)")
    .option("--all", "every pending change")
    .option("--admin <url>", "admin API of the gateway", "http://127.0.0.1:9901")
    .action(async (o: { admin: string; source?: string; tool?: string; all?: boolean }) => {
      const { mcpApproveCommand } = await import("./commands/mcp.ts");
      process.exitCode = await mcpApproveCommand(o);
    });
  // edge-mcp governance: error snapshots and the audit log (src/mcp/governance/, docs/mcp.md).
  mcp
    .command("errors")
    .description("failed tool calls kept as snapshots, grouped by signature (count, first and last seen, an example id)")
    .option("--tool <name>", "only this tool (its public name)")
    .option("--limit <n>", "at most this many groups (default 100)")
    .option("--admin <url>", "admin API of the gateway", "http://127.0.0.1:9901")
    .option("--json", "print JSON")
    .action(async (o: { admin: string; tool?: string; limit?: string; json?: boolean }) => {
      const { mcpErrorsCommand } = await import("./commands/mcp.ts");
      process.exitCode = await mcpErrorsCommand(o);
    });
  mcp
    .command("replay")
    .description("make a snapshot's failed call again (its arguments as stored, secrets redacted); exit 0 when it now succeeds, 1 when it still fails")
    .argument("<id>", "the snapshot's id (ficus mcp errors)")
    .option("--against <url>", "an MCP endpoint to call instead of the snapshot's source (a fixed upstream, a gateway)")
    .option("--tool-name <name>", "the tool's name there (default: its name at the source, or its public name when the endpoint lists only that)")
    .option("--timeout <duration>", "longest the call may take", "60s")
    .option("--admin <url>", "admin API of the gateway", "http://127.0.0.1:9901")
    .option("--json", "print JSON")
    .action(async (id: string, o: { admin: string; against?: string; toolName?: string; timeout?: string; json?: boolean }) => {
      const { mcpReplayCommand } = await import("./commands/mcp.ts");
      process.exitCode = await mcpReplayCommand(id, o);
    });
  mcp
    .command("audit")
    .description("read an MCP audit log (mcp.audit) with filters: a table, or the matching JSON lines")
    .option("--file <path>", "the audit file (default: the config's mcp.audit.output)")
    .option("-c, --config <file>", "ficus.yaml, to find the audit file")
    .option("--tool <name>", "only calls of this tool (its public name)")
    .option("--principal <subject>", 'only calls by this subject ("" for anonymous)')
    .option("--since <duration|time>", "only calls this recent (10m, 2h) or since this ISO time")
    .option("--result <result>", "only calls that ended so: ok, tool_error, error, answered (any guard) or answered:<guard>")
    .option("--json", "print the matching lines as JSON lines")
    .action(async (o: { file?: string; config?: string; tool?: string; principal?: string; since?: string; result?: string; json?: boolean }) => {
      const { mcpAuditCommand } = await import("./commands/mcp.ts");
      process.exitCode = mcpAuditCommand(o);
    });

  program
    .command("schema")
    .description("print the JSON Schema of ficus.yaml (for editors)")
    .action(async () => {
      const { configJsonSchema } = await import("../config/schema.ts");
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });

  return program;
}

/** Runs the CLI; resolves with the exit code for failures, or leaves the process running (start). */
export async function run(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    process.exitCode = reportError(err);
  }
}
