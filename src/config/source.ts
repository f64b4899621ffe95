/**
 * Where the running gateway's config comes from: a file (re-read on reload,
 * watched for changes) or an inline document built from command-line flags
 * (zero-config mode), plus command-line overrides applied to either before
 * validation, so flags and file are validated together.
 */
import { statSync, watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";
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

  /** Reads (unless text is given) and validates. Throws ConfigError/FicusError. */
  load(text: string = this.read(), env: Record<string, string | undefined> = process.env): LoadedConfig {
    return loadWithOverrides(text, this.label, this.overrides, env, this.format);
  }

  /**
   * Calls onChange when the file has changed and then stayed the same (size,
   * modification time and inode) for `settleMs()`, so a file being written —
   * truncated by an editor, copied in slowly — is read once it is whole.
   * Watches the directory, because editors and Kubernetes ConfigMaps replace
   * files by renaming; and checks the file's state every `pollMs` as well, so
   * a change the directory watch cannot see (a symlink into another folder
   * re-pointed or edited there, a network file system) is still applied.
   */
  watch(onChange: () => void, settleMs: () => number = () => 200, pollMs = 1000): () => void {
    if (this.path === undefined) return () => {};
    const path = this.path;
    const name = basename(path);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last = safeRead(path);
    let seen = fileState(path);
    /** The state last read (or found unchanged): the poll compares against it. */
    let settled = seen;
    const check = () => {
      timer = undefined;
      const now = fileState(path);
      if (now !== seen) {
        // Still changing: look again once it has been quiet for a whole settle period.
        seen = now;
        timer = setTimeout(check, settleMs());
        return;
      }
      settled = now;
      const text = safeRead(path);
      if (text === last) return;
      last = text;
      onChange();
    };
    const changed = () => {
      if (timer !== undefined) return; // a check is pending; it compares against the state it saw
      seen = fileState(path);
      timer = setTimeout(check, settleMs());
    };
    const w = watch(dirname(path), (_event, file) => {
      if (file !== null && file !== name && file !== "..data") return;
      changed();
    });
    // statSync follows symlinks: the poll sees the target's inode, size and time, wherever it lives.
    const poll = setInterval(() => {
      if (timer === undefined && fileState(path) !== settled) changed();
    }, pollMs);
    poll.unref?.();
    return () => {
      if (timer) clearTimeout(timer);
      clearInterval(poll);
      w.close();
    };
  }
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
