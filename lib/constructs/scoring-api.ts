import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  type CfnRestApi,
  type CfnStage,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  Period,
  type IResource,
  ResponseTransferMode,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Alias, IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type Backend, type DeploymentSettings, WHOLE_ANSWER_SECONDS } from '../../lambdas/core/config/index.js';
import { OPEN_PATHS, ROUTES, type RouteSpec } from '../../lambdas/core/routes.js';

type RouteMethod = RouteSpec['method'];
import { ProjectFunction } from './project-function.js';
import type { CaptureStorage } from './capture-storage.js';
import type { CaptureStreams } from './capture-streams.js';
import type { ServingStateTable } from './serving-state.js';

/** API Gateway gives up on an integration after 29 s. */
export const API_GATEWAY_TIMEOUT_SECONDS = 29;

/** The routes of the scoring API: the core route table's, as the local server serves them. */
export const SCORING_ROUTES: readonly { readonly method: RouteMethod; readonly path: string; readonly management: boolean }[] = ROUTES.map(({ method, path, management }) => ({ method, path, management: management ?? false }));

/**
 * The gateway resources of the management routes: the registry's calls under one greedy
 * resource (any method), an endpoint's changes under one `{action}` resource (PUT).
 */
export function managementGatewayRoutes(): { method: RouteMethod | 'ANY'; path: string }[] {
  const out = new Map<string, { method: RouteMethod | 'ANY'; path: string }>();
  for (const r of SCORING_ROUTES.filter((x) => x.management)) {
    const gathered = r.path.startsWith('/api/2.0/mlflow/') ? { method: 'ANY' as const, path: '/api/2.0/mlflow/{proxy+}' } : { method: r.method, path: r.path.replace(/\/[^/]+$/, '/{action}') };
    out.set(`${gathered.method} ${gathered.path}`, gathered);
  }
  return [...out.values()];
}

/**
 * The routes an endpoint's name would not reach through its `{name}` template because a static
 * route has a segment of that name at that place (an endpoint named `chat` beside
 * `/serving-endpoints/chat/completions`): API Gateway matches the static segment first and does
 * not go back to the template, so these paths are added whole.
 */
export function shadowedRoutes(endpoints: readonly string[]): { method: RouteMethod; path: string; management: boolean }[] {
  const staticPrefixes = new Set(SCORING_ROUTES.flatMap((r) => r.path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'))).filter((p) => !p.includes('{')));
  const out: { method: RouteMethod; path: string; management: boolean }[] = [];
  for (const route of SCORING_ROUTES) {
    const at = route.path.indexOf('{name}');
    if (at < 0) continue;
    for (const name of endpoints) {
      if (staticPrefixes.has(`${route.path.slice(0, at)}${name}`)) out.push({ ...route, path: route.path.replace('{name}', name) });
    }
  }
  return out;
}

/** Props of {@link ScoringApi}. */
export interface ScoringApiProps {
  /** Environment name, in the API's, stage's and function's names. */
  readonly environment: string;
  /** The environment's configuration file, bundled with the function (it routes and captures by it). */
  readonly configFile: string;
  /** The function's memory, timeout and concurrency. */
  readonly function: DeploymentSettings['scoring_function'];
  /** Authorization, API keys with their usage plans, and stage throttling. */
  readonly api: DeploymentSettings['api'];
  /** The backends the function may invoke: only these Lambda functions, SageMaker endpoints, Bedrock models and secrets. */
  readonly backends: readonly Backend[];
  /** The endpoints served, whose paths a static route's segment would shadow (see {@link shadowedRoutes}). */
  readonly endpoints: readonly string[];
  readonly streams: CaptureStreams;
  /** Where records the streams do not take in time are spilled. */
  readonly storage: CaptureStorage;
  /** The serving state: the scoring function reads it, the management function writes it. */
  readonly serving: ServingStateTable;
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
  public readonly function: ProjectFunction;
  /** The alias API Gateway calls; provisioned concurrency lives here. */
  public readonly alias: Alias;
  /**
   * The same code behind the management routes only, under a role of its own: it may write the
   * serving state and its history, which the scoring function may only read.
   */
  public readonly managementFunction: ProjectFunction;
  public readonly api: RestApi;
  /** API key ids by configured key name. */
  public readonly apiKeyIds: ReadonlyMap<string, string>;
  /**
   * Lets its holder call the management routes (the registry's stages and aliases, an
   * endpoint's served entities, traffic and capture), and nothing else: a credential distinct
   * from the scoring one. Attach it to the roles of the people and pipelines that change production.
   */
  public readonly managementPolicy: ManagedPolicy;

  public constructor(scope: Construct, id: string, props: ScoringApiProps) {
    super(scope, id);
    const { environment } = props;
    // The scoring function, and the same code for the management routes under its own role.
    const make = (id: string, what: string, settings: { memorySize?: number; timeout: Duration; reservedConcurrentExecutions?: number | undefined }, captures: boolean) => {
      const logs = ProjectFunction.logGroup(this, `${id}Logs`, props.key, props.logRetention);
      const role = new Role(this, `${id}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description: `inference-tables ${environment} ${what}` });
      logs.grantWrite(role);
      const fn = new ProjectFunction(this, id, { description: `inference-tables ${environment}: ${what}`, entry: 'scoring.ts', ...settings, role, logGroup: logs, configFile: props.configFile, key: props.key });
      // The management routes are never captured: that function may not put or spill records.
      if (captures) {
        props.streams.grantPutRecords(fn);
        props.storage.grantSpillWrite(fn);
      } else props.streams.nameStreams(fn);
      props.storage.grantHealthRead(fn);
      // The endpoint API probes the backends of the served entities it describes.
      grantBackends(role, props.backends);
      return fn;
    };
    this.function = make('Function', 'MLflow scoring proxy that captures every request', {
      memorySize: props.function.memory_mb,
      timeout: Duration.seconds(props.function.timeout_seconds),
      reservedConcurrentExecutions: props.function.reserved_concurrency,
    }, true);
    this.alias = this.function.addAlias('live', { provisionedConcurrentExecutions: props.function.provisioned_concurrency });
    props.serving.grantRead(this.function);
    this.managementFunction = make('Management', 'management routes (registry stages and aliases, endpoint traffic and capture)', { timeout: Duration.seconds(WHOLE_ANSWER_SECONDS) }, false);
    props.serving.grantReadWrite(this.managementFunction);
    props.storage.grantServedEntitiesWrite(this.managementFunction);

    const integrationOf = (target: IFunction) =>
      new LambdaIntegration(target, {
        proxy: true,
        timeout: Duration.seconds(API_GATEWAY_TIMEOUT_SECONDS),
        // Answers are streamed (InvokeWithResponseStream), so a `"stream": true` LLM answer reaches
        // the caller event by event; every other answer is one write after its metadata.
        responseTransferMode: ResponseTransferMode.STREAM,
        // One permission for the whole API: a resource policy per method would grow with the routes.
        scopePermissionToMethod: false,
      });
    const integration = integrationOf(this.alias);
    const managementIntegration = integrationOf(this.managementFunction);
    const accessLogs = ProjectFunction.logGroup(this, 'AccessLogs', props.key, props.logRetention);
    const { api } = props;
    this.api = new RestApi(this, 'Api', {
      restApiName: `inference-tables-${environment}`,
      description: `inference-tables ${environment}: MLflow-compatible scoring with capture`,
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: true,
      // The account-level logging role is shared by every API of the account and region.
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: environment,
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
    // Changes to production take IAM (the management policy), whatever scoring takes. They
    // are gathered under two resources, so the stack's size does not grow with the registry's
    // calls (CloudFormation allows 500 resources); the function routes them exactly.
    const managed = managementGatewayRoutes();
    for (const m of managed) resourceAt(this.api.root, m.path).addMethod(m.method, managementIntegration, { authorizationType: AuthorizationType.IAM, apiKeyRequired: false });
    for (const route of [...SCORING_ROUTES, ...shadowedRoutes(props.endpoints)].filter((r) => !r.management)) {
      // Health checks (load balancers, uptime probes) carry no credentials, as locally; they
      // answer an empty body and run no model.
      const open = OPEN_PATHS.has(route.path);
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
      const key = this.api.addApiKey(`Key-${k.name}`, { apiKeyName: `inference-tables-${environment}-${k.name}` });
      const plan = this.api.addUsagePlan(`Plan-${k.name}`, {
        name: `inference-tables-${environment}-${k.name}`,
        throttle: k.rate_limit !== undefined || k.burst_limit !== undefined ? { rateLimit: k.rate_limit, burstLimit: k.burst_limit } : undefined,
        quota: k.quota ? { limit: k.quota.limit, period: Period[k.quota.period] } : undefined,
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      plan.addApiKey(key);
      keyIds.set(k.name, key.keyId);
    }
    this.apiKeyIds = keyIds;
    this.managementPolicy = new ManagedPolicy(this, 'ManagementPolicy', {
      description: `Change what inference-tables ${environment} serves and captures (registry stages and aliases, endpoint traffic and capture)`,
      statements: [
        new PolicyStatement({
          sid: 'CallTheManagementRoutes',
          actions: ['execute-api:Invoke'],
          resources: managed.map((m) => this.api.arnForExecuteApi(m.method === 'ANY' ? '*' : m.method, m.path.replace(/\{[^}]+\}/g, '*'), this.api.deploymentStage.stageName)),
        }),
      ],
    });
    const stack = Stack.of(this);
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const apiId = stack.getLogicalId(this.api.node.defaultChild as CfnRestApi);
    const stageId = stack.getLogicalId(this.api.deploymentStage.node.defaultChild as CfnStage);
    for (const m of managed) {
      Validations.of(this.managementPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:${region}:<AWS::AccountId>:<${apiId}>/<${stageId}>/${m.method === 'ANY' ? '*' : m.method}${m.path.replace(/\{[^}]+\}/g, '*')}]`,
        reason: 'The management routes of this API only (the registry calls, an endpoint config and ai-gateway); the function routes them exactly and answers the others 501.',
      });
    }
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

/** Lets the function invoke exactly the Lambda functions and SageMaker endpoints it routes to, and read the functions' state. */
/**
 * What invoking a Bedrock model id needs: its foundation model in its region; for an inference
 * profile (`eu.…`, routed across the regions of its geography), the profile and its
 * foundation model in any region; an ARN as given.
 */
export function bedrockArns(stack: Stack, modelId: string, region?: string): string[] {
  if (modelId.startsWith('arn:')) return [modelId];
  const r = region ?? stack.region;
  const profile = /^(us|eu|apac|us-gov|ca|jp|au|global)\.(.+)$/.exec(modelId);
  if (!profile) return [stack.formatArn({ service: 'bedrock', region: r, account: '', resource: 'foundation-model', resourceName: modelId })];
  return [
    stack.formatArn({ service: 'bedrock', region: r, resource: 'inference-profile', resourceName: modelId }),
    stack.formatArn({ service: 'bedrock', region: '*', account: '', resource: 'foundation-model', resourceName: profile[2] as string }),
  ];
}

function grantBackends(role: Role, backends: readonly Backend[]): void {
  const stack = Stack.of(role);
  const functions = new Set<string>();
  const endpoints = new Set<string>();
  const secrets = new Set<string>();
  const models = new Set<string>();
  for (const backend of backends) {
    if (backend.type === 'bedrock') {
      for (const arn of bedrockArns(stack, backend.model_id, backend.region)) models.add(arn);
      continue;
    }
    if (backend.type === 'openai' && backend.api_key) {
      if (!('secret' in backend.api_key)) {
        throw new Error(`The external model ${backend.model} reads its API key from the environment variable ${backend.api_key.env}, which a deployed function does not have: store the key in a Secrets Manager secret and name it in backend.api_key.secret.`);
      }
      const secret = backend.api_key.secret;
      // A secret named without its ARN: its ARN ends with six random characters after the name.
      secrets.add(secret.startsWith('arn:') ? secret : stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${secret}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }));
    } else if (backend.type === 'lambda') {
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
  if (functions.size > 0) {
    role.addToPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [...functions] }));
    // The endpoint API reports each function's state (GetFunctionConfiguration), read-only.
    role.addToPolicy(new PolicyStatement({ actions: ['lambda:GetFunctionConfiguration'], resources: [...functions] }));
  }
  if (endpoints.size > 0) role.addToPolicy(new PolicyStatement({ actions: ['sagemaker:InvokeEndpoint'], resources: [...endpoints] }));
  // The configured Bedrock models only, called whole and streamed.
  if (models.size > 0) role.addToPolicy(new PolicyStatement({ actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'], resources: [...models] }));
  // Each external model's key, and nothing else of Secrets Manager.
  if (secrets.size > 0) role.addToPolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [...secrets] }));
}

