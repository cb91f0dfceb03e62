import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_MAX_REQUEST_BYTES } from '../../lib/constructs/scoring-api.js';
import { loadConfig } from '../../lib/config.js';
import { captureRecordSchema } from '../../lambdas/core/capture-record.js';
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

function assetDir(dir: string): string {
  const asset = readdirSync(dir).find((f) => f.startsWith('asset.'));
  if (!asset) throw new Error(`no asset in ${dir}`);
  return join(dir, asset);
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

  it('bundles the function as one ES module with the environment configuration beside it', () => {
    const asset = assetDir(dir);
    expect(readdirSync(asset).sort()).toEqual(['config.json', 'index.mjs', 'index.mjs.map']);
    const bundled = JSON.parse(readFileSync(join(asset, 'config.json'), 'utf8'));
    const config = loadConfig(env, ROOT);
    expect(bundled.environment).toBe(config.environment);
    expect(bundled.endpoints.map((e: { name: string }) => e.name)).toEqual(config.endpoints.map((e) => e.name));
    for (const e of bundled.endpoints) expect(e.capture.max_request_bytes).toBeLessThanOrEqual(AWS_MAX_REQUEST_BYTES);
  });
});

describe('The bundled function of dev', () => {
  let server: Server;
  const puts: { target: string; stream: string; records: unknown[] }[] = [];

  beforeAll(async () => {
    // A loopback stand-in for the Firehose API: the bundled SDK really signs and sends the call.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
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
    const asset = assetDir(join(out, 'dev'));
    const template = readdirSync(join(out, 'dev', 'assembly-InferenceTables-dev')).find((f) => f.endsWith('.template.json')) as string;
    const resources = JSON.parse(readFileSync(join(out, 'dev', 'assembly-InferenceTables-dev', template), 'utf8')).Resources;
    const fn = Object.values(resources as Record<string, { Type: string; Properties: any }>).find((r) => r.Type === 'AWS::Lambda::Function')!;
    const address = server.address() as { port: number };
    Object.assign(process.env, fn.Properties.Environment.Variables, {
      LAMBDA_TASK_ROOT: asset,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'example',
      AWS_ENDPOINT_URL_FIREHOSE: `http://127.0.0.1:${address.port}`,
    });
    expect(process.env[ENV.configFile]).toBe('config.json');
    const { handler } = await import(pathToFileURL(join(asset, 'index.mjs')).href);

    const response = await handler(invoke('/model/iris-classifier/Production/invocations', { dataframe_records: seedRecords }), context);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ predictions: [0, 0, 0] });

    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({ target: 'Firehose_20150804.PutRecordBatch', stream: 'inference-tables-dev-iris-classifier' });
    const record = captureRecordSchema.parse(puts[0]!.records[0]);
    expect(record).toMatchObject({ endpoint: 'iris-classifier', status_code: 200, requester: 'arn:aws:iam::123456789012:user/alice' });
  }, 30_000);
});
