import { z } from 'zod';
import type { Granularity, MonitoringSettings } from '../config/index.js';
import type { TrafficFigures } from './batch.js';
import { ALL_MODELS, column, keyColumn, shapeOf } from './columns.js';
import { DRIFT_TYPES, type DriftRow } from './drift.js';
import type { ProfileRow } from './profile-columns.js';

/**
 * The alerts of a window (all models, no slice), from the thresholds of `monitoring.alerts`:
 * the rules are a table (what is judged, against which setting, which way, and the message),
 * and the columns of `<endpoint>_alerts` are declared once, as the other metrics tables'.
 */

/** What an alert is about. */
export const ALERT_KINDS = ['drift', 'quality', 'error_rate', 'latency', 'volume'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

type AlertSettings = MonitoringSettings['alerts'];
/** The quality metrics `monitoring.alerts` can hold to a floor or a ceiling. */
export type QualityMetric = keyof AlertSettings['quality_floors'] | keyof AlertSettings['quality_ceilings'];

/** The value of each quality metric on a `:table` row (a metric of the settings without one does not compile). */
export const QUALITY_METRICS: Readonly<Record<QualityMetric, (table: ProfileRow) => number | null>> = {
  accuracy_score: (t) => t.accuracy_score,
  f1_macro: (t) => t.f1_score?.macro ?? null,
  roc_auc: (t) => t.roc_auc,
  r2_score: (t) => t.r2_score,
  log_loss: (t) => t.log_loss,
  mean_absolute_error: (t) => t.mean_absolute_error,
  root_mean_squared_error: (t) => t.root_mean_squared_error,
  mean_absolute_percentage_error: (t) => t.mean_absolute_percentage_error,
};

/** The figures of one window the rules judge: all models, no slice. */
export interface WindowFigures {
  /** Its `:table` profile row. */
  readonly table: ProfileRow | undefined;
  readonly drift: readonly DriftRow[];
  readonly traffic: TrafficFigures | undefined;
  /** The traffic of the window before, once this one is over (a volume drop is judged then). */
  readonly previousTraffic: TrafficFigures | undefined;
}

/** Which side of its threshold a value raises an alert on. */
const BREACHED = {
  above: (v: number, t: number) => v > t,
  below: (v: number, t: number) => v < t,
  at_least: (v: number, t: number) => v >= t,
} as const;

/** A threshold rule: nothing is judged when its value or its threshold is null or undefined. */
export interface AlertRule {
  readonly kind: AlertKind;
  readonly metric: string;
  value(w: WindowFigures): number | null | undefined;
  threshold(a: AlertSettings, w: WindowFigures): number | null | undefined;
  readonly breached: keyof typeof BREACHED;
  /** The columns the alert is about (drift). */
  columns?(w: WindowFigures): string;
  message(value: number, threshold: number, w: WindowFigures, a: AlertSettings): string;
}

const drifted = (w: WindowFigures, type: DriftRow['drift_type']) => w.drift.filter((d) => d.drift_type === type && d.verdict === 'DRIFT');

/** Drift: this many columns or more drifted in one comparison (0: never). */
const DRIFT_RULES: readonly AlertRule[] = DRIFT_TYPES.map((type) => ({
  kind: 'drift',
  metric: `drifted_columns_${type.toLowerCase()}`,
  value: (w) => drifted(w, type).length,
  threshold: (a) => (a.drifted_columns > 0 ? a.drifted_columns : null),
  breached: 'at_least',
  columns: (w) => drifted(w, type).map((d) => d.column_name).join(','),
  message: (n, _, w) => `${n} column(s) drifted (${type}): ${drifted(w, type).map((d) => `${d.column_name} js=${(d.js_distance ?? 0).toFixed(3)}`).join(', ')}`,
}));

const qualityRule = (metric: QualityMetric, bound: 'floor' | 'ceiling'): AlertRule => ({
  kind: 'quality',
  metric,
  value: (w) => (w.table ? QUALITY_METRICS[metric](w.table) : undefined),
  threshold: (a) => (bound === 'floor' ? a.quality_floors[metric as keyof AlertSettings['quality_floors']] : a.quality_ceilings[metric as keyof AlertSettings['quality_ceilings']]),
  breached: bound === 'floor' ? 'below' : 'above',
  message: (v, t) => `${metric} ${v.toFixed(4)} is ${bound === 'floor' ? 'below' : 'above'} ${t}`,
});

/** Error rate, latency and volume, from the payload table's figures. */
const TRAFFIC_RULES: readonly AlertRule[] = [
  {
    kind: 'error_rate',
    metric: 'error_rate',
    value: (w) => w.traffic?.error_rate,
    threshold: (a) => a.max_error_rate,
    breached: 'above',
    message: (v, t) => `error rate ${(v * 100).toFixed(1)}% is above ${t * 100}%`,
  },
  {
    kind: 'latency',
    metric: 'latency_p99_ms',
    value: (w) => w.traffic?.latency_p99_ms,
    threshold: (a) => a.max_p99_latency_ms,
    breached: 'above',
    message: (v, t) => `p99 latency ${v} ms is above ${t} ms`,
  },
  {
    kind: 'volume',
    metric: 'request_count',
    value: (w) => w.traffic?.request_count,
    threshold: (a, w) => (w.previousTraffic && w.previousTraffic.request_count > 0 ? a.min_volume_ratio * w.previousTraffic.request_count : null),
    breached: 'below',
    message: (v, _, w, a) => `${v} requests, below ${a.min_volume_ratio * 100}% of the previous window's ${w.previousTraffic?.request_count}`,
  },
];

/** The rules of an endpoint's settings, in the order their alerts are raised. */
export function alertRules(a: AlertSettings): AlertRule[] {
  return [
    ...DRIFT_RULES,
    ...Object.keys(a.quality_floors).map((m) => qualityRule(m as QualityMetric, 'floor')),
    ...Object.keys(a.quality_ceilings).map((m) => qualityRule(m as QualityMetric, 'ceiling')),
    ...TRAFFIC_RULES,
  ];
}

/** Every column of an alert row, in order. */
export const ALERT_ROW_COLUMNS = [
  keyColumn('window_start'),
  keyColumn('granularity'),
  column('model_id', z.string(), `\`${ALL_MODELS}\`: alerts judge all models, unsliced.`),
  column('kind', z.enum(ALERT_KINDS), `What the alert is about: ${ALERT_KINDS.map((k) => `\`${k}\``).join(', ')}.`),
  column(
    'metric',
    z.string(),
    `The figure judged: ${[...DRIFT_RULES.map((r) => r.metric), ...Object.keys(QUALITY_METRICS), ...TRAFFIC_RULES.map((r) => r.metric)].map((m) => `\`${m}\``).join(', ')}.`,
  ),
  column('column_name', z.string().nullable(), 'The columns that drifted, comma-separated (drift alerts); null for the others.'),
  column('value', z.number(), 'The value of the figure.'),
  column('threshold', z.number(), 'The threshold it crossed (from `monitoring.alerts`).'),
  column('message', z.string(), 'The alert in words, as logged.'),
] as const;

/** zod schema of a row of `<endpoint>_alerts`. */
export const alertRowSchema = z.strictObject(shapeOf(ALERT_ROW_COLUMNS));

/** A row of `<endpoint>_alerts`. */
export type AlertRow = z.infer<typeof alertRowSchema>;

/** The alerts of one window. */
export function alertsOf(settings: MonitoringSettings, window: { window_start: string; granularity: Granularity }, figures: WindowFigures): AlertRow[] {
  const out: AlertRow[] = [];
  for (const rule of alertRules(settings.alerts)) {
    const value = rule.value(figures);
    const threshold = rule.threshold(settings.alerts, figures);
    if (value === null || value === undefined || threshold === null || threshold === undefined || !BREACHED[rule.breached](value, threshold)) continue;
    out.push({
      window_start: window.window_start,
      granularity: window.granularity,
      model_id: ALL_MODELS,
      kind: rule.kind,
      metric: rule.metric,
      column_name: rule.columns?.(figures) ?? null,
      value,
      threshold,
      message: rule.message(value, threshold, figures, settings.alerts),
    });
  }
  return out;
}
