import { retentionDays } from '../core/config/index.js';
import { type MaintainedTable, maintenanceStatements } from '../core/maintenance-sql.js';
import { tableName } from '../core/names.js';
import { tableRef } from './paths.js';
import type { RefreshDeps } from './steps.js';

/**
 * When the daily upkeep of an endpoint's tables is due (`maintenance-sql.ts`): the first run
 * of each UTC day. PrepareCommit adds it to the commit (unpacked, rejects, recompute windows),
 * ComputeMetrics to the metrics statements, and FinishEndpoint records the day.
 */

/** The day whose upkeep a run starting at `startedAt` does, or null when it was done. */
export function dueMaintenance(maintainedOn: string | null | undefined, startedAt: string): string | null {
  const today = startedAt.slice(0, 10);
  return maintainedOn === today ? null : today;
}

/** The upkeep of the unpacked, rejects and recompute-windows tables. */
export function commitMaintenance(deps: RefreshDeps, endpoint: string, today: string): string[] {
  const days = retentionDays(deps.config).unpacked;
  const table = (kind: 'unpacked' | 'unpack_errors' | 'recompute_windows'): MaintainedTable => ({ table: tableRef(deps, tableName(endpoint, kind), ''), column: 'date', type: 'DATE', keepDays: days });
  return maintenanceStatements(deps.dialect, [table('unpacked'), table('unpack_errors'), table('recompute_windows')], today);
}

/** The upkeep of the metrics tables. */
export function metricsMaintenance(deps: RefreshDeps, endpoint: string, today: string): string[] {
  const days = retentionDays(deps.config).metrics;
  const table = (kind: 'profile_metrics' | 'drift_metrics' | 'alerts'): MaintainedTable => ({ table: tableRef(deps, tableName(endpoint, kind), ''), column: 'window_start', type: 'TIMESTAMP', keepDays: days });
  return maintenanceStatements(deps.dialect, [table('profile_metrics'), table('drift_metrics'), table('alerts')], today);
}
