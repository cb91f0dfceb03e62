/**
 * Names of the environment variables the Lambda functions read. Imported by the constructs
 * that set them (lib/) and by the code that reads them (lambdas/), so the two cannot drift.
 */
export const ENV = {
  /**
   * Path of the environment configuration file, relative to the function's package root.
   * The file is bundled with the code rather than passed in the environment, whose 4 KB
   * limit a configuration with many endpoints would exceed.
   */
  configFile: 'INFERENCE_TABLES_CONFIG_FILE',
  /** JSON object: endpoint name → array of Firehose delivery stream names. */
  captureStreams: 'INFERENCE_TABLES_CAPTURE_STREAMS',
  /** Bucket of the environment's tables and of the refresh workflow's staged files. */
  dataBucket: 'INFERENCE_TABLES_DATA_BUCKET',
  /** Glue database the refresh workflow's SQL qualifies its tables with. */
  database: 'INFERENCE_TABLES_DATABASE',
  /** Athena workgroup the steps that query (the unpack in the engine, the metrics) run in. */
  workgroup: 'INFERENCE_TABLES_WORKGROUP',
  /** DynamoDB table of the serving state (registry stages and aliases, endpoint traffic and capture). */
  servingTable: 'INFERENCE_TABLES_SERVING_TABLE',
} as const;

/** A required environment variable is missing or invalid. */
export class EnvironmentError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EnvironmentError';
  }
}

/** Reads a required variable; throws naming it when it is missing. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new EnvironmentError(`Environment variable ${name} is required but not set.`);
  return value;
}

/** Reads a required variable holding JSON; throws naming it when it is missing or not JSON. */
export function requireJsonEnv(name: string, env: NodeJS.ProcessEnv = process.env): unknown {
  const raw = requireEnv(name, env);
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new EnvironmentError(`Environment variable ${name} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}
