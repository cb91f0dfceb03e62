import { type Dialect, type TableRef, judgedRequests, literal } from './refresh-sql.js';
import { SQL_INPUT_FORMATS, type SqlUnpack, judge } from './unpack-sql-judge.js';
import { ATHENA, DUCKDB } from './unpack-sql-json.js';
import { type Signature, columnTypeOf, declaredColumns } from './unpacked-schema.js';

export { SQL_INPUT_FORMATS, type SqlUnpack };

/**
 * The unpack as SQL, for the engine: the captured requests of the four MLflow input formats
 * whose every value fits the declared signature become typed prediction rows in one
 * statement, in DuckDB or Athena (Trino). Only what the engine can judge exactly is taken: a
 * request with anything else (a value not of its declared type, a feature missing or not
 * declared, rows and predictions that differ in number, non-finite or unsafe numbers, nested
 * values, predictions that are objects or lists) is left, whole, to the JavaScript unpacker,
 * which keeps its reasons and counts. Both paths write the same rows (`unpack-sql.test.ts`).
 */

/** Feature names the statements can name in a JSON path of either engine without escaping. */
const PLAIN_NAME = /^[A-Za-z0-9_ .:/-]{1,128}$/;

/**
 * The engine's part of an endpoint's unpack, or null when the JavaScript unpacker takes every
 * request: without a signature declaring the features and one output, types come from the data.
 */
export function sqlUnpackOf(signature: Signature | undefined, dialect: Dialect): SqlUnpack | null {
  const output = signature?.outputs?.length === 1 ? signature.outputs[0] : undefined;
  if (!signature || !output || signature.inputs.length === 0) return null;
  const features = declaredColumns(signature);
  const distinct = (values: string[]) => new Set(values).size === values.length;
  if (!features.every((f) => PLAIN_NAME.test(f.feature)) || !distinct(features.map((f) => f.feature)) || !distinct(features.map((f) => f.column))) return null;
  // CSV cells read as numbers or text by JavaScript's rules: the engine takes only all-double rows, in DuckDB.
  const csv = dialect === 'duckdb' && features.every((f) => f.type === 'DOUBLE') ? ['csv'] : [];
  return { features, outcome: columnTypeOf(output.type), formats: [...SQL_INPUT_FORMATS, ...csv] };
}

/** True when a payload row is the engine's to unpack (the JavaScript unpacker leaves it). */
export function takenBySql(sql: SqlUnpack | null, statusCode: number, requestFormat: string | null | undefined): boolean {
  return sql !== null && statusCode >= 200 && statusCode <= 299 && sql.formats.includes(requestFormat ?? '');
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * The number of a payload row read by DuckDB's `read_parquet` from a list of files: the file's
 * place in the list and the row's in the file. It tells apart the copies of a record delivered
 * twice, as `row_number() OVER ()` does, but each thread computes its own rows' numbers (that
 * window runs in one ordered pass: it halved the judge's speed on two cores).
 */
export const PARQUET_ROW_ID = 'file_index * 4294967296 + file_row_number';

/**
 * The statements that store the engine's unpack of some payload rows in `table`, once, for
 * the summary, the leftovers and the commit's MERGE: a row per prediction of each clean
 * request (`row_index` set, in the staged rows' columns, the prediction as text) and a row
 * per request it leaves, with its bodies, for the JavaScript unpacker. `clean`, `n_rows` and
 * `payload_row` let the summary count requests. In DuckDB the judged requests are stored
 * first (in one statement their checks would be computed for each reader); on Athena the
 * table is Parquet under the run.
 * @param source a FROM item of payload rows (`read_parquet(…)` or the payload table, filtered)
 * @param rowId an expression that numbers the source's rows, each once ({@link PARQUET_ROW_ID} over Parquet files in DuckDB)
 */
export function engineTableStatements(d: Dialect, sql: SqlUnpack, source: string, table: TableRef, rowId = 'row_number() OVER ()'): string[] {
  const j = d === 'athena' ? ATHENA : DUCKDB;
  const values = sql.features.map((f, k) => `v${k + 1} AS ${q(f.column)}`);
  const nulls = sql.features.map((f) => `CAST(NULL AS ${f.type}) AS ${q(f.column)}`);
  const head = 'payload_row, request_id, client_request_id';
  const tail = 'timestamp_ms, "date", model_name, model_version';
  // Rows of the clean requests, then the requests without rows: the ones left, and clean ones of no row.
  const select = `SELECT ${head}, CAST(n - 1 AS INTEGER) AS row_index, ${tail}, ${values.join(', ')}, p AS prediction,
  CAST(NULL AS ${j.doubles}) AS probabilities, true AS clean, n_rows, status_code, CAST(NULL AS VARCHAR) AS request, CAST(NULL AS VARCHAR) AS response
FROM clean_rows
UNION ALL
SELECT ${head}, CAST(NULL AS INTEGER) AS row_index, ${tail}, ${nulls.join(', ')}, CAST(NULL AS VARCHAR) AS prediction,
  CAST(NULL AS ${j.doubles}) AS probabilities, clean, n_rows, status_code, CASE WHEN clean THEN NULL ELSE request END AS request, CASE WHEN clean THEN NULL ELSE response END AS response
FROM requests WHERE NOT clean OR n_rows = 0`;
  const { requests, rows } = judge(d, sql, source, rowId);
  if (d === 'duckdb') {
    const judged = judgedRequests(table);
    return [
      // Each body kept once, where a later step reads it.
      `CREATE OR REPLACE TABLE ${judged} AS WITH ${requests} SELECT * EXCLUDE (rq, rs, request, response, body, csv_header, header),
  CASE WHEN shape = 'csv' OR NOT clean THEN request END AS request, CASE WHEN NOT clean THEN response END AS response,
  CASE WHEN clean AND shape <> 'csv' THEN body END AS body FROM requests`,
      // The rows as a view: the MERGE unnests them once, as it inserts them; none is written twice.
      `CREATE OR REPLACE VIEW ${table.sql} AS WITH requests AS (SELECT * FROM ${judged}), ${rows}\n${select}`,
    ];
  }
  return [
    `DROP TABLE IF EXISTS ${table.sql}`,
    `CREATE TABLE ${table.sql} WITH (format = 'PARQUET', write_compression = 'ZSTD', external_location = ${literal(table.location)}) AS WITH ${requests}, ${rows}\n${select}`,
  ];
}

/** The requests the engine leaves to the JavaScript unpacker, with what it reads of them. */
export function engineLeftoversSql(table: TableRef): string {
  return `SELECT request_id, client_request_id, timestamp_ms, status_code, request, response, model_name, model_version, "date" FROM ${table.sql} WHERE NOT clean`;
}

/**
 * What the engine unpacked, for the run's summary: one row per date and hour with predictions
 * (`date`, `hour` in epoch ms), and one with both NULL for requests that had none; each with
 * its requests, predictions and newest instant. Scalars only, as every engine returns them.
 */
export function engineSummarySql(d: Dialect, table: TableRef): string {
  const j = d === 'athena' ? ATHENA : DUCKDB;
  return `SELECT CASE WHEN n_rows > 0 THEN "date" END AS "date", CASE WHEN n_rows > 0 THEN ${j.hour('timestamp_ms')} END AS hour,
  count(*) AS requests, COALESCE(sum(n_rows), 0) AS predictions, max(timestamp_ms) AS max_timestamp_ms
FROM (SELECT DISTINCT payload_row, "date", timestamp_ms, n_rows FROM ${d === 'duckdb' ? judgedRequests(table) : table.sql} WHERE clean) r
GROUP BY 1, 2`;
}
