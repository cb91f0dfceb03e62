import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  Period,
  type IResource,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { type Alias, Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Backend, Config } from '../../lambdas/core/config/index.js';
import { ENV } from '../../lambdas/shared/env.js';
import { bundlingWithConfig } from './bundling.js';
import type { CaptureStorage } from './capture-storage.js';
import type { CaptureStreams } from './capture-streams.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** API Gateway gives up on an integration after 29 s. */
export const API_GATEWAY_TIMEOUT_SECONDS = 29;

/**
 * Largest request body the deployed function accepts. Lambda takes a 6 MB event (body,
 * headers and context, the body JSON-escaped), below API Gateway's 10 MB; larger captures
 * settings are lowered to this, so the function answers 413 itself and the request is captured.
 */
export const AWS_MAX_REQUEST_BYTES = 5 * 1024 * 1024;

/** The routes of the scoring API, the same as the local server's. */
export const SCORING_ROUTES: readonly { readonly method: 'GET' | 'POST'; readonly path: string }[] = [
  { method: 'GET', path: '/ping' },
  { method: 'GET', path: '/health' },
  { method: 'GET', path: '/version' },
  { method: 'POST', path: '/serving-endpoints/{name}/invocations' },
  { method: 'POST', path: '/serving-endpoints/{name}/served-models/{served}/invocations' },
  { method: 'POST', path: '/model/{name}/{ref}/invocations' },
  { method: 'GET', path: '/api/2.0/serving-endpoints' },
  { method: 'GET', path: '/api/2.0/serving-endpoints/{name}' },
];

/** Routes answered without credentials, the same two as the local server's. */
export const OPEN_ROUTES: ReadonlySet<string> = new Set(['/ping', '/health']);

/** Props of {@link ScoringApi}. */
export interface ScoringApiProps {
  readonly config: Config;
  readonly streams: CaptureStreams;
  /** Where records the streams do not take in time are spilled. */
  readonly storage: CaptureStorage;
  readonly key: IKey;
  readonly logRetention: RetentionDays;
}

/**
 * The HTTPS face of an environment: an API Gateway REST API with the local server's routes
 * (Lambda proxy integration, IAM or API-key authorization, usage plans, stage throttling,
 * access logs, X-Ray) in front of the scoring function, which holds the configuration in its
 * package and may put only to its own streams and invoke only its configured backends.
 */
export class ScoringApi extends Construct {
  public readonly function: NodejsFunction;
  /** The alias API Gateway calls; provisioned concurrency lives here. */
  public readonly alias: Alias;
  public readonly api: RestApi;
  /** API key ids by configured key name. */
  public readonly apiKeyIds: ReadonlyMap<string, string>;

  public constructor(scope: Construct, id: string, props: ScoringApiProps) {
    super(scope, id);
    const { config } = props;
    const settings = config.deployment;
    const configFile = writeDeployedConfig(config);

    const functionLogs = new LogGroup(this, 'FunctionLogs', { encryptionKey: props.key, retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const role = new Role(this, 'FunctionRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `inference-tables ${config.environment} scoring function`,
    });
    functionLogs.grantWrite(role);

    this.function = new NodejsFunction(this, 'Function', {
      description: `inference-tables ${config.environment}: MLflow scoring proxy that captures every request`,
      entry: join(ROOT, 'lambdas', 'entry', 'scoring.ts'),
      handler: 'handler',
      projectRoot: ROOT,
      depsLockFilePath: join(ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: settings.scoring_function.memory_mb,
      timeout: Duration.seconds(settings.scoring_function.timeout_seconds),
      reservedConcurrentExecutions: settings.scoring_function.reserved_concurrency,
      tracing: Tracing.ACTIVE,
      role,
      logGroup: functionLogs,
      environment: { [ENV.configFile]: 'config.json', NODE_OPTIONS: '--enable-source-maps' },
      bundling: bundlingWithConfig(configFile),
    });
    this.alias = this.function.addAlias('live', { provisionedConcurrentExecutions: settings.scoring_function.provisioned_concurrency });
    props.streams.grantPutRecords(this.function);
    props.storage.grantSpillWrite(this.function);
    grantBackends(role, config);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray accepts trace segments only on Resource "*" (it has no resource-level permissions).',
    });

    const integration = new LambdaIntegration(this.alias, {
      proxy: true,
      timeout: Duration.seconds(API_GATEWAY_TIMEOUT_SECONDS),
      // One permission for the whole API: a resource policy per method would grow with the routes.
      scopePermissionToMethod: false,
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', { encryptionKey: props.key, retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const { api } = settings;
    this.api = new RestApi(this, 'Api', {
      restApiName: `inference-tables-${config.environment}`,
      description: `inference-tables ${config.environment}: MLflow-compatible scoring with capture`,
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: true,
      // The account-level logging role is shared by every API of the account and region.
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: config.environment,
        throttlingRateLimit: api.rate_limit,
        throttlingBurstLimit: api.burst_limit,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: MethodLoggingLevel.ERROR,
        // Request bodies are captured by the function; execution logs would copy them unredacted.
        dataTraceEnabled: false,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
      },
      defaultIntegration: integration,
      defaultMethodOptions: {
        authorizationType: api.authorization === 'iam' ? AuthorizationType.IAM : AuthorizationType.NONE,
        apiKeyRequired: api.api_keys.length > 0,
      },
    });
    // The stack outputs the URL under a stable name (ApiUrl) instead.
    this.api.node.tryRemoveChild('Endpoint');
    for (const route of SCORING_ROUTES) {
      // Health checks (load balancers, uptime probes) carry no credentials, as locally; they
      // answer an empty body and run no model.
      const open = OPEN_ROUTES.has(route.path);
      const method = resourceAt(this.api.root, route.path).addMethod(route.method, undefined, open ? { authorizationType: AuthorizationType.NONE, apiKeyRequired: false } : undefined);
      if (open) {
        Validations.of(method).acknowledge(
          { id: 'AwsSolutions-APIG4', reason: 'A health check, open as on the local server: it answers an empty body and runs no model.' },
          { id: 'AwsSolutions-COG4', reason: 'A health check, open as on the local server: it answers an empty body and runs no model.' },
        );
      }
    }
    // Everything else reaches the function too, which answers 404/405 in MLflow's error shape.
    this.api.root.addProxy({ anyMethod: true });

    const keyIds = new Map<string, string>();
    for (const k of api.api_keys) {
      const key = this.api.addApiKey(`Key-${k.name}`, { apiKeyName: `inference-tables-${config.environment}-${k.name}` });
      const plan = this.api.addUsagePlan(`Plan-${k.name}`, {
        name: `inference-tables-${config.environment}-${k.name}`,
        throttle: k.rate_limit !== undefined || k.burst_limit !== undefined ? { rateLimit: k.rate_limit, burstLimit: k.burst_limit } : undefined,
        quota: k.quota ? { limit: k.quota.limit, period: Period[k.quota.period] } : undefined,
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      plan.addApiKey(key);
      keyIds.set(k.name, key.keyId);
    }
    this.apiKeyIds = keyIds;
    this.acknowledge(api.authorization);
  }

  private acknowledge(authorization: 'iam' | 'none'): void {
    const v = Validations.of(this);
    v.acknowledge(
      {
        id: 'AwsSolutions-APIG2',
        reason: "Bodies are validated by the function, which answers in MLflow's error format and captures the bad request; a gateway model would reject it uncaptured.",
      },
      { id: 'AwsSolutions-APIG3', reason: 'Callers are authenticated (SigV4 or API key) and bounded by stage throttling and usage plans; a WAF web ACL can be attached per account policy.' },
      { id: 'AwsSolutions-COG4', reason: 'Callers are programs signing with IAM (SigV4) or holding API keys; a Cognito user pool serves end users, not model clients.' },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: "AWS's own policy for the account-level role API Gateway writes execution logs with.",
      },
    );
    if (authorization === 'none') {
      v.acknowledge({ id: 'AwsSolutions-APIG4', reason: 'deployment.api.authorization is none: every method requires an API key instead (the configuration refuses none without keys).' });
    }
  }
}

function resourceAt(root: IResource, path: string): IResource {
  let node = root;
  for (const part of path.split('/').filter(Boolean)) node = node.getResource(part) ?? node.addResource(part);
  return node;
}

/**
 * Writes the configuration the function reads into a file named by its content. Request
 * limits above what Lambda can receive are lowered, so the function itself answers 413.
 */
/** Writes the configuration a function is bundled with (request limits clamped to Lambda's); returns its path. */
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

function backendsOf(config: Config): Backend[] {
  return config.models.flatMap((m) => m.versions.map((v) => v.backend));
}

/** Lets the function invoke exactly the Lambda functions and SageMaker endpoints it routes to. */
function grantBackends(role: Role, config: Config): void {
  const stack = Stack.of(role);
  const functions = new Set<string>();
  const endpoints = new Set<string>();
  for (const backend of backendsOf(config)) {
    if (backend.type === 'lambda') {
      functions.add(
        backend.function_name.startsWith('arn:')
          ? backend.function_name
          : stack.formatArn({ service: 'lambda', resource: 'function', resourceName: backend.function_name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      );
    } else if (backend.type === 'sagemaker') {
      // SageMaker endpoint ARNs are lowercase.
      endpoints.add(stack.formatArn({ service: 'sagemaker', region: backend.region ?? stack.region, resource: 'endpoint', resourceName: backend.endpoint_name.toLowerCase() }));
    }
  }
  if (functions.size > 0) role.addToPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [...functions] }));
  if (endpoints.size > 0) role.addToPolicy(new PolicyStatement({ actions: ['sagemaker:InvokeEndpoint'], resources: [...endpoints] }));
}

