import { LLM_FIELDS } from './input-formats.js';

/**
 * `endpoint_usage`: one row per LLM call (chat, completions, embeddings) of every endpoint and
 * classic-route model, the product's answer to token-based cost attribution per caller
 * (Databricks' `system.serving.endpoint_usage` is the model, one table for all endpoints). One
 * view over the payload tables rather than one per endpoint: a caller's cost across endpoints
 * is one query, and the stack gains one resource however many endpoints it has
 * (CloudFormation allows 500). It is as fresh as the payload and needs no refresh.
 * Tokens are the capture record's: the backend's `usage` when it reported one, else counted by
 * the proxy (`tokens_counted`). Rows are those captured: with a sampling fraction below 1,
 * weigh each by `1 / sampling_fraction` for totals. One SQL text, which Athena runs and the
 * local engine runs with its Athena functions.
 */

/** The view's name. */
export const USAGE_VIEW = 'endpoint_usage';

/** The view's columns: name, Athena (Trino) type, Glue (Hive) type. */
export const USAGE_COLUMNS = [
  ['endpoint', 'varchar', 'string'],
  ['request_id', 'varchar', 'string'],
  ['client_request_id', 'varchar', 'string'],
  ['request_time', 'timestamp(3)', 'timestamp'],
  ['date', 'varchar', 'string'],
  ['requester', 'varchar', 'string'],
  ['served_entity_id', 'varchar', 'string'],
  ['served_entity_name', 'varchar', 'string'],
  ['api', 'varchar', 'string'],
  ['status_code', 'integer', 'int'],
  ['input_tokens', 'bigint', 'bigint'],
  ['output_tokens', 'bigint', 'bigint'],
  ['tokens_counted', 'boolean', 'boolean'],
  ['sampling_fraction', 'double', 'double'],
  ['streamed', 'boolean', 'boolean'],
  ['time_to_first_token_ms', 'bigint', 'bigint'],
  ['latency_ms', 'bigint', 'bigint'],
] as const;

/** The API of each LLM input field, as the usage table names it. */
const API_OF: Readonly<Record<(typeof LLM_FIELDS)[number], string>> = { messages: 'chat', prompt: 'completions', input: 'embeddings' };

/** The view's query over the payload tables given (`"db"."iris_payload"` or `iris_payload`). */
export function usageViewQuery(payloadTables: readonly string[]): string {
  const apis = LLM_FIELDS.map((f) => `WHEN '${f}' THEN '${API_OF[f]}'`).join(' ');
  const one = (table: string) => `SELECT endpoint, request_id, client_request_id, request_time, "date", requester, served_entity_id,
  element_at(request_metadata, 'served_entity_name') AS served_entity_name,
  CASE request_format ${apis} END AS api, status_code, input_tokens, output_tokens, tokens_counted, sampling_fraction,
  COALESCE(streamed, false) AS streamed, time_to_first_token_ms, execution_time_ms AS latency_ms
FROM ${table}
WHERE request_format IN (${LLM_FIELDS.map((f) => `'${f}'`).join(', ')})`;
  return payloadTables.map(one).join('\nUNION ALL\n');
}
