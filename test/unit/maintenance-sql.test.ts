import { describe, expect, it } from 'vitest';
import { maintenanceStatements } from '../../lambdas/core/maintenance-sql.js';
import { commitMaintenance, dueMaintenance, metricsMaintenance } from '../../lambdas/workflow/maintenance.js';
import { configWith } from '../helpers/config.js';

const ref = (name: string) => ({ sql: `"db"."${name}"`, location: '' });

describe('the daily upkeep of the Iceberg tables', () => {
  it('on Athena deletes rows past their retention, then compacts and vacuums each table', () => {
    expect(maintenanceStatements('athena', [{ table: ref('iris_unpacked'), column: 'date', type: 'DATE', keepDays: 30 }], '2026-11-30')).toEqual([
      `DELETE FROM "db"."iris_unpacked" WHERE "date" < DATE '2026-10-31'`,
      'OPTIMIZE "db"."iris_unpacked" REWRITE DATA USING BIN_PACK',
      'VACUUM "db"."iris_unpacked"',
    ]);
  });

  it('locally deletes only (DuckDB keeps no snapshots to expire)', () => {
    expect(maintenanceStatements('duckdb', [{ table: ref('iris_alerts'), column: 'window_start', type: 'TIMESTAMP', keepDays: 1 }], '2026-11-30')).toEqual([
      `DELETE FROM "db"."iris_alerts" WHERE "window_start" < TIMESTAMP '2026-11-29 00:00:00'`,
    ]);
  });

  it('keeps each kind its configured days, and runs once per UTC day', () => {
    const config = configWith((raw) => (raw.retention = { unpacked_days: 10, metrics_days: 400 }));
    const deps = { config, store: undefined as never, dialect: 'athena' as const, database: 'db' };
    expect(commitMaintenance(deps, 'iris', '2026-11-30').filter((s) => s.startsWith('DELETE'))).toEqual([
      `DELETE FROM "db"."iris_unpacked" WHERE "date" < DATE '2026-11-20'`,
      `DELETE FROM "db"."iris_unpack_errors" WHERE "date" < DATE '2026-11-20'`,
      `DELETE FROM "db"."iris_recompute_windows" WHERE "date" < DATE '2026-11-20'`,
    ]);
    expect(metricsMaintenance(deps, 'iris', '2026-11-30').filter((s) => s.startsWith('DELETE'))).toHaveLength(3);
    expect(metricsMaintenance(deps, 'iris', '2026-11-30')[0]).toBe(`DELETE FROM "db"."iris_profile_metrics" WHERE "window_start" < TIMESTAMP '2025-10-26 00:00:00'`);
    expect(dueMaintenance(undefined, '2026-11-30T10:00:00.000Z')).toBe('2026-11-30');
    expect(dueMaintenance('2026-11-29', '2026-11-30T00:00:01.000Z')).toBe('2026-11-30');
    expect(dueMaintenance('2026-11-30', '2026-11-30T23:59:59.000Z')).toBeNull();
  });
});
