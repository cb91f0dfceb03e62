import type { Config } from '../core/config/index.js';
import type { TableHealth } from '../core/health.js';
import type { DeliveryStreams, ObjectStore, QueryEngine } from '../core/ports.js';
import { UserFacingError } from '../shared/errors.js';
import { recordHealth } from '../workflow/health.js';
import { capturedEndpoints } from '../workflow/steps.js';

/** The check found tables that need attention (the command exits 1, after printing what to do). */
export class DoctorFindings extends UserFacingError {
  public constructor(message: string) {
    super(message);
    this.name = 'DoctorFindings';
  }
}

/** What a world adds to the checks of its tables. */
export interface ExamineOptions {
  readonly engine?: QueryEngine;
  readonly dialect?: 'duckdb' | 'athena';
  /** The Glue database (Athena). */
  readonly database?: string;
  readonly streams?: DeliveryStreams;
}

/**
 * `inference-tables doctor`: runs the health checks of every captured endpoint's tables,
 * schedule included (and, given a query engine, whether the payload table still holds every
 * request the unpacked table and the metrics counted; given the streams, how they convert),
 * and records each result where the endpoint API reads it.
 */
export async function examine(config: Config, store: ObjectStore, options: ExamineOptions = {}): Promise<TableHealth[]> {
  const deps = { config, store, dialect: options.dialect ?? 'duckdb', ...options };
  const results: TableHealth[] = [];
  for (const endpoint of capturedEndpoints(config)) results.push(await recordHealth(deps, endpoint, { schedule: true }));
  return results;
}
