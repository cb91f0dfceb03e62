import { Stack } from 'aws-cdk-lib';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import { Construct } from 'constructs';
import { glueColumns, gluePartitionKeys } from '../../lambdas/core/capture-record.js';
import { UNROUTED_ENDPOINT, tableName } from '../../lambdas/core/names.js';
import { USAGE_COLUMNS, USAGE_VIEW, usageViewQuery } from '../../lambdas/core/usage-view.js';

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
 * crawler or MSCK REPAIR.
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
    const usage = this.usageView([...tables.keys()].filter((e) => e !== UNROUTED_ENDPOINT), props.databaseName, account);
    for (const table of tables.values()) usage.node.addDependency(table);
  }

  /**
   * `endpoint_usage`, an Athena view over the payload tables (a Glue table of type VIRTUAL_VIEW
   * holding Athena's view definition), so it exists from the deploy on.
   */
  private usageView(endpoints: readonly string[], databaseName: string, account: string): CfnTable {
    const name = USAGE_VIEW;
    const originalSql = usageViewQuery(endpoints.map((e) => `"${databaseName}"."${tableName(e, 'payload')}"`));
    const definition = { originalSql, catalog: 'awsdatacatalog', schema: databaseName, columns: USAGE_COLUMNS.map(([column, type]) => ({ name: column, type })), owner: 'inference-tables', runAsInvoker: false };
    return new CfnTable(this, 'UsageView', {
      catalogId: account,
      databaseName,
      tableInput: {
        name,
        tableType: 'VIRTUAL_VIEW',
        parameters: { presto_view: 'true', comment: 'Presto View' },
        viewOriginalText: `/* Presto View: ${Buffer.from(JSON.stringify(definition)).toString('base64')} */`,
        viewExpandedText: '/* Presto View */',
        storageDescriptor: { columns: USAGE_COLUMNS.map(([column, , glue]) => ({ name: column, type: glue })), serdeInfo: {} },
      },
    });
  }
}
