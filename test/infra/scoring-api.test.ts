import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { API_GATEWAY_TIMEOUT_SECONDS, SCORING_ROUTES, managementGatewayRoutes, shadowedRoutes } from '../../lib/constructs/scoring-api.js';
import { ENV } from '../../lambdas/shared/env.js';
import { configWith } from '../helpers/config.js';
import { environment, managementFunction, only, roleStatements, scoringFunction, synthesize } from '../helpers/stacks.js';

const dev = environment('dev').template;
const prod = environment('prod').template;

/** Method path (e.g. `POST /ping`) → method properties, from the template's resource tree. */
/** The routes that change production: IAM always, with the management policy, never an API key. */
const isManagement = (name: string) => name === 'ANY /api/2.0/mlflow/{proxy+}' || name === 'PUT /api/2.0/serving-endpoints/{name}/{action}';

function methods(template: typeof dev): Map<string, any> {
  const resources = template.findResources('AWS::ApiGateway::Resource');
  const api = only(template, 'AWS::ApiGateway::RestApi').logicalId;
  const pathOf = (ref: any): string => {
    if (ref['Fn::GetAtt']?.[0] === api) return '';
    const r = resources[ref.Ref] as { Properties: { ParentId: unknown; PathPart: string } };
    return `${pathOf(r.Properties.ParentId)}/${r.Properties.PathPart}`;
  };
  const out = new Map<string, any>();
  for (const m of Object.values(template.findResources('AWS::ApiGateway::Method'))) {
    out.set(`${m.Properties.HttpMethod} ${pathOf(m.Properties.ResourceId) || '/'}`, m.Properties);
  }
  return out;
}

describe('Serving: the REST API', () => {
  it('exposes the routes of the local server, and sends every other path to the function', () => {
    const shadowed = shadowedRoutes(['iris', 'chat']).map((r) => `${r.method} ${r.path}`);
    // The demo's `chat` endpoint beside the OpenAI route `/serving-endpoints/chat/completions`: its paths are added whole.
    expect(shadowed.sort()).toEqual(['POST /serving-endpoints/chat/invocations', 'POST /serving-endpoints/chat/served-models/{served}/invocations']);
    const scoring = SCORING_ROUTES.filter((r) => !r.management).map((r) => `${r.method} ${r.path}`);
    const management = managementGatewayRoutes().map((r) => `${r.method} ${r.path}`);
    expect([...methods(prod).keys()].sort()).toEqual([...scoring, ...management, ...shadowed, 'ANY /', 'ANY /{proxy+}'].sort());
  });

  it('integrates every method with the function alias through the streaming Lambda proxy, within 29 s to the first byte', () => {
    const alias = only(prod, 'AWS::Lambda::Alias').logicalId;
    const management = managementFunction(prod).logicalId;
    for (const [name, m] of methods(prod)) {
      expect(m.Integration.Type, name).toBe('AWS_PROXY');
      expect(m.Integration.TimeoutInMillis, name).toBe(API_GATEWAY_TIMEOUT_SECONDS * 1000);
      // Streamed LLM answers reach the caller event by event (InvokeWithResponseStream).
      expect(m.Integration.ResponseTransferMode, name).toBe('STREAM');
      expect(JSON.stringify(m.Integration.Uri), name).toContain('response-streaming-invocations');
      // The management routes reach the management function, every other route the scoring function's alias.
      expect(JSON.stringify(m.Integration.Uri), name).toContain(isManagement(name) ? management : alias);
    }
  });

  it('may invoke the configured Bedrock models only, whole and streamed, and read only the secrets of external models', () => {
    const statements = roleStatements(dev, scoringFunction(dev));
    const bedrock = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('bedrock:')));
    expect(bedrock).toHaveLength(1);
    expect(bedrock[0].Action).toEqual(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']);
    expect(JSON.stringify(bedrock[0].Resource)).toContain('foundation-model/anthropic.claude-3-haiku-20240307-v1:0');
    expect([bedrock[0].Resource].flat()).toHaveLength(1);

    const external = synthesize(
      configWith((c) => {
        c.models.push({ name: 'gpt', versions: [{ version: '1', backend: { type: 'openai', base_url: 'https://api.openai.com/v1', model: 'gpt-4o-mini', api_key: { secret: 'inference-tables/openai' } } }] });
        c.models.push({ name: 'eu-claude', versions: [{ version: '1', backend: { type: 'bedrock', model_id: 'eu.anthropic.claude-3-haiku-20240307-v1:0' } }] });
      }),
    ).template;
    const all = roleStatements(external, scoringFunction(external));
    const secret = all.find((s) => s.Action === 'secretsmanager:GetSecretValue');
    expect(JSON.stringify(secret.Resource)).toContain(':secret:inference-tables/openai-??????');
    // An inference profile: the profile, and its model in the regions it routes to.
    const profile = JSON.stringify(all.find((s) => [s.Action].flat().includes('bedrock:InvokeModel')).Resource);
    expect(profile).toContain('inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0');
    expect(profile).toContain(':bedrock:*::foundation-model/anthropic.claude-3-haiku-20240307-v1:0');
    expect(() =>
      synthesize(configWith((c) => c.models.push({ name: 'gpt', versions: [{ version: '1', backend: { type: 'openai', base_url: 'https://api.openai.com/v1', model: 'm', api_key: { env: 'OPENAI_API_KEY' } } }] }))),
    ).toThrow(/reads its API key from the environment variable OPENAI_API_KEY, which a deployed function does not have/);
  });

  const isOpen = (name: string) => name === 'GET /ping' || name === 'GET /health';
  /** The routes that change production: IAM always, with the management policy, never an API key. */

  it('requires SigV4 (IAM) on every method but the two health checks by default', () => {
    for (const [name, m] of methods(prod)) expect(m.AuthorizationType, name).toBe(isOpen(name) ? 'NONE' : 'AWS_IAM');
  });

  it('requires an API key on every method but the two health checks when keys are configured, with IAM or alone', () => {
    for (const [name, m] of methods(prod)) expect(m.ApiKeyRequired ?? false, name).toBe(!isOpen(name) && !isManagement(name));
    for (const [name, m] of methods(dev)) expect([m.AuthorizationType, m.ApiKeyRequired ?? false], name).toEqual(isOpen(name) ? ['NONE', false] : isManagement(name) ? ['AWS_IAM', false] : ['NONE', true]);
  });

  it('takes IAM on the management routes whatever scoring takes, and grants them in a policy of their own', () => {
    const managed = [...methods(dev)].filter(([name]) => isManagement(name)).map(([name]) => name).sort();
    // Two resources, however many registry calls: the stack stays far from 500 resources.
    expect(managed).toEqual(['ANY /api/2.0/mlflow/{proxy+}', 'PUT /api/2.0/serving-endpoints/{name}/{action}']);
    const policy = only(dev, 'AWS::IAM::ManagedPolicy', { Description: Match.stringLikeRegexp('^Change what') }).Properties.PolicyDocument;
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0].Action).toBe('execute-api:Invoke');
    const granted = JSON.stringify(policy.Statement[0].Resource);
    for (const route of ['/PUT/api/2.0/serving-endpoints/*/*', '/*/api/2.0/mlflow/*']) expect(granted).toContain(route);
    expect(granted).not.toContain('invocations');
  });

  it('requires no key when none is configured', () => {
    const { template } = synthesize(configWith((c) => (c.deployment = { api: { authorization: 'iam' } })));
    for (const [name, m] of methods(template)) expect([m.AuthorizationType, m.ApiKeyRequired ?? false], name).toEqual([isOpen(name) ? 'NONE' : 'AWS_IAM', false]);
  });

  it('leaves open only the routes the local server leaves open', () => {
    expect([...methods(prod)].filter(([, m]) => m.AuthorizationType === 'NONE' && !m.ApiKeyRequired).map(([name]) => name).sort()).toEqual(['GET /health', 'GET /ping']);
  });

  it('gives each API key a usage plan with its rate, burst and quota on the stage', () => {
    prod.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'inference-tables-prod-partner-batch',
      Throttle: { RateLimit: 50, BurstLimit: 100 },
      Quota: { Limit: 1_000_000, Period: 'MONTH' },
      ApiStages: [Match.objectLike({ Stage: { Ref: Match.stringLikeRegexp('DeploymentStageprod') } })],
    });
    prod.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', { KeyType: 'API_KEY' });
    prod.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
  });

  it('throttles the stage, traces it with X-Ray and writes JSON access logs to an encrypted group', () => {
    const stage = only(prod, 'AWS::ApiGateway::Stage').Properties;
    expect(stage.StageName).toBe('prod');
    expect(stage.TracingEnabled).toBe(true);
    expect(stage.MethodSettings).toEqual([
      expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000, LoggingLevel: 'ERROR', DataTraceEnabled: false }),
    ]);
    expect(JSON.parse(stage.AccessLogSetting.Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
  });

  it('is a regional endpoint', () => {
    prod.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: 'inference-tables-prod', EndpointConfiguration: { Types: ['REGIONAL'] } });
  });

  it('lets API Gateway invoke only the function alias, from this API', () => {
    const permissions = Object.values(prod.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'apigateway.amazonaws.com' } })).map((p) => p.Properties);
    // The scoring function's alias, and the management function for its routes.
    expect(permissions.map((p) => JSON.stringify(p.FunctionName)).sort()).toEqual(
      [JSON.stringify({ Ref: only(prod, 'AWS::Lambda::Alias').logicalId }), JSON.stringify({ 'Fn::GetAtt': [managementFunction(prod).logicalId, 'Arn'] })].sort(),
    );
    for (const p of permissions) expect(JSON.stringify(p.SourceArn)).toContain(only(prod, 'AWS::ApiGateway::RestApi').logicalId);
  });
});

describe('Serving: the scoring function', () => {
  const fn = () => scoringFunction(prod).Properties;

  it('runs Node.js 22 or newer on arm64', () => {
    expect(Number(/^nodejs(\d+)\.x$/.exec(fn().Runtime)?.[1])).toBeGreaterThanOrEqual(22);
    expect(fn().Architectures).toEqual(['arm64']);
  });

  it('stops before API Gateway does, or streams for longer where the configuration allows it', () => {
    expect(fn().Timeout).toBeLessThan(API_GATEWAY_TIMEOUT_SECONDS);
    expect(fn().Timeout).toBe(28);
    // dev serves an LLM: its streams may run 5 minutes; whole answers still start within 28 s (its backends' budget).
    expect(scoringFunction(dev).Properties.Timeout).toBe(300);
  });

  it('takes memory and reserved concurrency from the configuration', () => {
    expect(fn()).toMatchObject({ MemorySize: 1769, ReservedConcurrentExecutions: 200, TracingConfig: { Mode: 'Active' } });
  });

  it('keeps provisioned concurrency on the alias the API calls', () => {
    prod.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 } });
    expect(only(dev, 'AWS::Lambda::Alias').Properties.ProvisionedConcurrencyConfig).toBeUndefined();
  });

  it('reads its configuration from its own package', () => {
    expect(fn().Environment.Variables[ENV.configFile]).toBe('config.json');
  });

  it('logs to its own encrypted log group, without an AWS managed policy', () => {
    const role = prod.findResources('AWS::IAM::Role')[fn().Role['Fn::GetAtt'][0]]!.Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(fn().LoggingConfig.LogGroup).toEqual({ Ref: expect.stringMatching(/^ScoringFunctionLogs/) });
  });

  it('may invoke only the Lambda functions and SageMaker endpoints it routes to', () => {
    const config = configWith((c) => {
      c.models[0].versions[0].backend = { type: 'lambda', function_name: 'iris-v1:live' };
      c.models[0].versions[2].backend = { type: 'sagemaker', endpoint_name: 'Iris-Endpoint', region: 'eu-west-1' };
    });
    const statements = Object.values(synthesize(config).template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const invoke = statements.find((s) => s.Action === 'lambda:InvokeFunction');
    expect(JSON.stringify(invoke.Resource)).toMatch(/:function:iris-v1:live"/);
    const sagemaker = statements.find((s) => s.Action === 'sagemaker:InvokeEndpoint');
    expect(JSON.stringify(sagemaker.Resource)).toMatch(/:sagemaker:eu-west-1:.*:endpoint\/iris-endpoint"/);
    const devTemplate = environment('dev').template;
    const devRole = scoringFunction(devTemplate).Properties.Role['Fn::GetAtt'][0];
    const dev = Object.values(devTemplate.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === devRole))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(dev.length).toBeGreaterThan(0);
    expect(dev.some((s) => /lambda:Invoke|sagemaker:/.test(JSON.stringify(s.Action)))).toBe(false);
  });

  it('may read the state of exactly the Lambda functions it invokes, for the endpoint API', () => {
    const config = configWith((c) => {
      c.models[0].versions[0].backend = { type: 'lambda', function_name: 'iris-v1:live' };
    });
    const { template } = synthesize(config);
    const statements = roleStatements(template, scoringFunction(template));
    const actions = (s: { Action: string | string[] }) => [s.Action].flat();
    const invoke = statements.find((s) => actions(s).includes('lambda:InvokeFunction'));
    const read = statements.find((s) => actions(s).includes('lambda:GetFunctionConfiguration'));
    expect(read.Resource).toEqual(invoke.Resource);
    expect(JSON.stringify(read.Resource)).toMatch(/:function:iris-v1:live"/);
    expect(statements.filter((s) => JSON.stringify(s.Action).includes('lambda:GetFunction'))).toHaveLength(1);
  });

  it('has no statement with a * action, and * resources only where IAM has no resource type (X-Ray, log delivery, metrics)', () => {
    for (const template of [dev, prod]) {
      const statements = [
        ...Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement),
        ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')).flatMap((p) => p.Properties.PolicyDocument.Statement),
      ];
      for (const s of statements) {
        for (const action of [s.Action].flat()) expect(action).not.toMatch(/\*/);
        // Step Functions' log delivery actions are documented as supporting only `*`.
        // PutMetricData has no resource type either; a condition keeps it to the product's namespace.
        const ownNamespace = s.Condition?.StringEquals?.['cloudwatch:namespace'] === 'InferenceTables';
        if ([s.Resource].flat().includes('*')) {
          const allowed = (a: string) => /^(xray:|logs:\w*(LogDelivery|LogDeliveries|ResourcePolic|DescribeLogGroups))/.test(a) || (a === 'cloudwatch:PutMetricData' && ownNamespace);
          expect([s.Action].flat().every(allowed), JSON.stringify(s.Action)).toBe(true);
        }
      }
    }
  });
});

describe('Serving state: the table the management routes change', () => {
  it('is one DynamoDB table, encrypted with the environment key, with point-in-time recovery, kept when the stack goes', () => {
    const table = only(dev, 'AWS::DynamoDB::Table');
    expect(table.Properties).toMatchObject({
      TableName: 'inference-tables-dev-serving',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [only(dev, 'AWS::KMS::Key').logicalId, 'Arn'] } },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(dev.findResources('AWS::DynamoDB::Table')[table.logicalId]?.DeletionPolicy).toBe('Retain');
  });

  it('may be read by the scoring function only (GetItem), and written by the management function and the deploy-time seeding', () => {
    const table = only(dev, 'AWS::DynamoDB::Table').logicalId;
    const onTable = (statements: any[]) => statements.filter((s) => JSON.stringify(s.Resource).includes(table)).flatMap((s) => [s.Action].flat()).sort();
    expect(onTable(roleStatements(dev, scoringFunction(dev)))).toEqual(['dynamodb:GetItem']);
    expect(scoringFunction(dev).Properties.Environment.Variables[ENV.servingTable]).toEqual({ Ref: table });
    expect(onTable(roleStatements(dev, managementFunction(dev)))).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    const recorder = only(dev, 'AWS::Lambda::Function', { Handler: 'index.record' });
    expect(onTable(roleStatements(dev, recorder))).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    // The management function also appends the served-entities history; the scoring function may not.
    const history = (statements: any[]) => statements.some((s) => JSON.stringify(s.Resource).includes('served_entities_history'));
    expect(history(roleStatements(dev, managementFunction(dev)))).toBe(true);
    expect(history(roleStatements(dev, scoringFunction(dev)))).toBe(false);
  });
});
