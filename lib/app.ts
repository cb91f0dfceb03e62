import { MonitoringAlarms } from './constructs/monitoring-alarms.js';
import { type App, Annotations, CfnOutput, Stack, type StackProps, Stage, Validations } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { QUARANTINE_PREFIX, UNROUTED_ENDPOINT, environmentNames, tableName } from '../lambdas/core/names.js';
import { type Config, monitoringSettings, retentionDays } from '../lambdas/core/config/index.js';
import { writeDeployedConfig } from './constructs/project-function.js';
import { CaptureStorage } from './constructs/capture-storage.js';
import { CaptureStreams, FIREHOSE_MIN_BUFFER_MB, FIREHOSE_MIN_BUFFER_SECONDS } from './constructs/capture-streams.js';
import { PayloadCatalog } from './constructs/payload-catalog.js';
import { QueryWorkgroup } from './constructs/query-workgroup.js';
import { REFRESH_TABLE_KINDS, RefreshWorkflow } from './constructs/refresh-workflow.js';
import { ScoringApi } from './constructs/scoring-api.js';
import { SpillRedrive } from './constructs/spill-redrive.js';
import { TableReaders } from './constructs/table-readers.js';
import { USAGE_VIEW } from '../lambdas/core/usage-view.js';
import { SERVED_ENTITIES_HISTORY, SERVED_ENTITIES_VIEW, configVersion, servedEntities } from '../lambdas/core/served-entities.js';
import { ServedEntitiesRecord } from './constructs/served-entities-record.js';
import { ServingStateTable } from './constructs/serving-state.js';
import { seedOf } from '../lambdas/core/serving-state.js';

/** Props of the stack of one environment. */
export interface InferenceTablesStackProps extends StackProps {
  readonly config: Config;
}

/** Names of the stack outputs, read back by the CLI and the README's commands. */
export const OUTPUTS = {
  apiUrl: 'ApiUrl',
  database: 'Database',
  payloadTables: 'PayloadTables',
  workgroup: 'Workgroup',
  bucket: 'DataBucket',
  readerPolicyArn: 'ReaderPolicyArn',
  managementPolicyArn: 'ManagementPolicyArn',
  servingTable: 'ServingTable',
  readerRoleArn: 'ReaderRoleArn',
  apiKeyIds: 'ApiKeyIds',
} as const;

/**
 * Everything one environment runs on AWS: storage and key, the Glue catalog of payload
 * tables, a capture stream per endpoint, the Athena workgroup and reader policy, and the
 * scoring API in front of its function.
 */
export class InferenceTablesStack extends Stack {
  public readonly storage: CaptureStorage;
  public readonly catalog: PayloadCatalog;
  public readonly streams: CaptureStreams;
  public readonly queries: QueryWorkgroup;
  public readonly readers: TableReaders;
  public readonly scoring: ScoringApi;
  public readonly refresh: RefreshWorkflow;
  /** Alarms, the alerts topic and a dashboard per endpoint. */
  public readonly monitoring: MonitoringAlarms;
  /** The scheduled redrive of spilled capture records, and the capture alarms. */
  public readonly redrive: SpillRedrive;
  /** The serving state (registry stages and aliases, endpoint traffic and capture), changed at runtime. */
  public readonly serving: ServingStateTable;
  /** The record of the served entities of each deployed configuration. */
  public readonly servedEntities: ServedEntitiesRecord;

  public constructor(scope: Construct, id: string, props: InferenceTablesStackProps) {
    super(scope, id, props);
    const { config } = props;
    const settings = config.deployment;
    const names = environmentNames(config.environment, config.database);
    const logRetention = settings.log_retention_days as RetentionDays;
    const retention = retentionDays(config);

    // Endpoints and classic-route models each have a payload table; `unrouted` catches the rest.
    const captured = [
      ...config.endpoints.map((e) => ({ name: e.name, streams: e.capture.streams })),
      ...config.models.map((m) => ({ name: m.name, streams: m.capture.streams })),
      { name: UNROUTED_ENDPOINT, streams: 1 },
    ].map((c) => ({ ...c, tableName: tableName(c.name, 'payload') }));
    this.storage = new CaptureStorage(this, 'Storage', {
      environment: config.environment,
      dataRetentionDays: settings.data_retention_days,
      expiringPrefixes: [
        ...[...captured.map((c) => `${c.tableName}/`), 'errors/'].map((prefix) => ({ prefix, days: retention.payload })),
        ...captured.filter((c) => c.name !== UNROUTED_ENDPOINT).map((c) => ({ prefix: `${tableName(c.name, 'labels')}/`, days: retention.labels })),
        { prefix: QUARANTINE_PREFIX, days: retention.quarantine },
      ],
    });
    const { bucket, key } = this.storage;
    this.catalog = new PayloadCatalog(this, 'Catalog', {
      databaseName: names.database,
      endpoints: captured.map((c) => c.name),
      location: `s3://${bucket.bucketName}/`,
    });
    this.streams = new CaptureStreams(this, 'CaptureStreams', {
      environment: config.environment,
      endpoints: captured.map((c) => ({ ...c, table: this.catalog.tables.get(c.name)! })),
      bucket,
      key,
      databaseName: names.database,
      ...this.deliveryBuffering(config),
      logRetention,
    });
    this.queries = new QueryWorkgroup(this, 'Queries', {
      workgroupName: names.workgroup,
      databaseName: names.database,
      endpoints: captured.map((c) => c.name),
      bucket,
      key,
      bytesScannedCutoffPerQuery: settings.query.bytes_scanned_cutoff_per_query,
    });
    const tables = captured.map((c) => c.tableName);
    const refreshed = captured.map((c) => c.name).filter((n) => n !== UNROUTED_ENDPOINT);
    this.readers = new TableReaders(this, 'Readers', {
      environment: config.environment,
      databaseName: names.database,
      // Readers see what the refresh workflow writes too: unpacked rows, rejects, labels, windows.
      tableKinds: ['payload', ...REFRESH_TABLE_KINDS],
      tables: [SERVED_ENTITIES_HISTORY],
      views: [USAGE_VIEW, SERVED_ENTITIES_VIEW],
      workgroupArn: this.queries.workgroupArn,
      bucket,
      key,
      trustedPrincipals: settings.reader_role_trusted_principals,
    });
    // The configuration every function is bundled with, written once.
    const configFile = writeDeployedConfig(config);
    const { environment } = config;
    this.serving = new ServingStateTable(this, 'Serving', { environment: config.environment, key });
    this.scoring = new ScoringApi(this, 'Scoring', {
      serving: this.serving,
      environment,
      configFile,
      function: settings.scoring_function,
      api: settings.api,
      backends: config.models.flatMap((m) => m.versions.map((v) => v.backend)),
      endpoints: config.endpoints.map((e) => e.name),
      streams: this.streams,
      storage: this.storage,
      key,
      logRetention,
    });
    this.refresh = new RefreshWorkflow(this, 'Refresh', {
      environment,
      configFile,
      refresh: config.refresh,
      baselineFiles: refreshed.flatMap((e) => {
        const b = monitoringSettings(config, e).baseline;
        return b && 'file' in b ? [b.file] : [];
      }),
      endpoints: refreshed,
      bucket,
      key,
      databaseName: names.database,
      workgroupName: names.workgroup,
      workgroupArn: this.queries.workgroupArn,
      logRetention,
    });
    this.monitoring = new MonitoringAlarms(this, 'Monitoring', {
      environment,
      endpoints: refreshed.map((name) => ({ name, monitoring: monitoringSettings(config, name), llm: servesLlm(config, name) })),
      refreshMinutes: config.refresh.schedule_minutes,
      key,
      refresh: { stateMachine: this.refresh.stateMachine, scheduled: config.refresh.enabled },
      deliveryStreams: [...this.streams.streamNames.values()].flat(),
    });
    this.servedEntities = new ServedEntitiesRecord(this, 'ServedEntities', { environment, configFile, configVersion: `${seedOf(config)}-${configVersion(servedEntities(config))}`, storage: this.storage, serving: this.serving, logRetention });
    this.servedEntities.node.addDependency(this.catalog);
    // Seeded once the functions run the new configuration: until then they serve it from their package.
    this.servedEntities.node.addDependency(this.scoring);
    this.redrive = new SpillRedrive(this, 'Redrive', { environment, configFile, redriveMinutes: config.delivery.redrive_minutes, storage: this.storage, streams: this.streams, topic: this.monitoring.topic, logRetention });

    new CfnOutput(this, OUTPUTS.apiUrl, { value: this.scoring.api.url, description: 'Base URL of the scoring API' });
    new CfnOutput(this, OUTPUTS.database, { value: names.database, description: 'Glue database of the tables' });
    new CfnOutput(this, OUTPUTS.payloadTables, { value: tables.join(','), description: 'Payload tables, one per endpoint' });
    new CfnOutput(this, OUTPUTS.workgroup, { value: names.workgroup, description: 'Athena workgroup to query the tables' });
    new CfnOutput(this, OUTPUTS.bucket, { value: bucket.bucketName, description: 'Bucket holding the captured data' });
    new CfnOutput(this, OUTPUTS.servingTable, { value: this.serving.table.tableName, description: 'DynamoDB table of the serving state' });
    new CfnOutput(this, OUTPUTS.managementPolicyArn, { value: this.scoring.managementPolicy.managedPolicyArn, description: 'Managed policy granting the management routes (registry stages and aliases, endpoint traffic and capture)' });
    new CfnOutput(this, OUTPUTS.readerPolicyArn, { value: this.readers.policy.managedPolicyArn, description: 'Managed policy granting read access to the tables' });
    if (this.readers.role) new CfnOutput(this, OUTPUTS.readerRoleArn, { value: this.readers.role.roleArn, description: 'Role carrying the reader policy' });
    if (this.scoring.apiKeyIds.size > 0) {
      new CfnOutput(this, OUTPUTS.apiKeyIds, {
        value: [...this.scoring.apiKeyIds].map(([n, id]) => `${n}=${id}`).join(','),
        description: 'API key ids; read a value with: aws apigateway get-api-key --include-value --api-key <id>',
      });
    }
  }

  /** The configured buffering, raised to Firehose's minimums with dynamic partitioning. */
  private deliveryBuffering(config: Config): { bufferIntervalSeconds: number; bufferSizeMb: number } {
    const { buffer_interval_seconds: interval, buffer_size_mb: size } = config.delivery;
    if (interval < FIREHOSE_MIN_BUFFER_SECONDS || size < FIREHOSE_MIN_BUFFER_MB) {
      Annotations.of(this).addWarningV2(
        'inference-tables:delivery-buffering',
        `delivery buffering ${interval} s / ${size} MB raised to Firehose's minimum with dynamic partitioning (${FIREHOSE_MIN_BUFFER_SECONDS} s / ${FIREHOSE_MIN_BUFFER_MB} MiB).`,
      );
    }
    return { bufferIntervalSeconds: Math.max(interval, FIREHOSE_MIN_BUFFER_SECONDS), bufferSizeMb: Math.max(size, FIREHOSE_MIN_BUFFER_MB) };
  }
}

/** Whether an endpoint (or classic-route model) serves an external or Bedrock model, an LLM. */
function servesLlm(config: Config, name: string): boolean {
  const llm = (model: string) => config.models.find((m) => m.name === model)?.versions.some((v) => v.backend.type === 'openai' || v.backend.type === 'bedrock') ?? false;
  const endpoint = config.endpoints.find((e) => e.name === name);
  return endpoint ? endpoint.served_entities.some((s) => llm(s.entity_name)) : llm(name);
}

/** The stage of one environment: one stack, named `inference-tables-<env>`. */
export class InferenceTablesStage extends Stage {
  public readonly stack: InferenceTablesStack;

  public constructor(scope: Construct, id: string, config: Config) {
    const { account, region } = config.deployment;
    super(scope, id, { env: { account: account ?? process.env.CDK_DEFAULT_ACCOUNT, region: region ?? process.env.CDK_DEFAULT_REGION } });
    // Server access logs delivered through a bucket policy rather than ACLs (which S3 now disables by default).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const names = environmentNames(config.environment, config.database);
    this.stack = new InferenceTablesStack(this, 'InferenceTables', {
      config,
      stackName: names.stack,
      description: `inference-tables ${config.environment}: capture of model requests into Athena tables`,
      terminationProtection: config.deployment.termination_protection,
    });
    // Checked on every synth: a finding fails it unless acknowledged with a reason.
    Validations.of(this).addPlugins(new AwsSolutionsChecks(this));
    Validations.of(this.stack).acknowledge({
      id: 'CloudFormation-Validate::W7001',
      reason: "The unused mapping of Firehose's CIDR blocks is emitted by aws-cdk-lib's DeliveryStream for VPC destinations.",
    });
  }
}

/**
 * Builds the stage of one environment from its configuration. Called by `bin/app.ts`
 * (`cdk synth -c env=<name>`) and by the tests, so both build the same thing.
 */
export function createApp(app: App, config: Config): InferenceTablesStage {
  return new InferenceTablesStage(app, `InferenceTables-${config.environment}`, config);
}
