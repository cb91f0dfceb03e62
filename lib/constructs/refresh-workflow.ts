import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { CfnTable } from 'aws-cdk-lib/aws-glue';
import { Effect, type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import { type CfnStateMachine, CustomerManagedEncryptionConfiguration, LogLevel, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { LABEL_COLUMNS } from '../../lambdas/core/refresh-sql.js';
import { QUARANTINE_PREFIX, type TableKind, tableName } from '../../lambdas/core/names.js';
import { ENV } from '../../lambdas/shared/env.js';
import type { RefreshSettings } from '../../lambdas/core/config/index.js';
import { METRICS_NAMESPACE } from '../../lambdas/core/metric-names.js';
import { REFRESH_STEPS, REFRESH_STEP_SPECS, type RefreshStep } from '../../lambdas/core/refresh-steps.js';
import { REFRESH_TIMEOUT, STEP_TIMEOUTS, buildRefreshDefinition, refreshDefinitionBody } from '../refresh-definition.js';
import { bucketObjectsFinding, stackArnFinding } from './findings.js';
import { ProjectFunction } from './project-function.js';

/** The tables the workflow writes or reads for each endpoint, besides its payload table. */
export const REFRESH_TABLE_KINDS = ['unpacked', 'unpack_errors', 'labels', 'label_rejects', 'recompute_windows', 'profile_metrics', 'drift_metrics', 'alerts'] as const satisfies readonly TableKind[];

/** What the metrics step reads: the endpoints' tables (and baseline tables) and its run's files. */
/** The steps that run queries through Athena themselves: their functions get the workgroup and the engine role. */
const ENGINE_STEPS: readonly RefreshStep[] = ['PrepareCommit', 'ComputeMetrics'];

const METRICS_READ = ['*_payload/*', '*_unpacked/*', '*_recompute_windows/*', '*_labels/*', '_refresh/*'];

/** Props of {@link RefreshWorkflow}. */
export interface RefreshWorkflowProps {
  /** Environment name, in the functions', state machine's and schedule's names. */
  readonly environment: string;
  /** The environment's configuration file, bundled with the step functions. */
  readonly configFile: string;
  /** Schedule, concurrency and bounds of a run. */
  readonly refresh: RefreshSettings;
  /** Baseline files the metrics step reads (paths from the project root), bundled with the functions. */
  readonly baselineFiles: readonly string[];
  /** The endpoints (and classic-route models) refreshed: each gets a labels table. */
  readonly endpoints: readonly string[];
  readonly bucket: IBucket;
  readonly key: IKey;
  readonly databaseName: string;
  readonly workgroupName: string;
  readonly workgroupArn: string;
  readonly logRetention: RetentionDays;
}

/**
 * The refresh workflow on AWS: a labels table per endpoint, the step functions, the state
 * machine built by {@link buildRefreshDefinition} (logging and X-Ray on), and an EventBridge
 * Scheduler schedule. Unpacked tables are Iceberg tables the workflow creates and MERGEs into.
 */
export class RefreshWorkflow extends Construct {
  public readonly stateMachine: StateMachine;
  public readonly functions: Readonly<Record<RefreshStep, ProjectFunction>>;
  public readonly schedule: Schedule;
  private readonly databaseName: string;

  public constructor(scope: Construct, id: string, props: RefreshWorkflowProps) {
    super(scope, id);
    const { environment, bucket, key } = props;
    this.databaseName = props.databaseName;
    const stack = Stack.of(this);

    for (const endpoint of props.endpoints) this.labelsTable(endpoint, props);

    const functionLogs = ProjectFunction.logGroup(this, 'FunctionLogs', key, props.logRetention);
    // One role for the steps that only move files; the steps that query through Athena (the
    // engine's unpack in PrepareCommit, the metrics) and publish to CloudWatch have their own.
    const functionRole = new Role(this, 'FunctionRole', { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description: `inference-tables ${environment} refresh steps` });
    functionLogs.grantWrite(functionRole);
    const objects = (...prefixes: string[]) => prefixes.map((p) => bucket.arnForObjects(p));
    functionRole.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
    // errors/: the health check counts each endpoint's records the conversion refused.
    functionRole.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: objects('*_payload/*', '*_labels/*', '_refresh/*', 'errors/*') }));
    functionRole.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:PutObject', 's3:DeleteObject'], resources: objects('_refresh/*') }));
    // A payload file the unpack cannot read is moved out of its table into the quarantine.
    functionRole.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: objects(`${QUARANTINE_PREFIX}*`) }));
    functionRole.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:DeleteObject'], resources: objects('*_payload/*') }));
    functionRole.addToPrincipalPolicy(new PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [key.keyArn] }));
    const engineRole = this.engineRole(props, functionLogs);
    const make = (step: RefreshStep) =>
      new ProjectFunction(this, `${step}Function`, {
        description: `inference-tables ${environment} refresh: ${step}`,
        entry: 'refresh.ts',
        handler: REFRESH_STEP_SPECS[step].handler,
        memorySize: REFRESH_STEP_SPECS[step].memoryMb,
        timeout: STEP_TIMEOUTS[step],
        role: ENGINE_STEPS.includes(step) ? engineRole : functionRole,
        logGroup: functionLogs,
        configFile: props.configFile,
        key,
        // Every step gets the same bundle (baseline files included), built once.
        files: props.baselineFiles,
      });
    this.functions = Object.fromEntries(REFRESH_STEPS.map((s) => [s, make(s)])) as Record<RefreshStep, ProjectFunction>;
    for (const step of REFRESH_STEPS) {
      const fn = this.functions[step];
      fn.addEnvironment(ENV.dataBucket, bucket.bucketName);
      fn.addEnvironment(ENV.database, props.databaseName);
    }
    for (const step of ENGINE_STEPS) this.functions[step].addEnvironment(ENV.workgroup, props.workgroupName);

    const logs = ProjectFunction.logGroup(this, 'Logs', key, props.logRetention);
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: `inference-tables-${environment}-refresh`,
      definitionBody: refreshDefinitionBody(buildRefreshDefinition(this, { functions: this.functions, workgroup: props.workgroupName, database: props.databaseName, settings: props.refresh })),
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: true },
      // The definition and the execution history (which holds step inputs) with the environment's key.
      encryptionConfiguration: new CustomerManagedEncryptionConfiguration(key),
      tracingEnabled: true,
      timeout: REFRESH_TIMEOUT,
    });
    const role = this.stateMachine.role;
    // Athena runs the workflow's SQL with the state machine's credentials: it reads staged
    // rows and labels, and writes the Iceberg tables and the query results.
    const written = ['*_unpacked/*', '*_unpack_errors/*', '*_label_rejects/*', '*_recompute_windows/*', '*_profile_metrics/*', '*_drift_metrics/*', '*_alerts/*', 'athena-results/*'];
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:ListBucket', 's3:GetBucketLocation'], resources: [bucket.bucketArn] }));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: objects('_refresh/*', '*_labels/*', ...written) }));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], resources: objects(...written) }));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [key.keyArn] }));
    // What the `.sync` Athena integration calls: start, poll, and stop on a timeout.
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution', 'athena:GetWorkGroup'], resources: [props.workgroupArn] }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:CreateTable', 'glue:UpdateTable', 'glue:DeleteTable', 'glue:GetPartitions'],
        resources: [
          stack.formatArn({ service: 'glue', resource: 'catalog' }),
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: props.databaseName }),
          stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${props.databaseName}/*` }),
        ],
      }),
    );

    this.acknowledgeObjects(bucket, functionRole, ['*_payload/*', '*_labels/*', '_refresh/*', `${QUARANTINE_PREFIX}*`]);
    Validations.of(functionRole).acknowledge({ id: bucketObjectsFinding(bucket, 'errors/*'), reason: "Read only: the delivery's error output, whose records of each endpoint the health check counts." });
    this.acknowledgeObjects(bucket, engineRole, [...METRICS_READ, 'athena-results/*', 'athena-results/unload/*']);
    Validations.of(engineRole).acknowledge(
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'X-Ray and CloudWatch PutMetricData accept only Resource "*"; PutMetricData is limited to the InferenceTables namespace by a condition.' },
      { id: stackArnFinding(this, 'glue', `table/${props.databaseName}/*`), reason: 'The metrics step reads the tables of this database only (unpacked, payload, baseline).' },
    );
    this.acknowledgeObjects(bucket, role, ['_refresh/*', '*_labels/*', ...written]);
    this.acknowledgeStateMachine();

    this.schedule = new Schedule(this, 'Schedule', {
      description: `inference-tables ${environment}: refresh every ${props.refresh.schedule_minutes} min`,
      schedule: ScheduleExpression.rate(Duration.minutes(props.refresh.schedule_minutes)),
      target: new StepFunctionsStartExecution(this.stateMachine, { input: ScheduleTargetInput.fromObject({}), retryAttempts: 2 }),
      enabled: props.refresh.enabled,
    });
  }

  /**
   * The role of the steps that query (the engine's unpack, the metrics): Athena queries in the environment's workgroup over the tables it
   * reads, its staged files, and CloudWatch metrics in the product's namespace.
   */
  private engineRole(props: RefreshWorkflowProps, logs: LogGroup): Role {
    const { bucket, key, environment } = props;
    const stack = Stack.of(this);
    const role = new Role(this, 'MetricsRole', { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description: `inference-tables ${environment} refresh steps that query (unpack in the engine, metrics)` });
    logs.grantWrite(role);
    const objects = (...prefixes: string[]) => prefixes.map((p) => bucket.arnForObjects(p));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:ListBucket', 's3:GetBucketLocation'], resources: [bucket.bucketArn] }));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: objects(...METRICS_READ, 'athena-results/*') }));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: objects('_refresh/*', 'athena-results/*') }));
    // Large reads are unloaded as Parquet under the query results, read, then removed.
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:DeleteObject'], resources: objects('athena-results/unload/*') }));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [key.keyArn] }));
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution', 'athena:GetWorkGroup'], resources: [props.workgroupArn] }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        // GetDatabases: the columns of existing metrics tables are read from information_schema.
        // CreateTable and DeleteTable: the engine's unpack stores its rows of a run as a table.
        actions: ['glue:GetDatabase', 'glue:GetDatabases', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartitions', 'glue:CreateTable', 'glue:DeleteTable'],
        resources: [
          stack.formatArn({ service: 'glue', resource: 'catalog' }),
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: props.databaseName }),
          stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${props.databaseName}/*` }),
        ],
      }),
    );
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['cloudwatch:PutMetricData'], resources: ['*'], conditions: { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } } }));
    return role;
  }

  /** Wildcards that name exactly what the workflow touches, each with its reason. */
  private acknowledgeObjects(bucket: IBucket, role: IRole, prefixes: readonly string[]): void {
    const v = Validations.of(role);
    v.acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'X-Ray accepts trace segments only on Resource "*" (it has no resource-level permissions).' });
    for (const p of prefixes) {
      v.acknowledge({ id: bucketObjectsFinding(bucket, p), reason: `Objects under the ${p.replace('/*', '')} prefixes of every endpoint, which this role reads or writes; the endpoints change with the config.` });
    }
  }

  /** What the state machine is granted for its Lambda states, its SQL and its Distributed Map. */
  private acknowledgeStateMachine(): void {
    const execution = `{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${Stack.of(this).getLogicalId(this.stateMachine.node.defaultChild as CfnStateMachine)}"}]}]}`;
    Validations.of(this.stateMachine.role).acknowledge(
      ...Object.values(this.functions).map((fn) => ({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as CfnFunction)}.Arn>:*]`,
        reason: 'Versions and aliases of the step function the state machine invokes (added by LambdaInvoke).',
      })),
      {
        id: stackArnFinding(this, 'glue', `table/${this.databaseName}/*`),
        reason: 'Athena runs the workflow SQL as the state machine: it creates and alters the Iceberg tables of this database only.',
      },
    );
    // On the policy CDK adds for the Distributed Map.
    Validations.of(this.stateMachine).acknowledge(
      {
        id: stackArnFinding(this, 'states', `execution:${execution}/*:*`),
        reason: 'The Distributed Map runs its tasks as child executions of this state machine.',
      },
      {
        id: stackArnFinding(this, 'states', `execution:${execution}:*`),
        reason: 'The Distributed Map describes and stops the child executions of this state machine.',
      },
    );
  }

  /** The labels table of an endpoint: Parquet files written by `labels upload`, partitioned by upload date. */
  private labelsTable(endpoint: string, props: RefreshWorkflowProps): CfnTable {
    const name = tableName(endpoint, 'labels');
    const location = `s3://${props.bucket.bucketName}/${name}/`;
    const glueType = (t: string) => ({ VARCHAR: 'string', INTEGER: 'int', TIMESTAMP: 'timestamp' })[t] ?? 'string';
    return new CfnTable(this, `Labels-${endpoint}`, {
      catalogId: Stack.of(this).account,
      databaseName: props.databaseName,
      tableInput: {
        name,
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [{ name: 'uploaded', type: 'string' }],
        parameters: {
          classification: 'parquet',
          'projection.enabled': 'true',
          'projection.uploaded.type': 'date',
          'projection.uploaded.format': 'yyyy-MM-dd',
          'projection.uploaded.range': '2025-01-01,NOW',
          'storage.location.template': `${location}uploaded=\${uploaded}/`,
        },
        storageDescriptor: {
          location,
          columns: LABEL_COLUMNS.map(([c, t]) => ({ name: c, type: glueType(t) })),
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        },
      },
    });
  }
}
