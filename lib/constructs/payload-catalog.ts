import { Stack } from 'aws-cdk-lib';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import { Construct } from 'constructs';
import { glueColumns, gluePartitionKeys } from '../../lambdas/core/capture-record.js';
import { UNROUTED_ENDPOINT, tableName } from '../../lambdas/core/names.js';
import { USAGE_COLUMNS, USAGE_VIEW, usageViewQuery } from '../../lambdas/core/usage-view.js';
import { HISTORY_COLUMNS, SERVED_ENTITIES_HISTORY, SERVED_ENTITIES_VIEW, VIEW_COLUMNS, servedEntitiesViewQuery } from '../../lambdas/core/served-entities.js';

/** Props of {@link PayloadCatalog}. */
export interface PayloadCatalogProps {
  /** Glue database of the environment. */
  readonly databaseName: string;
  /** Endpoints and classic-route models whose payload tables are created (`unrouted` is always added). */
  readonly endpoints: readonly string[];
  /** S3 location of the tables, e.g. `s3://bucket/`; each table lives under `<location><table>/`. */
  readonly location: string;
  /**
   * First day the date partition projection covers (`yyyy-MM-dd`).
   * @default '2025-01-01'
   */
  readonly firstDate?: string;
}

/**
 * The Glue database and one `<endpoint>_payload` table per endpoint: Parquet, columns from
 * the one capture record schema, partitions `endpoint` and `date` with partition projection
 * (an enum of the endpoints, dates up to NOW), so new data is queryable in Athena without a
 * crawler or MSCK REPAIR. Beside them: the `endpoint_usage` view over the payload tables, and
 * the served-entities history with its `served_entities` view.
 */
export class PayloadCatalog extends Construct {
  public readonly database: CfnDatabase;
  /** Payload tables by endpoint name. */
  public readonly tables: ReadonlyMap<string, CfnTable>;

  public constructor(scope: Construct, id: string, props: PayloadCatalogProps) {
    super(scope, id);
    const account = Stack.of(this).account;
    this.database = new CfnDatabase(this, 'Database', { catalogId: account, databaseInput: { name: props.databaseName } });
    const tables = new Map<string, CfnTable>();
    for (const endpoint of [...new Set([...props.endpoints, UNROUTED_ENDPOINT])]) {
      const name = tableName(endpoint, 'payload');
      const location = `${props.location}${name}/`;
      const table = new CfnTable(this, `Table-${endpoint}`, {
        catalogId: account,
        databaseName: props.databaseName,
        tableInput: {
          name,
          tableType: 'EXTERNAL_TABLE',
          partitionKeys: gluePartitionKeys().map((k) => ({ name: k.name, type: k.type })),
          parameters: {
            classification: 'parquet',
            'projection.enabled': 'true',
            // One table per endpoint: the enum holds the endpoint itself.
            'projection.endpoint.type': 'enum',
            'projection.endpoint.values': endpoint,
            'projection.date.type': 'date',
            'projection.date.format': 'yyyy-MM-dd',
            'projection.date.range': `${props.firstDate ?? '2025-01-01'},NOW`,
            'projection.date.interval': '1',
            'projection.date.interval.unit': 'DAYS',
            'storage.location.template': `${location}endpoint=\${endpoint}/date=\${date}/`,
          },
          storageDescriptor: {
            location,
            columns: glueColumns().map((c) => ({ name: c.name, type: c.type, comment: c.comment.slice(0, 255) })),
            inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
            serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
          },
        },
      });
      table.node.addDependency(this.database);
      tables.set(endpoint, table);
    }
    this.tables = tables;
    const payloads = [...tables.keys()].filter((e) => e !== UNROUTED_ENDPOINT).map((e) => `"${props.databaseName}"."${tableName(e, 'payload')}"`);
    const usage = this.prestoView('UsageView', USAGE_VIEW, usageViewQuery(payloads), USAGE_COLUMNS, props.databaseName);
    for (const table of tables.values()) usage.node.addDependency(table);
    const history = this.historyTable(props.databaseName, `${props.location}${SERVED_ENTITIES_HISTORY}/`);
    history.node.addDependency(this.database);
    const served = this.prestoView('ServedEntitiesView', SERVED_ENTITIES_VIEW, servedEntitiesViewQuery(`"${props.databaseName}"."${SERVED_ENTITIES_HISTORY}"`), VIEW_COLUMNS, props.databaseName);
    served.node.addDependency(history);
  }

  /** `served_entities_history`: one JSON-lines file per applied configuration (Hive's JSON SerDe reads its timestamps). */
  private historyTable(databaseName: string, location: string): CfnTable {
    return new CfnTable(this, 'ServedEntitiesHistory', {
      catalogId: Stack.of(this).account,
      databaseName,
      tableInput: {
        name: SERVED_ENTITIES_HISTORY,
        tableType: 'EXTERNAL_TABLE',
        parameters: { classification: 'json' },
        storageDescriptor: {
          location,
          columns: HISTORY_COLUMNS.map(([name, , type]) => ({ name, type })),
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hive.hcatalog.data.JsonSerDe' },
        },
      },
    });
  }

  /**
   * An Athena view (a Glue table of type VIRTUAL_VIEW holding Athena's view definition), so it
   * exists from the deploy on.
   */
  private prestoView(id: string, name: string, originalSql: string, columns: readonly (readonly [string, string, string])[], databaseName: string): CfnTable {
    const definition = { originalSql, catalog: 'awsdatacatalog', schema: databaseName, columns: columns.map(([column, type]) => ({ name: column, type })), owner: 'inference-tables', runAsInvoker: false };
    return new CfnTable(this, id, {
      catalogId: Stack.of(this).account,
      databaseName,
      tableInput: {
        name,
        tableType: 'VIRTUAL_VIEW',
        parameters: { presto_view: 'true', comment: 'Presto View' },
        viewOriginalText: `/* Presto View: ${Buffer.from(JSON.stringify(definition)).toString('base64')} */`,
        viewExpandedText: '/* Presto View */',
        storageDescriptor: { columns: columns.map(([column, , glue]) => ({ name: column, type: glue })), serdeInfo: {} },
      },
    });
  }
}
