import {
  type AthenaClient,
  type ColumnInfo,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { randomUUID } from 'node:crypto';
import { parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import { type ColumnarResult, type ObjectStore, type QueryEngine, QueryError, type QueryResult, toColumns } from '../../core/ports.js';

/** Athena bills $5 per TB scanned in most regions, each query at least 10 MB, rounded up to the MB. */
export const ATHENA_PRICE_PER_TB_USD = 5;
const MIN_BILLED_BYTES = 10 * 1024 * 1024;
const MB = 1024 * 1024;

/** The price of a query that scanned `bytes`, in US dollars. */
export function athenaQueryCost(bytes: number, pricePerTb = ATHENA_PRICE_PER_TB_USD): number {
  const billed = Math.max(MIN_BILLED_BYTES, Math.ceil(bytes / MB) * MB);
  return (billed / 1024 ** 4) * pricePerTb;
}

/** Options of {@link AthenaQueryEngine}. */
export interface AthenaQueryEngineOptions {
  readonly workgroup: string;
  readonly database: string;
  /** First wait between status checks; it grows by half each time up to `maxPollMs`. */
  readonly firstPollMs?: number;
  readonly maxPollMs?: number;
  /** Give up (and stop the query) after this long; reading its results counts. */
  readonly timeoutMs?: number;
  /**
   * Rows `query` reads at most, plus one to tell there were more (the console's limit): the
   * rest of the pages are not fetched.
   */
  readonly maxRows?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Where `queryColumns` unloads large results as Parquet (a prefix of the workgroup's
   * bucket), instead of paging them 1,000 rows per call.
   */
  readonly unload?: { readonly store: ObjectStore; readonly prefix: string; readonly newId?: () => string };
}

const NUMERIC = new Set(['tinyint', 'smallint', 'integer', 'int', 'double', 'float', 'real', 'decimal']);

/** Athena returns every value as text; numbers and booleans become JSON values, 64-bit integers when exact. */
function converterFor(column: ColumnInfo): (text: string) => unknown {
  const type = column.Type?.toLowerCase() ?? 'varchar';
  if (type === 'bigint') return (t) => (Number.isSafeInteger(Number(t)) ? Number(t) : t);
  if (NUMERIC.has(type)) return (t) => Number(t);
  if (type === 'boolean') return (t) => t === 'true';
  return (t) => t;
}

/**
 * Runs SQL on a deployed environment through its Athena workgroup: starts the query, polls
 * with backoff, pages through the results, and reports the bytes scanned and their price.
 */
export class AthenaQueryEngine implements QueryEngine {
  private running: string | undefined;

  public constructor(
    private readonly client: AthenaClient,
    private readonly options: AthenaQueryEngineOptions,
  ) {}

  public async query(sql: string): Promise<QueryResult> {
    const deadline = Date.now() + (this.options.timeoutMs ?? 30 * 60_000);
    const { id, execution } = await this.execute(sql, deadline);
    const result = await this.readResults(id, execution, deadline);
    const bytes = execution.Statistics?.DataScannedInBytes ?? 0;
    return {
      ...result,
      stats: { queryId: id, bytesScanned: bytes, engineTimeMs: execution.Statistics?.EngineExecutionTimeInMillis ?? 0, costUsd: athenaQueryCost(bytes) },
    };
  }

  /**
   * A result by column. With `unload`, Athena writes it as Parquet (UNLOAD) and it is read
   * from the bucket by column, then removed: GetQueryResults pages 1,000 rows per call, which
   * for the millions of rows of a day of predictions would take longer than a Lambda may run.
   */
  public async queryColumns(sql: string): Promise<ColumnarResult> {
    const unload = this.options.unload;
    if (!unload) return toColumns(await this.query(sql));
    const prefix = `${unload.prefix}${unload.newId?.() ?? randomUUID()}/`;
    await this.execute(`UNLOAD (${sql}) TO '${unload.store.location(prefix)}' WITH (format = 'PARQUET', compression = 'SNAPPY')`);
    const files = (await unload.store.list(prefix)).sort((a, b) => a.key.localeCompare(b.key));
    let columns: string[] = [];
    const data: unknown[][] = [];
    try {
      for (const f of files) {
        const file = unload.store.reader(f);
        const metadata = await parquetMetadataAsync(file);
        const names = parquetSchema(metadata).children.map((c) => c.element.name);
        if (columns.length === 0) {
          columns = names;
          for (const _ of names) data.push([]);
        }
        const offset = data[0]?.length ?? 0;
        const rows = Number(metadata.num_rows);
        for (const d of data) d.length = offset + rows;
        await parquetRead({
          file,
          metadata,
          onChunk: (chunk) => {
            const target = data[names.indexOf(chunk.columnName)];
            if (!target) return;
            for (let k = 0; k < chunk.columnData.length; k++) {
              const v = chunk.columnData[k] as unknown;
              target[offset + chunk.rowStart + k] = typeof v === 'bigint' ? Number(v) : v;
            }
          },
        });
      }
    } finally {
      await unload.store.delete(files.map((f) => f.key));
    }
    return { columns, data };
  }

  /** Starts a statement and waits for it to succeed. */
  private async execute(sql: string, deadline = Date.now() + (this.options.timeoutMs ?? 30 * 60_000)): Promise<{ id: string; execution: QueryExecution }> {
    const { QueryExecutionId: id } = await this.client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        WorkGroup: this.options.workgroup,
        QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: this.options.database },
      }),
    );
    if (!id) throw new QueryError('Athena started no query (no QueryExecutionId).');
    this.running = id;
    try {
      return { id, execution: await this.waitFor(id, deadline) };
    } finally {
      this.running = undefined;
    }
  }

  /** Stops the query in flight, if any (Ctrl-C in the CLI). */
  public async cancel(): Promise<void> {
    const id = this.running;
    if (id) await this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
  }

  public close(): void {
    this.client.destroy();
  }

  private async waitFor(id: string, deadline: number): Promise<QueryExecution> {
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let wait = this.options.firstPollMs ?? 200;
    for (;;) {
      const { QueryExecution: execution } = await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const state = execution?.Status?.State;
      if (execution && state === 'SUCCEEDED') return execution;
      if (state === 'FAILED' || state === 'CANCELLED') {
        const reason = execution?.Status?.AthenaError?.ErrorMessage ?? execution?.Status?.StateChangeReason ?? 'no reason given';
        throw new QueryError(`Athena query ${id} ${state === 'FAILED' ? 'failed' : 'was cancelled'}: ${reason}`);
      }
      if (Date.now() > deadline) {
        await this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
        throw new QueryError(`Athena query ${id} did not finish in time; it was stopped.`);
      }
      await sleep(wait);
      wait = Math.min(Math.ceil(wait * 1.5), this.options.maxPollMs ?? 2_000);
    }
  }

  private async readResults(id: string, execution: QueryExecution, deadline = Infinity): Promise<{ columns: string[]; rows: Record<string, unknown>[] }> {
    let columns: string[] = [];
    let convert: ((text: string) => unknown)[] = [];
    const rows: Record<string, unknown>[] = [];
    // SELECT results start with a row of column names; DDL and SHOW results do not.
    let skipHeader = execution.StatementType === 'DML';
    let token: string | undefined;
    do {
      const page = await this.client.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }));
      if (columns.length === 0) {
        const info = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
        columns = info.map((c, i) => c.Label ?? c.Name ?? `_col${i}`);
        convert = info.map(converterFor);
      }
      for (const row of page.ResultSet?.Rows ?? []) {
        if (skipHeader) {
          skipHeader = false;
          continue;
        }
        const data = row.Data ?? [];
        rows.push(Object.fromEntries(columns.map((c, i) => [c, data[i]?.VarCharValue === undefined ? null : (convert[i] as (t: string) => unknown)(data[i]!.VarCharValue!)])));
      }
      token = page.NextToken;
      if (token && Date.now() > deadline) throw new QueryError(`Athena query ${id}'s results took too long to read: ${rows.length} rows read, more left.`);
    } while (token && rows.length <= (this.options.maxRows ?? Infinity));
    return { columns, rows };
  }
}
