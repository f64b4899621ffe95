/**
 * Leveled application logs as JSON lines on stderr (access logs go elsewhere,
 * see access-log.ts). Fields are plain values; callers never pass secrets.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  setLevel(level: LogLevel): void;
  child(fields: Record<string, unknown>): Logger;
}

export type LogSink = (line: string) => void;

const stderrSink: LogSink = (line) => process.stderr.write(line);

export function createLogger(level: LogLevel = "info", base: Record<string, unknown> = {}, sink: LogSink = stderrSink): Logger {
  const state = { min: RANK[level] };
  const make = (fields: Record<string, unknown>): Logger => {
    const emit = (lvl: LogLevel, msg: string, extra?: Record<string, unknown>) => {
      if (RANK[lvl] < state.min) return;
      const record = { time: new Date().toISOString(), level: lvl, msg, ...fields, ...extra };
      sink(`${JSON.stringify(record, errorReplacer)}\n`);
    };
    return {
      debug: (m, f) => emit("debug", m, f),
      info: (m, f) => emit("info", m, f),
      warn: (m, f) => emit("warn", m, f),
      error: (m, f) => emit("error", m, f),
      setLevel: (l) => {
        state.min = RANK[l];
      },
      child: (more) => make({ ...fields, ...more }),
    };
  };
  return make(base);
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return code === undefined ? { name: value.name, message: value.message } : { name: value.name, code, message: value.message };
  }
  return value;
}
