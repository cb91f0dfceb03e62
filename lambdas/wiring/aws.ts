import { isAbsolute, join } from 'node:path';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { z } from 'zod';
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { type Config, ConfigError } from '../core/config/index.js';
import { loadConfig } from './config-file.js';
import { AthenaQueryEngine } from '../adapters/aws/athena-query-engine.js';
import { ATHENA_RESULTS_PREFIX } from '../core/names.js';
import { CloudWatchPublisher } from '../adapters/aws/cloudwatch-publisher.js';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoServingStateStore } from '../adapters/aws/serving-state-table.js';
import { servingControl } from '../core/serving-state.js';
import { FirehoseSink } from '../adapters/aws/firehose-sink.js';
import { EmfPublisher } from '../adapters/aws/emf-publisher.js';
import type { MetricsPublisher } from '../core/ports.js';
import { SpillingSink } from '../core/spill.js';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import type { RefreshDeps } from '../workflow/steps.js';
import { createBackendFactory } from '../backends/factory.js';
import { BackendHealth } from '../core/backend-health.js';
import { PRODUCT_VERSION } from '../core/version.js';
import { readHealth } from '../core/health.js';
import type { ScoringDependencies } from '../scoring/handler.js';
import type { RedriveDependencies } from '../redrive/handler.js';
import type { ServedEntitiesDependencies } from '../deploy/handler.js';
import { ENV, EnvironmentError, requireEnv, requireJsonEnv } from '../shared/env.js';

/** The configuration bundled with the function, named by its environment variable. */
function bundledConfig(env: NodeJS.ProcessEnv): Config {
  const file = requireEnv(ENV.configFile, env);
  try {
    return loadConfig(isAbsolute(file) ? file : join(env.LAMBDA_TASK_ROOT ?? process.cwd(), file));
  } catch (error) {
    if (error instanceof ConfigError) throw new EnvironmentError(`Environment variable ${ENV.configFile}: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * The AWS adapters of the refresh workflow's steps: S3 and Athena's dialect; the steps that
 * query (the unpack in the engine, the metrics: their functions have a workgroup) also run
 * queries through Athena and publish to CloudWatch.
 */
export function awsRefreshDependencies(env: NodeJS.ProcessEnv = process.env): RefreshDeps {
  const database = requireEnv(ENV.database, env);
  const workgroup = env[ENV.workgroup];
  const store = new S3ObjectStore(new S3Client({}), requireEnv(ENV.dataBucket, env));
  // Large reads are unloaded as Parquet beside the workgroup's query results.
  const unload = { store, prefix: `${ATHENA_RESULTS_PREFIX}unload/` };
  return {
    config: bundledConfig(env),
    store,
    dialect: 'athena',
    database,
    ...(workgroup ? { engine: new AthenaQueryEngine(new AthenaClient({}), { workgroup, database, unload }), publisher: new CloudWatchPublisher(new CloudWatchClient({})) } : {}),
    // Through the function's log (embedded metric format): no API call, no permission.
    healthPublisher: new EmfPublisher({}),
    // Baseline files are bundled beside the configuration.
    projectRoot: env.LAMBDA_TASK_ROOT ?? process.cwd(),
  };
}

const streamsSchema = z.record(z.string(), z.array(z.string().min(1)).min(1));

/** The capture streams of each endpoint, from the environment the constructs set. */
function captureStreams(env: NodeJS.ProcessEnv): Record<string, string[]> {
  const parsed = streamsSchema.safeParse(requireJsonEnv(ENV.captureStreams, env));
  if (!parsed.success) throw new EnvironmentError(`Environment variable ${ENV.captureStreams} must map endpoint names to stream names.`);
  return parsed.data;
}

/**
 * Reads the Lambda environment once and builds the AWS adapters of the scoring handler.
 * The configuration file path is resolved against the package root (`LAMBDA_TASK_ROOT`).
 */
export function awsScoringDependencies(env: NodeJS.ProcessEnv = process.env): ScoringDependencies {
  const config = bundledConfig(env);
  const streams = captureStreams(env);
  const metrics = new EmfPublisher({ Environment: config.environment });
  const { sink, spillStore } = awsCaptureSink(config, streams, requireEnv(ENV.dataBucket, env), metrics);
  // The function may read the recorded health of the tables, and nothing else of the bucket.
  // Backend health is per function instance: each judges from its own calls and probes.
  const table = env[ENV.servingTable];
  // Changes are made by the management function, whose role may write the table and the history.
  const serving = table ? servingControl(config, new DynamoServingStateStore(new DynamoDBClient({}), table), spillStore, config.serving.state_ttl_seconds * 1000, { deployed: true }) : undefined;
  return {
    config,
    ...(serving ? { serving } : {}),
    sink,
    backends: createBackendFactory(),
    version: PRODUCT_VERSION,
    health: (endpoint) => readHealth(spillStore, endpoint),
    backendHealth: new BackendHealth(),
  };
}

/**
 * Firehose behind the spill: the sink retries within `delivery.retry_budget_ms`, then the
 * records go to the data bucket's spill prefix. The SDK's own retries are off, so the budget
 * is the whole of the time spent on Firehose.
 */
function awsCaptureSink(config: Config, streams: Record<string, string[]>, bucket: string, metrics: MetricsPublisher) {
  const firehose = new FirehoseSink(new FirehoseClient({ maxAttempts: 1 }), {
    streamsFor: (endpoint) => streams[endpoint] ?? [],
    budgetMs: config.delivery.retry_budget_ms,
    metrics,
  });
  const spillStore = new S3ObjectStore(new S3Client({}), bucket);
  return { firehose, spillStore, sink: new SpillingSink(firehose, spillStore, metrics, { spillTimeoutMs: config.delivery.spill_timeout_ms }) };
}

/** The scheduled redrive's adapters: the spill prefix of the data bucket, the capture streams, EMF counters. */
export function awsRedriveDependencies(env: NodeJS.ProcessEnv = process.env): RedriveDependencies {
  const config = bundledConfig(env);
  const metrics = new EmfPublisher({ Environment: config.environment });
  const { firehose, spillStore } = awsCaptureSink(config, captureStreams(env), requireEnv(ENV.dataBucket, env), metrics);
  return { store: spillStore, stream: firehose, metrics };
}

/** The deploy-time recorder's adapters: the bundled configuration, the data bucket and the serving state's table. */
export function awsServedEntitiesDependencies(env: NodeJS.ProcessEnv = process.env): ServedEntitiesDependencies {
  return {
    config: bundledConfig(env),
    store: new S3ObjectStore(new S3Client({}), requireEnv(ENV.dataBucket, env)),
    serving: new DynamoServingStateStore(new DynamoDBClient({}), requireEnv(ENV.servingTable, env)),
  };
}
