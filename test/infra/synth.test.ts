import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_MAX_REQUEST_BYTES } from '../../lib/constructs/project-function.js';
import { REFRESH_STEPS, REFRESH_STEP_SPECS } from '../../lambdas/core/refresh-steps.js';
import { loadConfig } from '../../lambdas/wiring/config-file.js';
import { captureRecordSchema } from '../../lambdas/core/capture-record.js';
import { initialState } from '../../lambdas/core/serving-state.js';
import { ENV } from '../../lambdas/shared/env.js';
import seedRecords from '../fixtures/seed-dataframe-records.json' with { type: 'json' };
import { ROOT } from '../helpers/config.js';
import { context, invoke } from '../helpers/events.js';

const run = promisify(execFile);
const ENVIRONMENTS = ['local', 'dev', 'prod'] as const;
const out = mkdtempSync(join(tmpdir(), 'it-synth-'));

/** No credentials, no network: as on a fresh clone. */
const offline = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('CDK_'))),
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  CDK_DISABLE_VERSION_CHECK: '1',
};

/** The template of the synthesized stage in `dir`, and the bundled asset of each of its functions by handler. */
function synthesized(dir: string): { resources: Record<string, { Type: string; Properties: any }>; assetOf: (handler: string) => string } {
  const assembly = join(dir, readdirSync(dir).find((f) => f.startsWith('assembly-')) as string);
  const template = readdirSync(assembly).find((f) => f.endsWith('.template.json')) as string;
  const resources = JSON.parse(readFileSync(join(assembly, template), 'utf8')).Resources;
  const assetOf = (handler: string) => {
    const fn = Object.values(resources as Record<string, { Type: string; Properties: any; Metadata?: Record<string, string> }>).find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === handler,
    );
    const path = fn?.Metadata?.['aws:asset:path'];
    if (!path) throw new Error(`no function with handler ${handler} in ${dir}`);
    return join(assembly, path);
  };
  return { resources, assetOf };
}

describe.each(ENVIRONMENTS)('cdk synth -c env=%s', (env) => {
  const dir = join(out, env);
  let result: { stdout: string; stderr: string };

  beforeAll(async () => {
    result = await run('npx', ['cdk', 'synth', '-c', `env=${env}`, '-o', dir, '-q'], { cwd: ROOT, env: offline, timeout: 120_000 });
  }, 150_000);

  it('synthesizes offline with cdk-nag reporting nothing unacknowledged', () => {
    // The CLI's own banner differs between terminals and npm configurations; the exit code
    // (execFile rejects on failure) and the files it wrote are what prove the synth.
    expect(result.stderr).not.toMatch(/\[Error at /);
    const report = JSON.parse(readFileSync(join(dir, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports).toEqual([]);
    const assembly = readdirSync(dir).find((f) => f === `assembly-InferenceTables-${env}`);
    expect(assembly).toBeDefined();
    const template = readdirSync(join(dir, assembly as string)).find((f) => f.endsWith('.template.json'));
    expect(JSON.parse(readFileSync(join(dir, assembly as string, template as string), 'utf8')).Resources).toBeDefined();
  });

  it.each([
    ['scoring function', 'index.handler'],
    ['refresh steps', 'index.plan'],
    ['redrive function', 'index.redrive'],
    ['served-entities recorder', 'index.record'],
  ])('bundles the %s as one ES module with the environment configuration beside it', (_, handler) => {
    const asset = synthesized(dir).assetOf(handler);
    // The demo's drift baseline travels with the refresh steps, at its path in the project.
    const extra = handler === 'index.plan' && env === 'local' ? ['config'] : [];
    expect(readdirSync(asset).sort()).toEqual([...extra, 'config.json', 'index.mjs', 'index.mjs.map']);
    if (extra.length) expect(readFileSync(join(asset, 'config', 'baselines', 'iris.csv'), 'utf8')).toBe(readFileSync(join(ROOT, 'config', 'baselines', 'iris.csv'), 'utf8'));
    const bundled = JSON.parse(readFileSync(join(asset, 'config.json'), 'utf8'));
    const config = loadConfig(env, ROOT);
    expect(bundled.environment).toBe(config.environment);
    expect(bundled.endpoints.map((e: { name: string }) => e.name)).toEqual(config.endpoints.map((e) => e.name));
    for (const e of bundled.endpoints) expect(e.capture.max_request_bytes).toBeLessThanOrEqual(AWS_MAX_REQUEST_BYTES);
  });

  it('gives the refresh steps one bundle, which exports each step', async () => {
    const { resources, assetOf } = synthesized(dir);
    // The product's other functions, and CDK's custom-resource provider (`framework.onEvent`), aside.
    const steps = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Handler).startsWith('index.') && !['index.handler', 'index.redrive', 'index.record'].includes(r.Properties.Handler));
    expect(steps.map((r) => r.Properties.Handler).sort()).toEqual(REFRESH_STEPS.map((s) => `index.${REFRESH_STEP_SPECS[s].handler}`).sort());
    expect(new Set(steps.map((r) => assetOf(r.Properties.Handler))).size).toBe(1);
    const asset = assetOf('index.plan');
    Object.assign(process.env, steps[0]!.Properties.Environment.Variables, { LAMBDA_TASK_ROOT: asset, AWS_REGION: 'eu-west-1' });
    // Variables that are CloudFormation references in the template get a placeholder value.
    for (const [k, v] of Object.entries(steps[0]!.Properties.Environment.Variables)) if (typeof v !== 'string') process.env[k] = 'placeholder';
    const module = await import(`${pathToFileURL(join(asset, 'index.mjs')).href}?${env}`);
    for (const name of ['plan', 'unpack', 'prepare', 'metrics', 'finish', 'failure']) expect(typeof module[name], name).toBe('function');
  });
});

describe('The bundled function of dev', () => {
  let server: Server;
  const puts: { target: string; stream: string; records: unknown[] }[] = [];
  const reads: { TableName: string }[] = [];

  beforeAll(async () => {
    // A loopback stand-in for the Firehose and DynamoDB APIs: the bundled SDK really signs and sends the calls.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (String(req.headers['x-amz-target']).startsWith('DynamoDB_20120810.GetItem')) {
          // The serving state: version 3 of the iris classifier moved to Production at runtime.
          reads.push(JSON.parse(body) as { TableName: string });
          const config = loadConfig('dev', ROOT);
          const models = config.models.map((m) => (m.name === 'iris-classifier' ? { ...m, versions: m.versions.map((v) => ({ ...v, stage: v.version === '3' ? ('Production' as const) : v.stage === 'Production' ? ('Archived' as const) : v.stage })) } : m));
          const state = { ...initialState(config), config_version: 2, models };
          res.setHeader('content-type', 'application/x-amz-json-1.0');
          res.end(JSON.stringify({ Item: { pk: { S: 'serving-state' }, config_version: { N: '2' }, state: { S: JSON.stringify(state) } } }));
          return;
        }
        const call = JSON.parse(body) as { DeliveryStreamName: string; Records: { Data: string }[] };
        puts.push({
          target: String(req.headers['x-amz-target']),
          stream: call.DeliveryStreamName,
          records: call.Records.map((r) => JSON.parse(Buffer.from(r.Data, 'base64').toString('utf8'))),
        });
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        res.end(JSON.stringify({ FailedPutCount: 0, Encrypted: true, RequestResponses: call.Records.map((_, i) => ({ RecordId: `r${i}` })) }));
      });
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  });

  afterAll(() => {
    server.close();
    rmSync(out, { recursive: true, force: true });
  });

  it("answers the seeds' iris request and puts its capture record to the endpoint's stream", async () => {
    const { resources, assetOf } = synthesized(join(out, 'dev'));
    const asset = assetOf('index.handler');
    const fn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'index.handler' && String(r.Properties.Description).includes('scoring proxy'))!;
    const address = server.address() as { port: number };
    Object.assign(process.env, fn.Properties.Environment.Variables, {
      LAMBDA_TASK_ROOT: asset,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'example',
      AWS_ENDPOINT_URL_FIREHOSE: `http://127.0.0.1:${address.port}`,
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${address.port}`,
    });
    expect(process.env[ENV.configFile]).toBe('config.json');
    // What Lambda's Node.js runtime gives a streaming function: the metadata, 8 NUL bytes, then the body.
    (globalThis as { awslambda?: unknown }).awslambda = {
      streamifyResponse: (fn: unknown) => fn,
      HttpResponseStream: {
        from: (stream: Writable, metadata: unknown) => {
          stream.write(`${JSON.stringify(metadata)}\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000`);
          return stream;
        },
      },
    };
    const { handler } = (await import(pathToFileURL(join(asset, 'index.mjs')).href)) as { handler: (event: unknown, stream: Writable, ctx: unknown) => Promise<void> };
    /** The answer as API Gateway reads it from the function's response stream: metadata, then the body's writes. */
    const call = async (path: string, body: unknown) => {
      const writes: string[] = [];
      const stream = new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          writes.push(chunk.toString('utf8'));
          done();
        },
      });
      await handler(invoke(path, body), stream, context);
      const [prelude = '', ...rest] = writes.join('').split('\u0000'.repeat(8));
      return { metadata: JSON.parse(prelude) as { statusCode: number; headers: Record<string, string> }, body: rest.join(''), writes: writes.length };
    };

    const response = await call('/model/iris-classifier/Production/invocations', { dataframe_records: seedRecords });
    expect(response.metadata.statusCode).toBe(200);
    // Answered by the version the serving state put in Production, read from its table.
    expect(response.metadata.headers['served-model-name']).toBe('iris-classifier-3');
    expect(reads.length).toBeGreaterThan(0);
    expect(JSON.parse(response.body)).toEqual({ predictions: [0, 0, 0] });

    // A streamed chat answer, event by event, captured once it ended.
    const streamed = await call('/serving-endpoints/chat/invocations', { messages: [{ role: 'user', content: 'one two three' }], stream: true });
    expect(streamed.metadata).toMatchObject({ statusCode: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8' } });
    expect(streamed.writes).toBeGreaterThan(4);
    expect(streamed.body.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(puts.map((p) => p.stream)).toEqual(['inference-tables-dev-iris-classifier', 'inference-tables-dev-chat']);
    expect(captureRecordSchema.parse(puts[1]!.records[0])).toMatchObject({ streamed: true, status_code: 200 });
    puts.pop();

    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({ target: 'Firehose_20150804.PutRecordBatch', stream: 'inference-tables-dev-iris-classifier' });
    const record = captureRecordSchema.parse(puts[0]!.records[0]);
    expect(record).toMatchObject({ endpoint: 'iris-classifier', status_code: 200, requester: 'arn:aws:iam::123456789012:user/alice' });
  }, 30_000);
});
