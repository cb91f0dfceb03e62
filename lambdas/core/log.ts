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
  process.stderr.write(`${serialize(line)}\n`);
}

/** The line as JSON; a field JSON cannot hold (a BigInt, a cycle) is written as text, so logging never throws. */
function serialize(line: Record<string, unknown>): string {
  try {
    return JSON.stringify(line);
  } catch {
    const seen = new WeakSet<object>();
    return JSON.stringify(line, (_key, value: unknown) => {
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'object' && value !== null) {
        if (seen.has(value)) return '[cycle]';
        seen.add(value);
      }
      return value;
    });
  }
}
