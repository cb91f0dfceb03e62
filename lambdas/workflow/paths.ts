import type { TableRef } from '../core/refresh-sql.js';
import type { RefreshDeps } from './steps.js';

/** Where the refresh workflow keeps its state, runs and failures in the store. */
export const REFRESH_ROOT = '_refresh';

/** Where a run keeps an endpoint's staged files. */
export const runPrefix = (runId: string, endpoint: string) => `${REFRESH_ROOT}/runs/${runId}/${endpoint}/`;
/** Where an endpoint's watermarks and schema are kept between runs. */
export const stateKey = (endpoint: string) => `${REFRESH_ROOT}/state/${endpoint}.json`;
/** Where an endpoint's last failed commit is recorded, until one succeeds. */
export const endpointFailureKey = (endpoint: string) => `${REFRESH_ROOT}/state/${endpoint}.failure.json`;
/** Where the windows whose missing payload files an operator accepted (`repair --accept-missing`) are kept. */
export const acceptedLossKey = (endpoint: string) => `${REFRESH_ROOT}/state/${endpoint}.accepted-loss.json`;

/** A table as the environment's SQL names it, with the location of its files. */
export function tableRef(deps: Pick<RefreshDeps, 'dialect' | 'database'>, name: string, location: string): TableRef {
  const sql = deps.dialect === 'athena' && deps.database ? `"${deps.database}"."${name}"` : `"${name}"`;
  return { sql, location };
}

/** The UTC date of a payload file, from its `date=` partition, or undefined outside one. */
export function partitionDate(key: string): string | undefined {
  return /\/date=(\d{4}-\d{2}-\d{2})\//.exec(key)?.[1];
}
