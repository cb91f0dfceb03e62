import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { glueColumns } from '../../lambdas/core/capture-record.js';
import { PARQUET_OF_GLUE, localParquetSchema } from '../helpers/parquet.js';
import { configWith } from '../helpers/config.js';
import { environment, only, synthesize } from '../helpers/stacks.js';

const { template } = environment('dev');
/** The payload tables; the refresh workflow's labels tables are tested with it. */
const payloadTables = (t: typeof template) => Object.values(t.findResources('AWS::Glue::Table')).filter((r) => String(r.Properties.TableInput.Name).endsWith('_payload'));
const table = (name: string) => only(template, 'AWS::Glue::Table', { TableInput: { Name: name } }).Properties.TableInput;

describe('Catalog: payload tables', () => {
  it('creates the environment database', () => {
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'inference_tables_dev' } });
  });

  it('creates one payload table per endpoint, classic-route model and unrouted', () => {
    const names = payloadTables(template).map((t) => t.Properties.TableInput.Name).sort();
    expect(names).toEqual(['assistant_payload', 'chat_payload', 'claude_haiku_payload', 'echo_payload', 'iris_classifier_payload', 'iris_payload', 'unrouted_payload']);
  });

  it('creates one usage view over the payload tables of every endpoint and classic-route model: Athena’s view definition, in Trino SQL only', () => {
    const views = Object.values(template.findResources('AWS::Glue::Table')).filter((r) => r.Properties.TableInput.TableType === 'VIRTUAL_VIEW');
    expect(views.map((v) => v.Properties.TableInput.Name)).toEqual(['endpoint_usage', 'served_entities']);
    const chat = table('endpoint_usage');
    expect(chat.Parameters).toEqual({ presto_view: 'true', comment: 'Presto View' });
    expect(chat.ViewExpandedText).toBe('/* Presto View */');
    const encoded = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(chat.ViewOriginalText)?.[1] ?? '';
    const definition = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
    expect(definition).toMatchObject({ catalog: 'awsdatacatalog', schema: 'inference_tables_dev', runAsInvoker: false });
    expect(definition.columns.map((c: { name: string }) => c.name)).toEqual(chat.StorageDescriptor.Columns.map((c: { Name: string }) => c.Name));
    for (const t of ['iris', 'chat', 'assistant', 'iris_classifier', 'echo', 'claude_haiku']) expect(definition.originalSql).toContain(`FROM "inference_tables_dev"."${t}_payload"`);
    expect(definition.originalSql).not.toContain('unrouted_payload');
    // Trino's functions: a missing map key is NULL with element_at (a subscript fails).
    expect(definition.originalSql).toContain("element_at(request_metadata, 'served_entity_name')");
    expect(definition.originalSql).toContain('input_tokens, output_tokens, tokens_counted, sampling_fraction');
    for (const duckdb of ['json_extract_string', '->>', '::', 'request_metadata[']) expect(definition.originalSql).not.toContain(duckdb);
  });

  it('creates the served-entities history (JSON lines under its folder) and its view, in Trino SQL', () => {
    const history = table('served_entities_history');
    expect(history.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.apache.hive.hcatalog.data.JsonSerDe');
    expect(JSON.stringify(history.StorageDescriptor.Location)).toContain('/served_entities_history/');
    expect(history.StorageDescriptor.Columns.find((c: { Name: string }) => c.Name === 'applied_at')?.Type).toBe('timestamp');
    const view = table('served_entities');
    const encoded = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(view.ViewOriginalText)?.[1] ?? '';
    const definition = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
    expect(definition.columns.map((c: { name: string }) => c.name)).toEqual(view.StorageDescriptor.Columns.map((c: { Name: string }) => c.Name));
    expect(definition.originalSql).toContain('FROM "inference_tables_dev"."served_entities_history"');
    expect(definition.originalSql).toContain('max_by(traffic_percentage, applied_at)');
  });

  it('records the served entities at each deploy that changes them, through a custom resource whose property is their version', () => {
    const [resource] = Object.values(template.findResources('Custom::ServedEntities'));
    // The version of the file's models and endpoints (the serving state's seed), then of its served entities.
    expect(resource?.Properties.ConfigVersion).toMatch(/^[0-9a-f]{16}-[0-9a-f]{16}$/);
    const changed = synthesize(configWith((c) => (c.endpoints[0].served_entities[0].name = 'renamed'))).template;
    const unchanged = synthesize(configWith((c) => (c.delivery.buffer_size_mb = 100))).template;
    const version = (t: typeof template) => Object.values(t.findResources('Custom::ServedEntities'))[0]?.Properties.ConfigVersion;
    expect(version(unchanged)).toBe(version(synthesize(configWith(() => undefined)).template));
    expect(version(changed)).not.toBe(version(unchanged));
  });

  it('stores each table as Parquet under its own folder of the data bucket', () => {
    const input = table('iris_payload');
    expect(input.StorageDescriptor).toMatchObject({
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    });
    expect(JSON.stringify(input.StorageDescriptor.Location)).toContain('/iris_payload/');
  });

  it('projects the endpoint and date partitions so new data needs no crawler', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'iris_payload',
        PartitionKeys: [
          { Name: 'endpoint', Type: 'string' },
          { Name: 'date', Type: 'string' },
        ],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.endpoint.type': 'enum',
          'projection.endpoint.values': 'iris',
          'projection.date.type': 'date',
          'projection.date.format': 'yyyy-MM-dd',
          'projection.date.range': '2025-01-01,NOW',
          'projection.date.interval': '1',
          'projection.date.interval.unit': 'DAYS',
        }),
      }),
    });
  });
});

describe('Parity: one schema on AWS and on one machine', () => {
  it('gives every payload table of every environment the capture schema’s columns and the local Parquet file’s types', async () => {
    const parquet = await localParquetSchema();
    for (const env of ['dev', 'prod'] as const) {
      const tables = payloadTables(environment(env).template);
      expect(tables.length).toBeGreaterThan(0);
      for (const t of tables) {
        const columns = t.Properties.TableInput.StorageDescriptor.Columns as { Name: string; Type: string }[];
        expect(columns.map((c) => [c.Name, c.Type])).toEqual(glueColumns().map((c) => [c.name, c.type]));
        for (const c of columns) expect(parquet.get(c.Name), `${env} ${t.Properties.TableInput.Name}.${c.Name}`).toBe(PARQUET_OF_GLUE[c.Type]);
      }
    }
  });
});
