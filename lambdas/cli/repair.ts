import type { Config } from '../core/config/index.js';
import { environmentNames, tableName } from '../core/names.js';
import type { ObjectStore, QueryEngine } from '../core/ports.js';
import type { RefreshDeps } from '../workflow/steps.js';
import { type RepairOptions, type RepairReport, repairEndpoint } from '../workflow/repair.js';
import { UserFacingError } from '../shared/errors.js';

/** A repair left something it cannot fix alone (the command exits 1, after saying what). */
export class RepairIncomplete extends UserFacingError {
  public constructor(message: string) {
    super(message);
    this.name = 'RepairIncomplete';
  }
}

/** Repairs each endpoint's tables with the environment's engine and store; the next refresh finishes the work. */
export async function repairEndpoints(deps: RefreshDeps & { readonly engine: QueryEngine; readonly store: ObjectStore }, endpoints: readonly string[], options: RepairOptions): Promise<RepairReport[]> {
  const reports: RepairReport[] = [];
  for (const endpoint of endpoints) reports.push(await repairEndpoint(deps, endpoint, options));
  return reports;
}

/** What a repair did, for people. */
export function describeRepair(reports: readonly RepairReport[]): string {
  const lines = ['repair:'];
  for (const r of reports) {
    const table = tableName(r.endpoint, 'payload');
    const did: string[] = [];
    if (r.restored.length > 0) did.push(`${r.restored.length} quarantined file${r.restored.length === 1 ? '' : 's'} read again and put back in ${table}`);
    if (r.came_back.length > 0) did.push(`${r.came_back.length} window${r.came_back.length === 1 ? '' : 's'} counted fewer requests than ${table} now holds (files came back): recomputed`);
    if (r.replayed_records > 0) did.push(`${r.replayed_records} record${r.replayed_records === 1 ? '' : 's'} the conversion had refused put back through the spill`);
    if (r.accepted_missing) did.push(`${r.missing.length} window${r.missing.length === 1 ? '' : 's'} with missing files recomputed from what is left, as asked`);
    lines.push(`  ${r.endpoint}: ${did.length > 0 ? did.join('; ') : 'nothing to repair'}${r.replay > 0 ? ` (${r.replay} payload files read again)` : ''}`);
    if (r.still_refused.length > 0) {
      lines.push(`    ${r.still_refused.length} refused record${r.still_refused.length === 1 ? '' : 's'} of ${r.endpoint} still not valid (first, in ${r.still_refused[0]?.key}: ${r.still_refused[0]?.reason}); they stay under errors/ (the raw record is in base64)`);
    }
    for (const q of r.still_quarantined.slice(0, 5)) lines.push(`    still unreadable: ${q.key} (${q.reason.slice(0, 160)}); replace _quarantine/${q.key} with a readable copy and run repair again, or delete it there`);
    if (r.missing.length > 0 && !r.accepted_missing) {
      const first = r.missing[0] as RepairReport['missing'][number];
      lines.push(
        `    ${r.missing.length} window${r.missing.length === 1 ? '' : 's'} of ${r.endpoint} hold${r.missing.length === 1 ? 's' : ''} requests ${table} no longer has (first: ${first.window_start}: ${first.recorded} counted by its metrics, ${first.found} in ${table}, ${first.unpacked_without_payload} unpacked without their capture): ` +
          `files are missing (a folder moved or renamed, files deleted). Put them back under ${table}/ and run repair again; or run repair --accept-missing to recompute those windows from what is left.`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** What a repair left undone, or undefined when it left nothing. */
export function unfinished(reports: readonly RepairReport[]): string | undefined {
  const left = reports.filter((r) => r.still_quarantined.length > 0 || r.still_refused.length > 0 || (r.missing.length > 0 && !r.accepted_missing));
  if (left.length === 0) return undefined;
  return `${left.map((r) => r.endpoint).join(', ')} still need${left.length === 1 ? 's' : ''} attention (see above).`;
}

/** How to start the refresh that finishes a repair on AWS. */
export function startRefreshCommand(config: Config): string {
  return `aws stepfunctions start-execution --state-machine-arn "arn:aws:states:<region>:<account>:stateMachine:${environmentNames(config.environment, config.database).stack}-refresh"`;
}
