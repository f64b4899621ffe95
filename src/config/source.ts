/**
 * Where the running gateway's config comes from: a file (re-read on reload,
 * watched for changes) or an inline document built from command-line flags
 * (zero-config mode), plus command-line overrides applied to either before
 * validation, so flags and file are validated together.
 */
import { type FSWatcher, statSync, watch } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { yamlFiles } from "../mcp/k8s/documents.ts";
import { type LoadedConfig, parseConfig, readConfigText } from "./load.ts";

export interface Overrides {
  readonly listen?: string | undefined;
  readonly admin?: string | undefined;
  readonly workers?: number | undefined;
  readonly logLevel?: string | undefined;
}

export class ConfigSource {
  readonly path: string | undefined;
  private readonly inline: string | undefined;
  readonly overrides: Overrides;

  private constructor(path: string | undefined, inline: string | undefined, overrides: Overrides) {
    this.path = path === undefined ? undefined : resolve(path);
    this.inline = inline;
    this.overrides = overrides;
  }

  static file(path: string, overrides: Overrides = {}): ConfigSource {
    return new ConfigSource(path, undefined, overrides);
  }

  static inline(doc: unknown, overrides: Overrides = {}): ConfigSource {
    return new ConfigSource(undefined, JSON.stringify(doc), overrides);
  }

  /** Files are YAML; documents built from flags are JSON. */
  get format(): "yaml" | "json" {
    return this.path === undefined ? "json" : "yaml";
  }

  get label(): string {
    return this.path ?? "(command line)";
  }

  read(): string {
    return this.path !== undefined ? readConfigText(this.path) : (this.inline as string);
  }

  /** The folders of mcp.tool_directories in the config last loaded (absolute): watched with the file. */
  private toolFolders: readonly string[] = [];

  /** Reads (unless text is given) and validates. Throws ConfigError/FicusError. */
  load(text: string = this.read(), env: Record<string, string | undefined> = process.env): LoadedConfig {
    const loaded = loadWithOverrides(text, this.label, this.overrides, env, this.format);
    this.toolFolders = loaded.toolFolders ?? [];
    return loaded;
  }

  /**
   * Calls onChange when the file has changed and then stayed the same (size,
   * modification time and inode) for `settleMs()`, so a file being written —
   * truncated by an editor, copied in slowly — is read once it is whole.
   * Watches the directory, because editors and Kubernetes ConfigMaps replace
   * files by renaming; and checks the file's state every `pollMs` as well, so
   * a change the directory watch cannot see (a symlink into another folder
   * re-pointed or edited there, a network file system) is still applied.
   * The folders of mcp.tool_directories (as the config last loaded names
   * them) are watched the same way: their YAML files' states and texts count
   * as part of the file's, so a document added, edited, removed, or a
   * ConfigMap's `..data` symlink swapped reloads like an edit of the file.
   */
  watch(onChange: () => void, settleMs: () => number = () => 200, pollMs = 1000): () => void {
    if (this.path === undefined) return () => {};
    const path = this.path;
    const name = basename(path);
    const state = () => fileState(path) + foldersState(this.toolFolders);
    const text = () => {
      const t = safeRead(path);
      return t === undefined ? undefined : t + foldersText(this.toolFolders);
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last = text();
    let seen = state();
    /** The state last read (or found unchanged): the poll compares against it. */
    let settled = seen;
    const check = () => {
      timer = undefined;
      const now = state();
      if (now !== seen) {
        // Still changing: look again once it has been quiet for a whole settle period.
        seen = now;
        timer = setTimeout(check, settleMs());
        return;
      }
      settled = now;
      const t = text();
      if (t === last) return;
      last = t;
      onChange();
    };
    const changed = () => {
      if (timer !== undefined) return; // a check is pending; it compares against the state it saw
      seen = state();
      timer = setTimeout(check, settleMs());
    };
    const w = watch(dirname(path), (_event, file) => {
      if (file !== null && file !== name && file !== "..data") return;
      changed();
    });
    // One watcher per tool folder, following the folders the config names after each reload.
    const folderWatchers = new Map<string, FSWatcher>();
    let watchedKey = "";
    const syncFolders = () => {
      const key = this.toolFolders.join("\0");
      if (key === watchedKey) return false;
      watchedKey = key;
      for (const [folder, fw] of folderWatchers) {
        if (this.toolFolders.includes(folder)) continue;
        fw.close();
        folderWatchers.delete(folder);
      }
      for (const folder of this.toolFolders) {
        if (folderWatchers.has(folder)) continue;
        try {
          const fw = watch(folder, () => changed());
          // A folder removed (or unmounted) stops its watch: the poll still sees its state, and a later sync watches it again.
          fw.on("error", () => {
            fw.close();
            folderWatchers.delete(folder);
            watchedKey = "";
          });
          folderWatchers.set(folder, fw);
        } catch {
          watchedKey = ""; // missing now: try again at the next poll
        }
      }
      return true;
    };
    syncFolders();
    // statSync follows symlinks: the poll sees the target's inode, size and time, wherever it lives.
    const poll = setInterval(() => {
      if (timer !== undefined) return;
      if (syncFolders()) {
        // The config now names other folders: what it was loaded with is the new baseline.
        settled = seen = state();
        last = text();
        return;
      }
      if (state() !== settled) changed();
    }, pollMs);
    poll.unref?.();
    return () => {
      if (timer) clearTimeout(timer);
      clearInterval(poll);
      w.close();
      for (const fw of folderWatchers.values()) fw.close();
    };
  }
}

/** The states of the YAML files of the folders (names and file states), "missing" for a folder that cannot be read. */
function foldersState(folders: readonly string[]): string {
  let out = "";
  for (const folder of folders) {
    out += `\n${folder}:`;
    try {
      for (const f of yamlFiles(folder)) out += `${f}=${fileState(join(folder, f))};`;
    } catch {
      out += "missing";
    }
  }
  return out;
}

/** The texts of the YAML files of the folders, each after its name. */
function foldersText(folders: readonly string[]): string {
  let out = "";
  for (const folder of folders) {
    try {
      for (const f of yamlFiles(folder)) out += `\0${folder}/${f}\0${safeRead(join(folder, f)) ?? ""}`;
    } catch {
      out += `\0${folder}\0missing`;
    }
  }
  return out;
}

/** Size, modification time and inode as one comparable string; "missing" when the path does not resolve. */
function fileState(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return "missing";
  }
}

function safeRead(path: string): string | undefined {
  try {
    return readConfigText(path);
  } catch {
    return undefined;
  }
}

/** Validates config text with command-line overrides applied first (also used by workers). */
export function loadWithOverrides(
  text: string,
  label: string,
  o: Overrides,
  env: Record<string, string | undefined> = process.env,
  format: "yaml" | "json" = "yaml",
): LoadedConfig {
  return parseConfig(text, label, env, (raw) => {
    if (o.listen !== undefined) raw.listen = o.listen;
    if (o.workers !== undefined) raw.workers = o.workers;
    if (o.admin !== undefined) raw.admin = { ...(raw.admin as object | undefined), listen: o.admin };
    if (o.logLevel !== undefined) raw.log = { ...(raw.log as object | undefined), level: o.logLevel };
  }, format);
}
