/**
 * Structured log lines (one JSON object per line on stderr), read by CloudWatch Logs
 * Insights on AWS and by people locally. Never given request bodies or credentials.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold: LogLevel = (process.env.LOG_LEVEL?.toLowerCase() as LogLevel | undefined) ?? 'info';
if (!(threshold in ORDER)) threshold = 'info';

/** Changes the lowest level written. */
export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

/** Writes one log line when `level` is at or above the threshold. */
export function log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
  if (ORDER[level] < ORDER[threshold]) return;
  const line: Record<string, unknown> = { level, time: new Date().toISOString(), message, ...fields };
  for (const [k, v] of Object.entries(line)) {
    if (v instanceof Error) line[k] = { name: v.name, message: v.message, stack: v.stack };
  }
  process.stderr.write(`${JSON.stringify(line)}\n`);
}
