import { AthenaClient, GetWorkGroupCommand } from '@aws-sdk/client-athena';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoServingStateStore } from '../adapters/aws/serving-state-table.js';
import { type ServingControl, servingControl } from '../core/serving-state.js';
import { Upload } from '@aws-sdk/lib-storage';
import { AthenaQueryEngine } from '../adapters/aws/athena-query-engine.js';
import { EmfPublisher } from '../adapters/aws/emf-publisher.js';
import { FirehoseConversions } from '../adapters/aws/firehose-conversions.js';
import { FirehoseSink } from '../adapters/aws/firehose-sink.js';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import type { Config } from '../core/config/index.js';
import { captureStreamNames, environmentNames } from '../core/names.js';
import { type RedriveOptions, type RedriveReport, redriveSpilled } from '../core/spill.js';
import { UserFacingError } from '../shared/errors.js';

/**
 * The deployed world: the command line acting on an environment that `cdk deploy` made, with
 * the user's own AWS credentials. Its resources are found by the names the stack gives them
 * (`environmentNames`, `captureStreamNames`), never guessed elsewhere.
 */

/** A deployed environment could not be reached or is not what the configuration describes. */
export class DeployedEnvironmentError extends UserFacingError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DeployedEnvironmentError';
  }
}

/** The SDK client options of an environment: its configured region, else the credentials' own. */
export function clientOptions(config: Config): { region?: string } {
  return config.deployment.region ? { region: config.deployment.region } : {};
}

/** The environment's data bucket, found from its workgroup's result location. */
export async function deployedBucket(config: Config): Promise<string> {
  const names = environmentNames(config.environment, config.database);
  let bucket: string | undefined;
  try {
    const wg = await new AthenaClient(clientOptions(config)).send(new GetWorkGroupCommand({ WorkGroup: names.workgroup }));
    bucket = /^s3:\/\/([^/]+)\//.exec(wg.WorkGroup?.Configuration?.ResultConfiguration?.OutputLocation ?? '')?.[1];
  } catch (error) {
    throw new DeployedEnvironmentError(`cannot find ${config.environment}'s bucket (workgroup ${names.workgroup}): ${(error as Error).message}`, { cause: error });
  }
  if (!bucket) throw new DeployedEnvironmentError(`workgroup ${names.workgroup} has no result location; is ${names.stack} deployed?`);
  return bucket;
}

/** Uploads a file to the environment's bucket (multipart when large); returns its S3 URI. */
export async function uploadToEnvironment(config: Config, key: string, body: Uint8Array, contentType: string): Promise<string> {
  const bucket = await deployedBucket(config);
  try {
    await new Upload({ client: new S3Client(clientOptions(config)), params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType } }).done();
  } catch (error) {
    throw new DeployedEnvironmentError(`cannot upload to s3://${bucket}/${key}: ${(error as Error).message}`, { cause: error });
  }
  return `s3://${bucket}/${key}`;
}

/** The delivery stream names of each endpoint, as the stack names them. */
function streamsOf(config: Config): (endpoint: string) => readonly string[] {
  const shards = new Map<string, number>([...config.endpoints, ...config.models].map((e) => [e.name, e.capture.streams]));
  return (endpoint) => captureStreamNames(config.environment, endpoint, shards.get(endpoint) ?? 1);
}

/** The environment's capture streams, as `doctor --env` reads their conversion settings. */
export function environmentStreams(config: Config): FirehoseConversions {
  return new FirehoseConversions(new FirehoseClient(clientOptions(config)), streamsOf(config));
}

/** Puts the environment's spilled records back into its Firehose streams. */
export async function redriveEnvironment(config: Config, options: RedriveOptions): Promise<RedriveReport> {
  const bucket = await deployedBucket(config);
  const clients = clientOptions(config);
  const stream = new FirehoseSink(new FirehoseClient(clients), { streamsFor: streamsOf(config), budgetMs: 10_000 });
  // Counted by the run's report, not published: the command is not a function with metrics.
  return redriveSpilled(new S3ObjectStore(new S3Client(clients), bucket), stream, new EmfPublisher({}, () => undefined), options);
}

/** A query engine on the environment's Athena workgroup and database. */
export function environmentQueryEngine(config: Config): { engine: AthenaQueryEngine; workgroup: string } {
  const names = environmentNames(config.environment, config.database);
  return { engine: new AthenaQueryEngine(new AthenaClient(clientOptions(config)), { workgroup: names.workgroup, database: names.database }), workgroup: names.workgroup };
}

/** The environment's data bucket as the object store of its tables (what `doctor --env` reads). */
export async function environmentStore(config: Config): Promise<S3ObjectStore> {
  return new S3ObjectStore(new S3Client(clientOptions(config)), await deployedBucket(config));
}

/** The serving state of a deployed environment (its DynamoDB table, the history in its bucket), changed with the user's credentials. */
export async function environmentServing(config: Config): Promise<ServingControl> {
  const names = environmentNames(config.environment, config.database);
  const store = new DynamoServingStateStore(new DynamoDBClient(clientOptions(config)), names.servingTable);
  return servingControl(config, store, await environmentStore(config), 0, { deployed: true });
}
