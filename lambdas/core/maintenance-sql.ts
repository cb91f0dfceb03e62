import { type Dialect, type TableRef, literal } from './refresh-sql.js';

/**
 * The daily upkeep of an endpoint's Iceberg tables (unpacked, rejects, recompute windows,
 * metrics), in both worlds: rows past their kind's retention are deleted. On Athena the
 * small files the hourly MERGEs and inserts leave are rewritten into larger ones (OPTIMIZE
 * picks the files below the table's size threshold, so it reads what it rewrites; it takes
 * no filter here: Athena allows only partition columns in it, and these tables' partitions
 * are hidden transforms), and VACUUM expires old snapshots and removes the files no snapshot
 * references: S3 lifecycle rules never touch these tables, whose data and metadata live
 * snapshots reference.
 */

/** A table to keep up: its rows are dated by `column` (a DATE or a TIMESTAMP). */
export interface MaintainedTable {
  readonly table: TableRef;
  readonly column: string;
  readonly type: 'DATE' | 'TIMESTAMP';
  /** Days its rows are kept. */
  readonly keepDays: number;
}

const DAY_MS = 86_400_000;

function bound(type: MaintainedTable['type'], day: string): string {
  return type === 'DATE' ? `DATE ${literal(day)}` : `TIMESTAMP ${literal(`${day} 00:00:00`)}`;
}

/** The statements of one day's upkeep of `tables`, as of `today` (`YYYY-MM-DD`). */
export function maintenanceStatements(d: Dialect, tables: readonly MaintainedTable[], today: string): string[] {
  const at = Date.parse(`${today}T00:00:00Z`);
  const out: string[] = [];
  for (const t of tables) {
    const column = `"${t.column}"`;
    const kept = new Date(at - t.keepDays * DAY_MS).toISOString().slice(0, 10);
    out.push(`DELETE FROM ${t.table.sql} WHERE ${column} < ${bound(t.type, kept)}`);
    if (d === 'athena') out.push(`OPTIMIZE ${t.table.sql} REWRITE DATA USING BIN_PACK`, `VACUUM ${t.table.sql}`);
  }
  return out;
}
