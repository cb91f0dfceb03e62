import type { Granularity } from '../core/config/index.js';
import type { QueryEngine } from '../core/ports.js';
import { tableName } from '../core/names.js';
import { literal } from '../core/refresh-sql.js';

/**
 * An endpoint's monitoring series for the dashboard and the endpoint page: volume, latency,
 * errors, drift and quality per window, from its metrics tables, with the text metrics of
 * endpoints that serve chat or completions, and the alerts the refreshes raised.
 */

/** One endpoint's series, aligned on its windows (epoch seconds). */
export interface DashboardSeries {
  readonly endpoint: string;
  readonly granularity: Granularity;
  readonly windows: number[];
  readonly request_count: (number | null)[];
  readonly predictions: (number | null)[];
  readonly latency_p50_ms: (number | null)[];
  readonly latency_p99_ms: (number | null)[];
  readonly error_rate: (number | null)[];
  readonly drifted_baseline: (number | null)[];
  readonly drifted_consecutive: (number | null)[];
  readonly max_js_distance: (number | null)[];
  /** Accuracy for classification, R² for regression. */
  readonly quality_metric: string;
  readonly quality: (number | null)[];
  readonly label_coverage: (number | null)[];
  readonly alerts: { window_start: string; kind: string; message: string }[];
  /** For an endpoint that serves chat or completions: its text metrics, means per window; null otherwise. */
  readonly llm: LlmSeries | null;
}

/** The text metrics of an LLM endpoint, aligned on the windows. */
export interface LlmSeries {
  readonly prompt_tokens: (number | null)[];
  readonly completion_tokens: (number | null)[];
  readonly time_to_first_token_ms: (number | null)[];
  readonly output_tokens_per_second: (number | null)[];
  readonly empty_answer_rate: (number | null)[];
  readonly refusal_rate: (number | null)[];
  /** Share of answers cut at `max_tokens` (finish reason `length`). */
  readonly truncated_rate: (number | null)[];
}

/** The profile columns of the LLM series, each read as its mean. */
const LLM_MEANS = { prompt_tokens: 'prompt_tokens', completion_tokens: 'completion_tokens', time_to_first_token_ms: 'time_to_first_token_ms', output_tokens_per_second: 'output_tokens_per_second', empty_answer_rate: 'empty_answer', refusal_rate: 'refusal' } as const;

const epochSeconds = (value: unknown) => Date.parse(`${String(value).replace(' ', 'T').slice(0, 23)}Z`) / 1000;

/** The series of one endpoint and granularity; empty before its first refresh with metrics. */
export async function dashboardSeries(engine: QueryEngine, tables: readonly string[], endpoint: string, granularity: Granularity): Promise<DashboardSeries> {
  const profile = tableName(endpoint, 'profile_metrics');
  const drift = tableName(endpoint, 'drift_metrics');
  const alertsTable = tableName(endpoint, 'alerts');
  const g = literal(granularity);
  const tableRows = tables.includes(profile)
    ? (
        await engine.query(
          `SELECT window_start, request_count, "count" AS predictions, latency_p50_ms, latency_p99_ms, error_rate, accuracy_score, r2_score, label_coverage
           FROM ${profile} WHERE column_name = ':table' AND model_id = '*' AND slice_key IS NULL AND granularity = ${g} ORDER BY window_start`,
        )
      ).rows
    : [];
  const driftRows = tables.includes(drift)
    ? (
        await engine.query(
          `SELECT window_start, drift_type, count_if(verdict = 'DRIFT') AS drifted, max(js_distance) AS js
           FROM ${drift} WHERE model_id = '*' AND slice_key IS NULL AND granularity = ${g} GROUP BY window_start, drift_type`,
        )
      ).rows
    : [];
  const alerts = tables.includes(alertsTable)
    ? (await engine.query(`SELECT CAST(window_start AS VARCHAR) AS window_start, kind, message FROM ${alertsTable} WHERE granularity = ${g} ORDER BY window_start DESC LIMIT 50`)).rows
    : [];
  const windows = tableRows.map((r) => epochSeconds(r.window_start));
  const at = new Map(windows.map((w, i) => [w, i]));
  const column = <T>(pick: (r: Record<string, unknown>) => T) => tableRows.map(pick);
  const driftSeries = (type: string, pick: (r: Record<string, unknown>) => number | null) => {
    const out: (number | null)[] = windows.map(() => null);
    for (const r of driftRows.filter((d) => d.drift_type === type)) {
      const i = at.get(epochSeconds(r.window_start));
      if (i !== undefined) out[i] = pick(r);
    }
    return out;
  };
  const maxJs: (number | null)[] = windows.map(() => null);
  for (const r of driftRows) {
    const i = at.get(epochSeconds(r.window_start));
    if (i !== undefined && r.js !== null) maxJs[i] = Math.max(maxJs[i] ?? 0, Number(r.js));
  }
  const llm = tables.includes(profile) ? await llmSeries(engine, profile, g, at) : null;
  const regression = tableRows.some((r) => r.r2_score !== null) && !tableRows.some((r) => r.accuracy_score !== null);
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    endpoint,
    granularity,
    windows,
    request_count: column((r) => num(r.request_count)),
    predictions: column((r) => num(r.predictions)),
    latency_p50_ms: column((r) => num(r.latency_p50_ms)),
    latency_p99_ms: column((r) => num(r.latency_p99_ms)),
    error_rate: column((r) => num(r.error_rate)),
    drifted_baseline: driftSeries('BASELINE', (r) => num(r.drifted)),
    drifted_consecutive: driftSeries('CONSECUTIVE', (r) => num(r.drifted)),
    max_js_distance: maxJs,
    quality_metric: regression ? 'r2_score' : 'accuracy_score',
    quality: column((r) => num(regression ? r.r2_score : r.accuracy_score)),
    label_coverage: column((r) => num(r.label_coverage)),
    alerts: alerts.map((a) => ({ window_start: String(a.window_start), kind: String(a.kind), message: String(a.message) })),
    llm,
  };
}

/** The LLM series of an endpoint whose unpacked rows have text metrics, or null. */
async function llmSeries(engine: QueryEngine, profile: string, granularity: string, at: ReadonlyMap<number, number>): Promise<LlmSeries | null> {
  const rows = (
    await engine.query(
      `SELECT window_start, column_name, avg, "count", frequent_items FROM ${profile}
       WHERE column_name IN (${[...Object.values(LLM_MEANS), 'finish_reason'].map(literal).join(', ')}) AND model_id = '*' AND slice_key IS NULL AND granularity = ${granularity}`,
    )
  ).rows;
  if (!rows.some((r) => r.column_name === 'finish_reason' && Number(r.count) > 0)) return null;
  const empty = () => Array.from({ length: at.size }, (): number | null => null);
  const out = { ...Object.fromEntries(Object.keys(LLM_MEANS).map((k) => [k, empty()])), truncated_rate: empty() } as Record<keyof LlmSeries, (number | null)[]>;
  const key = Object.fromEntries(Object.entries(LLM_MEANS).map(([k, column]) => [column, k as keyof LlmSeries]));
  for (const r of rows) {
    const i = at.get(epochSeconds(r.window_start));
    if (i === undefined) continue;
    if (r.column_name === 'finish_reason') {
      const items = (r.frequent_items ?? []) as { item: string; count: unknown }[];
      const total = Number(r.count);
      out.truncated_rate[i] = total > 0 ? items.filter((f) => f.item === 'length').reduce((n, f) => n + Number(f.count), 0) / total : null;
    } else {
      const name = key[String(r.column_name)];
      if (name) out[name][i] = r.avg === null || r.avg === undefined ? null : Number(r.avg);
    }
  }
  return out;
}
