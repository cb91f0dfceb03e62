import type { Granularity } from '../config/index.js';
import { ALL_MODELS } from './columns.js';

/**
 * The windows of the metrics tables: where each granularity's windows start (UTC, weeks on
 * Monday, as `date_trunc` in Athena and DuckDB), and how their bounds are written in rows.
 */

const MINUTE = 60_000;
const WINDOW_MS: Readonly<Record<Granularity, number>> = {
  '5 minutes': 5 * MINUTE,
  '30 minutes': 30 * MINUTE,
  '1 hour': 60 * MINUTE,
  '1 day': 1440 * MINUTE,
  '1 week': 7 * 1440 * MINUTE,
};
// Weeks start on Monday (as date_trunc('week') in Athena and DuckDB); 1970-01-05 was one.
const MONDAY = Date.UTC(1970, 0, 5);

/** Start of the window of `granularity` that holds `t` (epoch ms, UTC). */
export function windowStart(granularity: Granularity, t: number): number {
  const w = WINDOW_MS[granularity];
  const origin = granularity === '1 week' ? MONDAY : 0;
  return Math.floor((t - origin) / w) * w + origin;
}

/** Length of a window of `granularity`, in ms. */
export function windowLength(granularity: Granularity): number {
  return WINDOW_MS[granularity];
}

/** An instant (epoch ms) as rows write it: `yyyy-MM-dd HH:mm:ss.SSS`, UTC. */
export const timestampOf = (t: number): string => new Date(t).toISOString().replace('T', ' ').replace('Z', '');

/** Key of a window's traffic figures: of all models, or of one (`<model name>/<version>`). */
export const trafficKey = (granularity: Granularity, start: number, model: string = ALL_MODELS) => `${granularity}|${start}|${model}`;
