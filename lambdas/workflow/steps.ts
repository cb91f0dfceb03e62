import { once } from 'node:events';
import { type Gzip, constants, createGzip } from 'node:zlib';
import type { Config } from '../core/config/index.js';
import type { EndpointRun, UnpackTask } from '../core/refresh-steps.js';
import { UNROUTED_ENDPOINT, tableName } from '../core/names.js';
import type { DeliveryStreams, MetricsPublisher, ObjectStore, QueryEngine, StoredObject } from '../core/ports.js';
import { type Dialect, commitStatements } from '../core/refresh-sql.js';
import { type CapturedRow, type UnpackSummary, addSummary, emptySummary, unpackCapturedRows } from '../core/unpack-batch.js';
import { type ColumnType, type FeatureColumn, declaredColumns, declaredSignature, featureColumnName, mergeColumns } from '../core/unpacked-schema.js';
import { REFRESH_ROOT, endpointFailureKey, partitionDate, runPrefix, stateKey, tableRef } from './paths.js';
import { StoreReadError, quarantineFile, storeReader } from './quarantine.js';
import { engineUnpackOf, rowsForJavaScript, unpackInEngine } from './engine-unpack.js';
import { consumeReplay } from './replay.js';
import { commitMaintenance, dueMaintenance } from './maintenance.js';

export { REFRESH_ROOT, endpointFailureKey, runPrefix, stateKey, tableRef };

/**
 * The refresh workflow's steps, one function per state. They read and write through an object
 * store and return small JSON (the state machine's payloads stay far below 256 KiB: file lists
 * and staged rows live in the store, under `_refresh/runs/<run>/`).
 */

/** What every step needs; the wiring module of each environment provides it. */
export interface RefreshDeps {
  readonly config: Config;
  readonly store: ObjectStore;
  /** The SQL dialect of the environment's engine. */
  readonly dialect: Dialect;
  /** Glue database (Athena); table names are qualified with it. */
  readonly database?: string;
  readonly now?: () => Date;
  /** Reads the unpacked and payload tables for the metrics step. */
  readonly engine?: QueryEngine;
  /** Folder baseline files are resolved from (the project root, or the function's package). */
  readonly projectRoot?: string;
  /** Publishes each refresh's metrics for alarms (CloudWatch on AWS). */
  readonly publisher?: MetricsPublisher;
  /** Publishes the health of the tables after each run (embedded metric format on AWS). */
  readonly healthPublisher?: MetricsPublisher;
  /** The capture streams' conversion settings (`doctor --env`). */
  readonly streams?: DeliveryStreams;
}

/** Files listed again behind the watermark: S3 stamps an object when its upload starts, so one can appear later than a newer one. */
export const LIST_MARGIN_MS = 15 * 60_000;

/** Watermarks and schema of one endpoint, kept between runs. */
export interface EndpointState {
  readonly endpoint: string;
  /** Payload files modified up to this instant (epoch ms) are processed… */
  files_through: number;
  /** …and so are these, modified within the margin before it (key, epoch ms). */
  recent_files: { key: string; t: number }[];
  /** Labels uploaded up to this instant are attached. */
  labels_through: string;
  /** Feature columns of the unpacked table; null until it exists. */
  columns: FeatureColumn[] | null;
  prediction_type: ColumnType | null;
  first_date: string | null;
  last_date: string | null;
  /** The last UTC day the tables' upkeep ran (retention, and OPTIMIZE and VACUUM on Athena); absent in states of earlier releases. */
  maintained_on?: string | null;
}

/** What one endpoint's commit did, reported by the run. */
export interface EndpointReport {
  readonly endpoint: string;
  readonly files: number;
  readonly backlog: number;
  readonly requests: number;
  readonly skipped_status: number;
  readonly predictions: number;
  readonly rejected: number;
  /** Payload files moved to the quarantine because they could not be read (the full report names them). */
  readonly quarantined: number;
  readonly statements: number;
  readonly labels_checked: boolean;
  /** Windows whose metrics this run computed, and the alerts they raised. */
  readonly metric_windows: number;
  readonly alerts: number;
  /** Labels (of all uploads) that cannot be read as the predictions' type, and labels that match no prediction; counted when labels arrived. */
  readonly labels_refused: number;
  readonly labels_unmatched: number;
  /** The most frequent signature disagreements (all of them are in the full report). */
  readonly disagreements: Record<string, number>;
  /** Key of the full report: every disagreement, the columns, the dates. */
  readonly report: string;
}

/**
 * Disagreements a report carries in the workflow's state. Reports of every endpoint travel
 * in one execution state, which Step Functions caps at 256 KiB.
 */
export const REPORTED_DISAGREEMENTS = 20;


/** The endpoints whose captured requests are unpacked: configured endpoints and classic-route models. */
export function capturedEndpoints(config: Config): string[] {
  return [...new Set([...config.endpoints.map((e) => e.name), ...config.models.map((m) => m.name)])].filter((n) => n !== UNROUTED_ENDPOINT);
}

/** A JSON object of the store, or undefined. */
export async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  const bytes = await store.get(key);
  return bytes ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as T) : undefined;
}

/** Writes a JSON object to the store. */
export const writeJson = (store: ObjectStore, key: string, value: unknown) => store.put(key, JSON.stringify(value));

/** The state of an endpoint, or the state before its first run. */
export async function readEndpointState(store: ObjectStore, endpoint: string): Promise<EndpointState> {
  return (
    (await readJson<EndpointState>(store, stateKey(endpoint))) ?? {
      endpoint,
      files_through: 0,
      recent_files: [],
      labels_through: new Date(0).toISOString(),
      columns: null,
      prediction_type: null,
      first_date: null,
      last_date: null,
    }
  );
}

/**
 * Newline-delimited JSON, gzipped as it is written: a task holds one file's rows at a time
 * and the compressed output, never all its rows.
 */
export class GzipJsonLines {
  // Staged files live for one run: the fastest compression is the right trade.
  private readonly gzip: Gzip = createGzip({ level: constants.Z_BEST_SPEED });
  private readonly chunks: Buffer[] = [];
  private readonly ended: Promise<unknown>;

  public constructor() {
    this.gzip.on('data', (c: Buffer) => this.chunks.push(c));
    this.ended = once(this.gzip, 'end');
  }

  /** Writes lines that are JSON already. */
  public async writeLines(lines: readonly string[]): Promise<void> {
    // In slices, so no one string grows past what V8 allows.
    for (let i = 0; i < lines.length; i += 10_000) {
      const text = `${lines.slice(i, i + 10_000).join('\n')}\n`;
      if (!this.gzip.write(text)) await once(this.gzip, 'drain');
    }
  }

  public async write(rows: readonly object[]): Promise<void> {
    await this.writeLines(rows.map((r) => JSON.stringify(r)));
  }

  public async end(): Promise<Uint8Array> {
    this.gzip.end();
    await this.ended;
    return Buffer.concat(this.chunks);
  }
}

/** Step 2 (one per task, in parallel): unpacks the task's payload files into staged rows. */
export async function unpackTask(deps: RefreshDeps, task: UnpackTask): Promise<{ endpoint: string; task: string; predictions: number; rejected: number }> {
  const manifest = await readJson<{ files: (Omit<StoredObject, 'lastModified'> & { lastModified: string })[] }>(deps.store, task.manifest);
  if (!manifest) throw new Error(`Task manifest ${task.manifest} is missing`);
  const signature = declaredSignature(deps.config, task.endpoint);
  // Rows of the engine's formats are read by the commit's statements, not here.
  const engineRows = engineUnpackOf(deps, task.endpoint);
  const predictions = new GzipJsonLines();
  const rejects = new GzipJsonLines();
  const summary = emptySummary();
  for (const f of manifest.files) {
    const file = storeReader(deps.store, { ...f, lastModified: new Date(f.lastModified) });
    const date = partitionDate(f.key);
    if (!date) throw new Error(`Payload file ${f.key} is not in a date partition`);
    let rows: Omit<CapturedRow, 'date'>[];
    try {
      const read = await rowsForJavaScript(file, engineRows);
      rows = read.rows;
      summary.engine_rows = (summary.engine_rows ?? 0) + read.engineRows;
    } catch (error) {
      // The store failing is retried; a file that is not a readable payload file must not
      // hold back every file and run after it: it leaves the table, with its reason.
      if (error instanceof StoreReadError) throw error;
      summary.quarantined.push(await quarantineFile(deps.store, f.key, `not a readable payload file: ${(error as Error).message.slice(0, 300)}`, task.run_id));
      continue;
    }
    const unpacked = unpackCapturedRows(
      rows.map((r) => ({ ...r, date })),
      signature,
    );
    await predictions.writeLines(unpacked.predictions);
    await rejects.write(unpacked.rejects);
    addSummary(summary, unpacked.summary);
  }
  const prefix = runPrefix(task.run_id, task.endpoint);
  await deps.store.put(`${prefix}predictions/${task.task}.jsonl.gz`, await predictions.end());
  await deps.store.put(`${prefix}rejects/${task.task}.jsonl.gz`, await rejects.end());
  await writeJson(deps.store, `${prefix}summaries/${task.task}.json`, summary);
  return { endpoint: task.endpoint, task: task.task, predictions: summary.predictions, rejected: summary.rejected };
}


/** Step 3: merges the run's summaries, settles the columns, and writes the endpoint's SQL. */
export async function prepareCommit(deps: RefreshDeps, run: EndpointRun): Promise<{ run_id: string; endpoint: string; statements: { sql: string }[] }> {
  const prefix = runPrefix(run.run_id, run.endpoint);
  const summary = emptySummary();
  const summaries = await deps.store.list(`${prefix}summaries/`);
  // A task that failed for good left no summary: committing without it would skip its files.
  if (summaries.length < run.tasks) throw new Error(`${run.tasks - summaries.length} of ${run.tasks} unpack tasks of ${run.endpoint} failed; its files are taken again by the next run.`);
  for (const o of summaries) {
    addSummary(summary, (await readJson<UnpackSummary>(deps.store, o.key)) as UnpackSummary);
  }
  const engineTables = await unpackInEngine(deps, run, summary);
  const state = await readEndpointState(deps.store, run.endpoint);
  const signature = declaredSignature(deps.config, run.endpoint);
  const observed = Object.fromEntries(Object.entries(summary.features).map(([f, t]) => [f, t ?? 'VARCHAR'])) as Record<string, ColumnType>;
  const existing = state.columns ?? (signature ? declaredColumns(signature) : []);
  const columns = mergeColumns(existing, observed);
  // A table is created by the first run that has rows for it, so its types come from data.
  const hasRows = summary.requests > 0;
  if (state.columns === null && !hasRows) {
    await writeJson(deps.store, `${prefix}commit.json`, { summary, columns: null, prediction_type: null, first_date: null, last_date: null, labels_checked: false, statements: 0 });
    return { run_id: run.run_id, endpoint: run.endpoint, statements: [] };
  }
  const create = state.columns === null;
  const newColumns = create ? [] : columns.slice(existing.length);
  const predictionType: ColumnType = state.prediction_type ?? summary.prediction_type ?? 'VARCHAR';
  const stagedTypes = Object.fromEntries(
    Object.entries(summary.features).map(([f, t]) => [columns.find((c) => c.feature === f)?.column ?? featureColumnName(f), t ?? 'VARCHAR']),
  ) as Record<string, ColumnType>;
  const first = [state.first_date, summary.dates[0]].filter((d): d is string => !!d).sort()[0];
  const last = [state.last_date, summary.dates.at(-1)].filter((d): d is string => !!d).sort().at(-1);
  const labelsTable = tableName(run.endpoint, 'labels');
  const newLabels = (await deps.store.list(`${labelsTable}/`)).some((o) => o.lastModified.getTime() > Date.parse(state.labels_through));
  const runTag = run.run_id.replace(/[^a-z0-9]/gi, '_').toLowerCase();
  const statements = commitStatements({
    dialect: deps.dialect,
    runId: run.run_id,
    startedAt: new Date(run.started_at),
    unpacked: tableRef(deps, tableName(run.endpoint, 'unpacked'), deps.store.location(`${tableName(run.endpoint, 'unpacked')}/`)),
    errors: tableRef(deps, tableName(run.endpoint, 'unpack_errors'), deps.store.location(`${tableName(run.endpoint, 'unpack_errors')}/`)),
    recompute: tableRef(deps, tableName(run.endpoint, 'recompute_windows'), deps.store.location(`${tableName(run.endpoint, 'recompute_windows')}/`)),
    labels: tableRef(deps, labelsTable, deps.store.location(`${labelsTable}/`)),
    stagedPredictions: tableRef(deps, `${tableName(run.endpoint, 'unpacked')}_staged_${runTag}`, deps.store.location(`${prefix}predictions/`)),
    stagedRejects: tableRef(deps, `${tableName(run.endpoint, 'unpack_errors')}_staged_${runTag}`, deps.store.location(`${prefix}rejects/`)),
    columns,
    stagedTypes,
    predictionType,
    newColumns,
    createTables: create,
    dates: hasRows ? summary.dates : [],
    labelsAfter: new Date(state.labels_through),
    dateRange: newLabels && first && last ? { first, last } : null,
    engineTables,
  });
  const maintenance = dueMaintenance(state.maintained_on, run.started_at);
  if (maintenance) statements.push(...commitMaintenance(deps, run.endpoint, maintenance));
  await writeJson(deps.store, `${prefix}commit.json`, { summary, columns, prediction_type: predictionType, first_date: first ?? null, last_date: last ?? null, labels_checked: newLabels, statements: statements.length, maintenance });
  return { run_id: run.run_id, endpoint: run.endpoint, statements: statements.map((sql) => ({ sql })) };
}

/** Step 4: moves the endpoint's watermarks, records the report, removes the staged files. */
export async function finishEndpoint(deps: RefreshDeps, run: EndpointRun): Promise<EndpointReport> {
  const prefix = runPrefix(run.run_id, run.endpoint);
  const plan = await readJson<{ files_through: number; recent_files: { key: string; t: number }[]; replayed?: string[] }>(deps.store, `${prefix}plan.json`);
  const commit = await readJson<{
    summary: UnpackSummary;
    columns: FeatureColumn[] | null;
    prediction_type: ColumnType | null;
    first_date: string | null;
    last_date: string | null;
    labels_checked: boolean;
    statements: number;
    maintenance?: string | null;
  }>(
    deps.store,
    `${prefix}commit.json`,
  );
  if (!plan || !commit) throw new Error(`Run ${run.run_id} has no plan or commit for ${run.endpoint}`);
  const previous = await readEndpointState(deps.store, run.endpoint);
  const state: EndpointState = {
    endpoint: run.endpoint,
    files_through: plan.files_through,
    recent_files: plan.recent_files,
    // Labels are looked at again for a margin: an upload stamped before the run may land after it.
    labels_through: new Date(Date.parse(run.started_at) - LIST_MARGIN_MS).toISOString(),
    columns: commit.columns,
    prediction_type: commit.prediction_type,
    first_date: commit.first_date,
    last_date: commit.last_date,
    maintained_on: commit.maintenance ?? previous.maintained_on ?? null,
  };
  await writeJson(deps.store, stateKey(run.endpoint), state);
  await consumeReplay(deps.store, run.endpoint, plan.replayed ?? []);
  await deps.store.delete([endpointFailureKey(run.endpoint)]);
  const full = {
    ...commit.summary,
    endpoint: run.endpoint,
    files: run.files,
    backlog: run.backlog,
    statements: commit.statements,
    columns: commit.columns ?? [],
    labels_checked: commit.labels_checked,
  };
  const reportKey = `${prefix}report.json`;
  await writeJson(deps.store, reportKey, full);
  const staged = (await deps.store.list(prefix)).map((o) => o.key).filter((k) => k !== reportKey);
  await deps.store.delete(staged);
  const { summary } = commit;
  const top = Object.entries(summary.disagreements)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, REPORTED_DISAGREEMENTS);
  return {
    endpoint: run.endpoint,
    files: run.files,
    backlog: run.backlog,
    requests: summary.requests,
    skipped_status: summary.skipped_status,
    predictions: summary.predictions,
    rejected: summary.rejected,
    quarantined: summary.quarantined?.length ?? 0,
    statements: commit.statements,
    labels_checked: commit.labels_checked,
    metric_windows: run.metrics?.windows ?? 0,
    alerts: run.metrics?.alerts ?? 0,
    labels_refused: run.metrics?.labels_refused ?? 0,
    labels_unmatched: run.metrics?.labels_unmatched ?? 0,
    disagreements: Object.fromEntries(top),
    report: deps.store.location(reportKey),
  };
}
