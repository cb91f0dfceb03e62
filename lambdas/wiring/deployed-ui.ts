import { AthenaClient, BatchGetNamedQueryCommand, ListNamedQueriesCommand } from '@aws-sdk/client-athena';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { AthenaQueryEngine } from '../adapters/aws/athena-query-engine.js';
import { TranslationError } from '../core/athena-sql/functions.js';
import { SqlSyntaxError } from '../core/athena-sql/parse.js';
import { checkReadOnly } from '../core/athena-sql/read-only.js';
import type { Config } from '../core/config/index.js';
import type { NamedQuery } from '../core/named-queries.js';
import { environmentNames } from '../core/names.js';
import { QueryError } from '../core/ports.js';
import type { AlarmState, UiSource } from '../ui/source.js';
import { DeployedEnvironmentError, clientOptions, environmentServing, environmentStore } from './deployed.js';

/** Named queries read per call of BatchGetNamedQuery, Athena's limit. */
const NAMED_QUERY_BATCH = 50;

/**
 * The endpoint page's source for a deployed environment (`inference-tables ui --env NAME`),
 * read with the user's own credentials: Athena in the environment's workgroup, its bucket,
 * its serving-state table and its CloudWatch alarms. Nothing is deployed for it, and nothing
 * new is exposed in the account: the page is served on loopback by the user's machine.
 */
export async function environmentUiSource(config: Config, projectRoot: string): Promise<UiSource> {
  const names = environmentNames(config.environment, config.database);
  const [store, serving] = await Promise.all([environmentStore(config), environmentServing(config)]);
  const athena = (limits?: { timeoutMs: number; maxRows: number }) =>
    new AthenaQueryEngine(new AthenaClient(clientOptions(config)), { workgroup: names.workgroup, database: names.database, ...(limits ? { timeoutMs: limits.timeoutMs, maxRows: limits.maxRows } : {}) });
  return {
    where: { kind: 'aws', environment: config.environment, workgroup: names.workgroup, database: names.database },
    config: () => serving.current(),
    open: () => Promise.resolve(athena()),
    console: async (sql, limits) => {
      try {
        checkReadOnly(sql, names.database);
      } catch (error) {
        if (error instanceof SqlSyntaxError || error instanceof TranslationError) throw new QueryError(error.message, { cause: error });
        throw error;
      }
      // The time limit covers reading the results, and no page past the row limit is read.
      const engine = athena(limits);
      try {
        const result = await engine.query(sql);
        return { columns: result.columns, rows: result.rows.slice(0, limits.maxRows), truncated: result.rows.length > limits.maxRows, ...(result.stats ? { stats: result.stats } : {}) };
      } finally {
        engine.close();
      }
    },
    store,
    namedQueries: () => workgroupQueries(config, names.workgroup),
    projectRoot,
    alarms: () => environmentAlarms(config, `${names.stack}-`),
  };
}

/** The workgroup's saved queries, as the stack created them (and any the team added). */
async function workgroupQueries(config: Config, workgroup: string): Promise<NamedQuery[]> {
  const client = new AthenaClient(clientOptions(config));
  try {
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListNamedQueriesCommand({ WorkGroup: workgroup, NextToken: token }));
      ids.push(...(page.NamedQueryIds ?? []));
      token = page.NextToken;
    } while (token);
    const out: NamedQuery[] = [];
    for (let i = 0; i < ids.length; i += NAMED_QUERY_BATCH) {
      const batch = await client.send(new BatchGetNamedQueryCommand({ NamedQueryIds: ids.slice(i, i + NAMED_QUERY_BATCH) }));
      for (const q of batch.NamedQueries ?? []) out.push({ name: q.Name ?? q.NamedQueryId ?? '', description: q.Description ?? '', sql: q.QueryString ?? '' });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  } catch (error) {
    throw new DeployedEnvironmentError(`cannot list the named queries of workgroup ${workgroup}: ${(error as Error).message}`, { cause: error });
  } finally {
    client.destroy();
  }
}

/** The environment's alarms (their names start with the stack's). */
async function environmentAlarms(config: Config, prefix: string): Promise<AlarmState[]> {
  const client = new CloudWatchClient(clientOptions(config));
  try {
    const out: AlarmState[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, NextToken: token }));
      for (const a of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
        out.push({ name: a.AlarmName ?? '', state: a.StateValue ?? 'INSUFFICIENT_DATA', reason: a.StateReason ?? '', updated_at: a.StateUpdatedTimestamp?.toISOString() ?? null });
      }
      token = page.NextToken;
    } while (token);
    return out.sort((a, b) => a.name.localeCompare(b.name));
  } catch (error) {
    throw new DeployedEnvironmentError(`cannot read the alarms of ${prefix.slice(0, -1)}: ${(error as Error).message}`, { cause: error });
  } finally {
    client.destroy();
  }
}
