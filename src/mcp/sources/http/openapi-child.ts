/**
 * Reading an OpenAPI document in a child process. Validating and
 * dereferencing a large document (thousands of operations) with
 * swagger-parser peaks at hundreds of megabytes, and a long-running process
 * keeps its peak: the gateway would carry that memory for its whole life,
 * in every worker. So the gateway runs itself once more as a converter
 * (`ficus __openapi`), hands it the location and the selection on stdin,
 * and reads back only the tools, as JSON. The parser's memory dies with the
 * child; the gateway never even loads the parser. Where the gateway cannot
 * run itself (Ficus used as a library), the conversion runs in-process.
 */
import { FicusError } from "../../../core/errors.ts";
import { OPENAPI_ARG, runningFicusEntry, selfCommand } from "../../../server/ipc.ts";
import type { OpenApiSelection, OpenApiTools } from "./openapi.ts";

interface ChildRequest {
  readonly location: string;
  readonly selection: OpenApiSelection;
  readonly baseDir: string;
}

type ChildAnswer = { readonly ok: OpenApiTools } | { readonly error: { readonly code: string; readonly message: string } };

/** The child's side: one request on stdin, one answer on stdout. */
export async function openApiChildMain(): Promise<void> {
  let answer: ChildAnswer;
  try {
    const req = JSON.parse(await Bun.stdin.text()) as ChildRequest;
    const { openApiTools } = await import("./openapi.ts");
    answer = { ok: await openApiTools(req.location, req.selection, req.baseDir) };
  } catch (err) {
    answer = { error: err instanceof FicusError ? { code: err.code, message: err.message } : { code: "FICUS_MCP_SOURCE_INVALID", message: err instanceof Error ? err.message : String(err) } };
  }
  await Bun.write(Bun.stdout, JSON.stringify(answer));
  process.exit(0);
}

/** The tools of an OpenAPI document, converted in a child process when Ficus can run itself, else in-process. */
export async function convertOpenApi(location: string, selection: OpenApiSelection, baseDir: string): Promise<OpenApiTools> {
  if (!runningFicusEntry()) {
    const { openApiTools } = await import("./openapi.ts");
    return openApiTools(location, selection, baseDir);
  }
  const child = Bun.spawn([...selfCommand(), OPENAPI_ARG], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  child.stdin.write(JSON.stringify({ location, selection, baseDir } satisfies ChildRequest));
  await child.stdin.end();
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  let answer: ChildAnswer;
  try {
    answer = JSON.parse(out) as ChildAnswer;
  } catch {
    throw new FicusError("FICUS_MCP_SOURCE_INVALID", `OpenAPI document ${location}: the converter process failed (exit ${code}): ${err.trim().split("\n").slice(-3).join(" ") || "no output"}`);
  }
  if ("error" in answer) throw new FicusError(answer.error.code as "FICUS_MCP_SOURCE_INVALID", answer.error.message);
  return answer.ok;
}
