/**
 * Writes the CustomResourceDefinitions of ToolSet and Tool (deploy/crds/)
 * from the zod schemas (src/mcp/k8s/crd.ts). Run: bun scripts/gen-crds.ts
 * (a test fails when the committed files are stale).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crdManifests } from "../src/mcp/k8s/crd.ts";

const dir = join(import.meta.dir, "../deploy/crds");
mkdirSync(dir, { recursive: true });
for (const [name, text] of Object.entries(crdManifests())) {
  writeFileSync(join(dir, name), text);
  console.log(`wrote deploy/crds/${name}`);
}
