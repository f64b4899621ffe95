/**
 * What a reload would change, and whether it may: the routes a new config
 * adds, removes and changes, and the guard against a reload that removes too
 * many of them (a half-written file, a bad merge, the wrong file). A refused
 * reload keeps the running config; `force` takes it anyway.
 */
import type { FicusConfig } from "./schema.ts";

export interface RouteChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

/** Routes by name: added, removed, and those whose settings differ. */
export function diffRoutes(current: FicusConfig, next: FicusConfig): RouteChanges {
  const before = new Map(current.routes.map((r) => [r.name, JSON.stringify(r)]));
  const after = new Map(next.routes.map((r) => [r.name, JSON.stringify(r)]));
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  for (const [name, json] of after) {
    const old = before.get(name);
    if (old === undefined) added.push(name);
    else if (old !== json) changed.push(name);
  }
  for (const name of before.keys()) if (!after.has(name)) removed.push(name);
  return { added, removed, changed };
}

/**
 * Why the reload is refused, or undefined when it may go ahead. Judged by the
 * running config's `reload.max_removed_routes` (not the new file's: a file
 * being written cannot vouch for itself).
 */
export function reloadRefusal(current: FicusConfig, next: FicusConfig, changes: RouteChanges): string | undefined {
  const had = current.routes.length;
  if (had === 0 || changes.removed.length === 0) return undefined;
  if (next.routes.length === 0) {
    return `the new config has no routes and would remove all ${had} (${list(changes.removed)}); a file caught half-written looks like this. Reload with force to apply it`;
  }
  const share = changes.removed.length / had;
  const max = current.reload.max_removed_routes;
  if (share > max) {
    return `the new config removes ${changes.removed.length} of ${had} routes (${list(changes.removed)}), more than reload.max_removed_routes (${Math.round(max * 100)}%). Reload with force to apply it`;
  }
  return undefined;
}

function list(names: readonly string[]): string {
  return names.length <= 10 ? names.join(", ") : `${names.slice(0, 10).join(", ")} and ${names.length - 10} more`;
}
