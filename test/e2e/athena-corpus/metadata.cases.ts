/**
 * Metadata statements and qualified names. Athena runs SHOW and DESCRIBE as Hive DDL: their
 * result columns carry Hive's names (`tab_name`, `field`, `partition`, `createtab_stmt`,
 * `col_name`/`data_type`) and Hive type names; values are matched allowing Hive's padding.
 * The environment's Glue database is `inference_tables_local` (config/local.json `database`).
 */
import type { Case, Row } from './fixture.js';

/** The payload table's columns with their Glue (Hive) types, partition keys last. */
const PAYLOAD_COLUMNS: readonly (readonly [string, string])[] = [
  ['request_id', 'string'],
  ['client_request_id', 'string'],
  ['timestamp_ms', 'bigint'],
  ['request_time', 'timestamp'],
  ['status_code', 'int'],
  ['sampling_fraction', 'double'],
  ['execution_time_ms', 'bigint'],
  ['request', 'string'],
  ['response', 'string'],
  ['request_metadata', 'map<string,string>'],
  ['served_entity_id', 'string'],
  ['logging_error_codes', 'array<string>'],
  ['requester', 'string'],
  ['request_format', 'string'],
  ['streamed', 'boolean'],
  ['time_to_first_token_ms', 'bigint'],
  ['input_tokens', 'bigint'],
  ['output_tokens', 'bigint'],
  ['tokens_counted', 'boolean'],
  ['endpoint', 'string'],
  ['date', 'string'],
];

/** Text as Hive prints it in a DDL result: the value, perhaps padded with blanks. */
const padded = (text: string) => new RegExp(`^${text.replace(/[<>(),]/g, (c) => `\\${c}`)}\\s*$`);

const fieldRows = (names: readonly string[]): Row[] => names.map((n) => ({ field: padded(n) }));

export const cases: readonly Case[] = [
  {
    name: 'metadata: SHOW PARTITIONS of the payload table lists none',
    sql: `SHOW PARTITIONS iris_payload`,
    rule: 'Athena SHOW PARTITIONS lists the partitions registered in the Glue catalog and does not list partitions projected by Athena; the payload table uses partition projection (lib/constructs/payload-catalog.ts), so no rows',
    expected: [],
  },
  {
    name: 'metadata: SHOW COLUMNS FROM the payload table',
    sql: `SHOW COLUMNS FROM iris_payload`,
    rule: 'Athena SHOW COLUMNS shows only the column names (Hive: column `field`; partition columns included, last, in their declared order endpoint, date)',
    expected: fieldRows(PAYLOAD_COLUMNS.map(([c]) => c)),
    ordered: true,
  },
  {
    name: 'metadata: SHOW COLUMNS IN the labels table',
    sql: `SHOW COLUMNS IN iris_labels`,
    rule: 'SHOW COLUMNS {FROM|IN}; the labels table is partitioned by uploaded',
    expected: fieldRows(['client_request_id', 'row_index', 'label', 'labeled_at', 'uploaded_at', 'source_file', 'uploaded']),
    ordered: true,
  },
  {
    name: 'metadata: SHOW TABLES with a wildcard',
    sql: `SHOW TABLES 'iris_unpack*'`,
    rule: "Athena SHOW TABLES ['regular_expression']: * is a wildcard; result column tab_name",
    expected: [{ tab_name: 'iris_unpack_errors' }, { tab_name: 'iris_unpacked' }],
  },
  {
    name: 'metadata: SHOW TABLES IN the database with a choice',
    sql: `SHOW TABLES IN inference_tables_local 'iris_payload|chat_payload'`,
    rule: 'SHOW TABLES IN database_name; | separates alternatives',
    expected: [{ tab_name: 'chat_payload' }, { tab_name: 'iris_payload' }],
  },
  {
    name: 'metadata: SHOW TABLES finds the views',
    sql: `SHOW TABLES 'endpoint_usage|served_entities'`,
    rule: 'SHOW TABLES lists base tables and views',
    expected: [{ tab_name: 'endpoint_usage' }, { tab_name: 'served_entities' }],
  },
  {
    name: 'metadata: SHOW DATABASES',
    sql: `SHOW DATABASES LIKE 'inference_tables_local'`,
    rule: "Athena SHOW DATABASES [LIKE 'regular_expression'] (column database_name)",
    expected: [{ database_name: 'inference_tables_local' }],
  },
  {
    name: 'metadata: SHOW CREATE TABLE names the table',
    sql: `SHOW CREATE TABLE iris_payload`,
    rule: 'Athena SHOW CREATE TABLE returns the DDL in the Hive column createtab_stmt, one line per row; the first row (or a single row holding the whole text) opens CREATE EXTERNAL TABLE ... iris_payload',
    expected: [{ createtab_stmt: /CREATE\s+EXTERNAL\s+TABLE[\s\S]*iris_payload/i }],
    leading: true,
  },
  {
    name: 'metadata: DESCRIBE the payload table',
    sql: `DESCRIBE iris_payload`,
    rule: 'Athena DESCRIBE (Hive DDL) shows column names and Hive data types, partition columns included in their declared order (endpoint, date); comments are not pinned and the "# Partition Information" rows Hive appends may follow',
    expected: PAYLOAD_COLUMNS.map(([c, t]) => ({ col_name: padded(c), data_type: padded(t) })),
    partial: true,
    leading: true,
  },
  {
    name: 'metadata: information_schema.columns gives Trino types',
    sql: `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'inference_tables_local' AND table_name = 'iris_payload' AND column_name IN ('status_code', 'request_time', 'request_metadata', 'logging_error_codes', 'date', 'execution_time_ms')`,
    rule: 'information_schema.columns data_type uses Trino type names: int -> integer, timestamp -> timestamp(3), map<string,string> -> map(varchar, varchar)',
    expected: [
      { column_name: 'status_code', data_type: 'integer' },
      { column_name: 'request_time', data_type: 'timestamp(3)' },
      { column_name: 'request_metadata', data_type: 'map(varchar, varchar)' },
      { column_name: 'logging_error_codes', data_type: 'array(varchar)' },
      { column_name: 'date', data_type: 'varchar' },
      { column_name: 'execution_time_ms', data_type: 'bigint' },
    ],
  },
  {
    name: 'metadata: information_schema.tables with LIKE ... ESCAPE',
    sql: `SELECT table_name FROM information_schema.tables WHERE table_schema = 'inference_tables_local' AND table_name LIKE 'iris\\_pay%' ESCAPE '\\'`,
    rule: 'information_schema.tables lists the tables of a schema',
    expected: [{ table_name: 'iris_payload' }],
  },
  {
    name: 'metadata: a table qualified by the database',
    sql: `SELECT count(*) AS n FROM inference_tables_local.iris_payload`,
    rule: 'schema.table names resolve in the current catalog (AwsDataCatalog)',
    expected: [{ n: 12 }],
  },
  {
    name: 'metadata: a quoted database-qualified table',
    sql: `SELECT count(*) AS n FROM "inference_tables_local"."iris_payload"`,
    rule: 'each part of a qualified name may be a delimited identifier',
    expected: [{ n: 12 }],
  },
  {
    name: 'metadata: a catalog-qualified table',
    sql: `SELECT count(*) AS n FROM awsdatacatalog.inference_tables_local.iris_unpacked`,
    rule: 'catalog.schema.table: Athena\'s Glue catalog is awsdatacatalog',
    expected: [{ n: 11 }],
  },
  {
    name: 'metadata: columns qualified by the table alias in a qualified join',
    sql: `SELECT count(*) AS n FROM inference_tables_local.iris_payload AS p JOIN inference_tables_local.iris_unpacked AS u ON u.request_id = p.request_id WHERE p.status_code = 200`,
    rule: 'qualified table names with aliases in a join: 11 predictions of the 200s',
    expected: [{ n: 11 }],
  },
];
