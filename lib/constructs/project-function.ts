import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { type ILogGroup, LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { Config } from '../../lambdas/core/config/index.js';
import { ENV } from '../../lambdas/shared/env.js';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * Largest request body the deployed function accepts. Lambda takes a 6 MB event (body,
 * headers and context, the body JSON-escaped), below API Gateway's 10 MB; larger capture
 * settings are lowered to this, so the function answers 413 itself and the request is captured.
 */
export const AWS_MAX_REQUEST_BYTES = 5 * 1024 * 1024;

/**
 * Writes the configuration the functions are bundled with, into a file named by its content:
 * request limits above what Lambda can receive are lowered, so the function itself answers 413.
 * @returns its path
 */
export function writeDeployedConfig(config: Config): string {
  const clamp = <T extends { capture: { max_request_bytes: number } }>(x: T): T => ({
    ...x,
    capture: { ...x.capture, max_request_bytes: Math.min(x.capture.max_request_bytes, AWS_MAX_REQUEST_BYTES) },
  });
  const deployed = { ...config, models: config.models.map(clamp), endpoints: config.endpoints.map(clamp) };
  const text = `${JSON.stringify(deployed, null, 2)}\n`;
  const dir = join(tmpdir(), 'inference-tables-config');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${config.environment}-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`);
  writeFileSync(file, text);
  return file;
}

/**
 * How every function is bundled: one minified ES module by the local esbuild (no Docker),
 * the SDK at the version tested here, and the environment's configuration copied beside it.
 */
function bundling(configFile: string, files: readonly string[]): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target: 'node22',
    minify: true,
    sourceMap: true,
    mainFields: ['module', 'main'],
    // The SDK is bundled at the version tested here, not the runtime's.
    bundleAwsSDK: true,
    forceDockerBundling: false,
    // Some bundled CommonJS code calls require() for Node built-ins.
    banner: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_input: string, output: string) => [
        `cp "${configFile}" "${output}/config.json"`,
        ...files.map((f) => `mkdir -p "$(dirname "${output}/${f}")" && cp "${join(ROOT, f)}" "${output}/${f}"`),
      ],
    },
  };
}

/** Props of {@link ProjectFunction}. */
export interface ProjectFunctionProps {
  /** Entry file in `lambdas/entry/`, e.g. `scoring.ts`. */
  readonly entry: string;
  /**
   * The entry's export the function runs.
   * @default 'handler'
   */
  readonly handler?: string;
  readonly description: string;
  /** @default 512 */
  readonly memorySize?: number;
  readonly timeout: Duration;
  /** @default no reserved concurrency */
  readonly reservedConcurrentExecutions?: number;
  /** The function's role; it is acknowledged the X-Ray wildcard, the one permission tracing needs. */
  readonly role: IRole;
  /** Where the function logs: see {@link ProjectFunction.logGroup}. */
  readonly logGroup: ILogGroup;
  /** The environment's key: it encrypts the function's environment variables (stream and bucket names). */
  readonly key: IKey;
  /** The environment's configuration file, bundled as `config.json` (see {@link writeDeployedConfig}). */
  readonly configFile: string;
  /**
   * Other files the function reads, paths from the project root, bundled at the same paths (baseline files).
   * @default none
   */
  readonly files?: readonly string[];
}

/**
 * The house defaults of every function of the product: Node.js 24 on arm64, X-Ray tracing,
 * an encrypted log group, environment variables encrypted with the environment's key, source
 * maps, the environment's configuration bundled beside the code (an environment variable
 * names it), and esbuild bundling without Docker.
 */
export class ProjectFunction extends NodejsFunction {
  /** A log group for functions, encrypted with the environment's key, removed with the stack. */
  public static logGroup(scope: Construct, id: string, key: IKey, retention: RetentionDays): LogGroup {
    return new LogGroup(scope, id, { encryptionKey: key, retention, removalPolicy: RemovalPolicy.DESTROY });
  }

  public constructor(scope: Construct, id: string, props: ProjectFunctionProps) {
    super(scope, id, {
      description: props.description,
      entry: join(ROOT, 'lambdas', 'entry', props.entry),
      handler: props.handler ?? 'handler',
      projectRoot: ROOT,
      depsLockFilePath: join(ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: Tracing.ACTIVE,
      role: props.role,
      logGroup: props.logGroup,
      environment: { [ENV.configFile]: 'config.json', NODE_OPTIONS: '--enable-source-maps' },
      environmentEncryption: props.key,
      bundling: bundling(props.configFile, props.files ?? []),
    });
    Validations.of(props.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray accepts trace segments only on Resource "*" (it has no resource-level permissions).',
    });
  }
}
