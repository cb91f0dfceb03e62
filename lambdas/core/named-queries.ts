import { tableName } from './names.js';
import { SERVED_ENTITIES_VIEW } from './served-entities.js';
import { USAGE_VIEW } from './usage-view.js';

/** A saved query for the common questions about an endpoint's payload table. */
export interface NamedQuery {
  /** Unique within the environment. */
  readonly name: string;
  readonly description: string;
  /** Athena SQL; `?` marks a parameter the console asks for. Runs locally too. */
  readonly sql: string;
}

/**
 * The saved queries of one endpoint, in Athena SQL (unqualified table names: the saved
 * query carries its database). The same text runs on the local tables.
 */
export function namedQueries(endpoint: string): NamedQuery[] {
  const table = tableName(endpoint, 'payload');
  return [
    {
      name: `${endpoint}: recent requests`,
      description: `The last 100 requests to ${endpoint} over the past day, newest first.`,
      sql: [
        `SELECT request_time, status_code, execution_time_ms, request_metadata['served_entity_name'] AS served_entity,`,
        `       client_request_id, request_id, requester, logging_error_codes`,
        `FROM ${table}`,
        `WHERE date >= date_format(current_date - INTERVAL '1' DAY, '%Y-%m-%d')`,
        `ORDER BY request_time DESC`,
        `LIMIT 100`,
      ].join('\n'),
    },
    {
      name: `${endpoint}: error rate and latency by model version`,
      description: `Requests, error rate and backend latency percentiles per model version of ${endpoint} over the past 7 days.`,
      sql: [
        `SELECT request_metadata['model_name'] AS model_name, request_metadata['model_version'] AS model_version,`,
        `       count(*) AS requests,`,
        `       avg(CASE WHEN status_code >= 400 THEN 1e0 ELSE 0e0 END) AS error_rate,`,
        `       approx_percentile(execution_time_ms, 0.5) AS p50_ms,`,
        `       approx_percentile(execution_time_ms, 0.95) AS p95_ms,`,
        `       approx_percentile(execution_time_ms, 0.99) AS p99_ms`,
        `FROM ${table}`,
        `WHERE date >= date_format(current_date - INTERVAL '7' DAY, '%Y-%m-%d')`,
        `GROUP BY 1, 2`,
        `ORDER BY 1, 2`,
      ].join('\n'),
    },
    {
      name: `${endpoint}: request by client_request_id`,
      description: `Every capture of one client_request_id sent to ${endpoint} (the console asks for the id).`,
      sql: [`SELECT *`, `FROM ${table}`, `WHERE client_request_id = ?`, `ORDER BY request_time`].join('\n'),
    },
  ];
}

/**
 * The saved queries over the environment's views, one set per environment: tokens per caller
 * for cost attribution (weighted by the sampling fraction), and what is served.
 */
export function environmentQueries(): NamedQuery[] {
  return [
    {
      name: 'tokens by caller and endpoint',
      description: 'Calls and input and output tokens per requester and endpoint over the past 30 days, weighted by 1/sampling_fraction, from endpoint_usage.',
      sql: [
        `SELECT requester, endpoint,`,
        `       CAST(round(sum(1 / sampling_fraction)) AS BIGINT) AS calls,`,
        `       CAST(round(sum(input_tokens / sampling_fraction)) AS BIGINT) AS input_tokens,`,
        `       CAST(round(sum(output_tokens / sampling_fraction)) AS BIGINT) AS output_tokens,`,
        `       count_if(tokens_counted) AS rows_counted_by_the_proxy`,
        `FROM ${USAGE_VIEW}`,
        `WHERE date >= date_format(current_date - INTERVAL '30' DAY, '%Y-%m-%d') AND status_code = 200`,
        `GROUP BY 1, 2`,
        `ORDER BY 4 DESC`,
      ].join('\n'),
    },
    {
      name: 'served entities',
      description: 'Every served entity configured, what it calls, its traffic share and when it was configured, current ones first.',
      sql: [
        `SELECT endpoint, served_entity_name, entity_name, entity_version, stage, backend_type, backend_target, traffic_percentage, configured_from, configured_until`,
        `FROM ${SERVED_ENTITIES_VIEW}`,
        `ORDER BY active DESC, endpoint, served_entity_name`,
      ].join('\n'),
    },
  ];
}
