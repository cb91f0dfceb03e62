import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { PARQUET_OF_GLUE, localParquetSchema } from '../helpers/parquet.js';
import { sample } from '../helpers/records.js';
import { type CaptureRecord, captureRecordSchema, conversionProblem, glueColumns, gluePartitionKeys, parquetColumns, payloadColumns } from '../../lambdas/core/capture-record.js';

/** The payload table of reference/tables.md: column, type. */
// The columns of ../shared/reference/tables.md, then those added since (request_format, the streaming flag, time to first token and the tokens).
const TABLES_MD: [string, string][] = [
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
];

describe('The capture record, defined once', () => {
  let parquet: Map<string, string>;

  beforeAll(async () => {
    parquet = await localParquetSchema();
  });

  it('has exactly the columns of the payload table, in order, partitions last', () => {
    expect(payloadColumns.map((c) => [c.name, c.glueType])).toEqual([...TABLES_MD, ['request_format', 'string'], ['streamed', 'boolean'], ['time_to_first_token_ms', 'bigint'], ['input_tokens', 'bigint'], ['output_tokens', 'bigint'], ['tokens_counted', 'boolean'], ['endpoint', 'string'], ['date', 'string']]);
    expect(gluePartitionKeys().map((p) => p.name)).toEqual(['endpoint', 'date']);
  });

  it('derives Glue columns and Parquet columns that agree name by name and type by type', () => {
    const glue = glueColumns();
    expect(glue.map((c) => c.name)).toEqual(parquetColumns().map((c) => c.name));
    for (const column of glue) {
      expect(parquet.get(column.name), column.name).toBe(PARQUET_OF_GLUE[column.type]);
    }
  });

  it('writes the partition columns into the path, not the file', () => {
    expect(parquet.has('endpoint')).toBe(false);
    expect(parquet.has('date')).toBe(false);
  });

  it('gives a TypeScript type that matches the columns', () => {
    expectTypeOf<CaptureRecord['timestamp_ms']>().toEqualTypeOf<number>();
    expectTypeOf<CaptureRecord['client_request_id']>().toEqualTypeOf<string | null>();
    expectTypeOf<CaptureRecord['request_metadata']>().toEqualTypeOf<Record<string, string>>();
    expectTypeOf<CaptureRecord['logging_error_codes']>().toEqualTypeOf<string[]>();
    expectTypeOf<keyof CaptureRecord>().toEqualTypeOf<
      | 'request_id' | 'client_request_id' | 'timestamp_ms' | 'request_time' | 'status_code' | 'sampling_fraction' | 'execution_time_ms'
      | 'request' | 'response' | 'request_metadata' | 'served_entity_id' | 'logging_error_codes' | 'requester' | 'request_format' | 'streamed' | 'time_to_first_token_ms'
      | 'input_tokens' | 'output_tokens' | 'tokens_counted' | 'endpoint' | 'date'
    >();
    expect(Object.keys(captureRecordSchema.shape)).toEqual(payloadColumns.map((c) => c.name));
  });

  it('finds records a conversion to the columns would reject', () => {
    expect(conversionProblem(sample)).toBeNull();
    expect(conversionProblem({ ...sample, status_code: '200' })).toBe('status_code: not a int');
    expect(conversionProblem({ ...sample, request_id: null })).toBe('request_id: required');
    expect(conversionProblem({ ...sample, request_metadata: { a: 1 } })).toBe('request_metadata: not a map<string,string>');
    expect(conversionProblem({ ...sample, extra: 1 })).toBe('unknown field extra');
    expect(conversionProblem([])).toBe('record is not a JSON object');
  });

  it('rejects records that do not fit the columns', () => {
    expect(captureRecordSchema.safeParse({ ...sample, status_code: 99 }).success).toBe(false);
    expect(captureRecordSchema.safeParse({ ...sample, request_time: '2026-11-22T10:11:12Z' }).success).toBe(false);
    expect(captureRecordSchema.safeParse({ ...sample, extra: 1 }).success).toBe(false);
  });
});
