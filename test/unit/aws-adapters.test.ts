import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaClient, GetWorkGroupCommand } from '@aws-sdk/client-athena';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { InvokeEndpointCommand, ModelError, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FirehoseSink } from '../../lambdas/adapters/aws/firehose-sink.js';
import { LambdaBackend } from '../../lambdas/adapters/aws/lambda-backend.js';
import { S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.js';
import { SageMakerBackend } from '../../lambdas/adapters/aws/sagemaker-backend.js';
import type { CaptureRecord } from '../../lambdas/core/capture-record.js';
import { BackendError, BackendTimeoutError } from '../../lambdas/core/errors.js';
import { CaptureSinkError } from '../../lambdas/core/ports.js';
import { parseScoringRequest } from '../../lambdas/core/protocol.js';
import { awsScoringDependencies } from '../../lambdas/wiring/aws.js';
import { ENV } from '../../lambdas/shared/env.js';
import { cli } from '../helpers/cli.js';
import { demoConfig } from '../helpers/config.js';

const firehose = mockClient(FirehoseClient);
const lambda = mockClient(LambdaClient);
const sagemaker = mockClient(SageMakerRuntimeClient);

function record(i: number): CaptureRecord {
  return {
    request_id: `r${i}`,
    client_request_id: null,
    timestamp_ms: 1,
    request_time: '1970-01-01 00:00:00.001',
    status_code: 200,
    sampling_fraction: 1,
    execution_time_ms: 1,
    request: '{}',
    response: '{}',
    request_metadata: {},
    served_entity_id: null,
    logging_error_codes: [],
    requester: null,
    endpoint: 'iris',
    date: '1970-01-01',
  };
}

const request = (body = '{"inputs": [[1, 2, 3, 4]]}') => ({ body, contentType: 'application/json', parsed: parseScoringRequest('application/json', body), requestId: 'r' });

beforeEach(() => {
  firehose.reset();
  lambda.reset();
  sagemaker.reset();
});

describe('Capture sink: Firehose', () => {
  const sink = () => new FirehoseSink(new FirehoseClient({ region: 'eu-west-1' }), { streamsFor: () => ['iris-capture'], baseDelayMs: 1, maxAttempts: 3 });

  it('sends records as newline-terminated JSON to the endpoint stream', async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: '1' }] });
    await sink().put([record(1)]);
    expect(firehose).toHaveReceivedCommandWith(PutRecordBatchCommand, { DeliveryStreamName: 'iris-capture' });
    const data = firehose.commandCalls(PutRecordBatchCommand)[0]?.args[0].input.Records?.[0]?.Data as Uint8Array;
    expect(JSON.parse(new TextDecoder().decode(data))).toEqual(record(1));
  });

  it('retries only the records that failed in a partly failed batch', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .resolvesOnce({ FailedPutCount: 1, RequestResponses: [{ RecordId: 'a' }, { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow down' }, { RecordId: 'c' }] })
      .resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'b' }] });
    await sink().put([record(1), record(2), record(3)]);
    const calls = firehose.commandCalls(PutRecordBatchCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.Records).toHaveLength(1);
    expect(new TextDecoder().decode(calls[1]?.args[0].input.Records?.[0]?.Data)).toContain('"r2"');
  });

  it('splits batches at 500 records', async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0 });
    await sink().put(Array.from({ length: 1201 }, (_, i) => record(i)));
    expect(firehose.commandCalls(PutRecordBatchCommand).map((c) => c.args[0].input.Records?.length)).toEqual([500, 500, 201]);
  });

  it('reports records still failing after the last attempt, and the endpoint as FAILED', async () => {
    firehose.on(PutRecordBatchCommand).rejects(new Error('throttled'));
    const s = sink();
    await expect(s.put([record(1)])).rejects.toBeInstanceOf(CaptureSinkError);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(3);
    expect(s.status('iris').status).toBe('FAILED');
  });
});

describe('Backend: Lambda function', () => {
  const backend = () => new LambdaBackend(new LambdaClient({ region: 'eu-west-1' }), 'my-model', 1000);

  it('sends the scoring body as the event and answers the function result', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode('{"predictions":[1]}') as never });
    const answer = await backend().invoke(request());
    expect(answer).toEqual({ status: 200, body: '{"predictions":[1]}', contentType: 'application/json' });
    expect(lambda).toHaveReceivedCommandWith(InvokeCommand, { FunctionName: 'my-model', InvocationType: 'RequestResponse' });
  });

  it('accepts an API Gateway-style answer with its own status', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode('{"statusCode":400,"body":"{\\"error_code\\":\\"BAD_REQUEST\\"}"}') as never });
    expect((await backend().invoke(request())).status).toBe(400);
  });

  it('turns a function error into a backend error (502)', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: new TextEncoder().encode('{"errorMessage":"boom"}') as never });
    await expect(backend().invoke(request())).rejects.toMatchObject({ status: 502 });
  });

  it('turns an answer that is not JSON into a backend error', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode('garbage') as never });
    await expect(backend().invoke(request())).rejects.toBeInstanceOf(BackendError);
  });

  it('turns a timeout into 504', async () => {
    const error = new Error('aborted');
    error.name = 'AbortError';
    lambda.on(InvokeCommand).rejects(error);
    await expect(backend().invoke(request())).rejects.toBeInstanceOf(BackendTimeoutError);
  });
});

describe('Backend: SageMaker endpoint', () => {
  const backend = () => new SageMakerBackend(new SageMakerRuntimeClient({ region: 'eu-west-1' }), 'iris-endpoint', 1000);

  it('invokes the endpoint with the content type and answers its body', async () => {
    sagemaker.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode('{"predictions":[2]}') as never, ContentType: 'application/json' });
    expect((await backend().invoke(request())).body).toBe('{"predictions":[2]}');
    expect(sagemaker).toHaveReceivedCommandWith(InvokeEndpointCommand, { EndpointName: 'iris-endpoint', ContentType: 'application/json' });
  });

  it("passes the model's own 4xx through", async () => {
    sagemaker.on(InvokeEndpointCommand).rejects(new ModelError({ message: 'bad', $metadata: {}, OriginalStatusCode: 400, OriginalMessage: '{"error":"bad input"}' }));
    expect(await backend().invoke(request())).toMatchObject({ status: 400, body: '{"error":"bad input"}' });
  });

  it('turns a model failure into 502', async () => {
    sagemaker.on(InvokeEndpointCommand).rejects(new ModelError({ message: 'crash', $metadata: {}, OriginalStatusCode: 500 }));
    await expect(backend().invoke(request())).rejects.toMatchObject({ status: 502 });
  });
});

describe('Wiring: AWS', () => {
  const configDir = mkdtempSync(join(tmpdir(), 'wiring-'));
  writeFileSync(join(configDir, 'config.json'), JSON.stringify(demoConfig()));
  writeFileSync(join(configDir, 'bad.json'), '{"environment": "Bad"}');

  it('fails at cold start naming a missing variable', () => {
    expect(() => awsScoringDependencies({})).toThrow(`Environment variable ${ENV.configFile} is required`);
    expect(() => awsScoringDependencies({ [ENV.configFile]: 'config.json', LAMBDA_TASK_ROOT: configDir })).toThrow(
      `Environment variable ${ENV.captureStreams} is required`,
    );
  });

  it('names the variable pointing at an invalid configuration', () => {
    const env = { [ENV.configFile]: 'bad.json', LAMBDA_TASK_ROOT: configDir, [ENV.captureStreams]: '{}' };
    expect(() => awsScoringDependencies(env)).toThrow(/INFERENCE_TABLES_CONFIG_FILE.*environment/s);
    expect(() => awsScoringDependencies({ ...env, [ENV.configFile]: 'missing.json' })).toThrow(/INFERENCE_TABLES_CONFIG_FILE.*Cannot read/s);
  });

  it('reads the bundled configuration relative to the package root', () => {
    const deps = awsScoringDependencies({ [ENV.configFile]: 'config.json', LAMBDA_TASK_ROOT: configDir, [ENV.captureStreams]: '{"iris":["s1"]}', [ENV.dataBucket]: 'data-bucket' });
    expect(deps.config.endpoints.map((e) => e.name)).toEqual(['iris', 'chat']);
  });
});

describe('Object store: S3', () => {
  const s3 = mockClient(S3Client);
  const store = new S3ObjectStore(new S3Client({ region: 'eu-west-1' }), 'data-bucket');
  // The part of the SDK's stream body the store uses.
  const body = (bytes: Uint8Array) => ({ transformToByteArray: async () => bytes }) as never;

  beforeEach(() => s3.reset());

  it('lists every page of a prefix', async () => {
    const at = new Date('2026-11-02T10:00:00Z');
    s3.on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: 'iris_payload/a.parquet', Size: 10, LastModified: at }], IsTruncated: true, NextContinuationToken: 't' })
      .resolvesOnce({ Contents: [{ Key: 'iris_payload/b.parquet', Size: 20, LastModified: at }], IsTruncated: false });
    expect(await store.list('iris_payload/')).toEqual([
      { key: 'iris_payload/a.parquet', size: 10, lastModified: at },
      { key: 'iris_payload/b.parquet', size: 20, lastModified: at },
    ]);
    expect(s3.commandCalls(ListObjectsV2Command)[1]?.args[0].input).toMatchObject({ Bucket: 'data-bucket', Prefix: 'iris_payload/', ContinuationToken: 't' });
  });

  it('reads a Parquet file by byte ranges, as the unpack step asks', async () => {
    s3.on(GetObjectCommand).callsFake((input: { Range: string }) => {
      const [, from, to] = /bytes=(\d+)-(\d+)/.exec(input.Range) ?? [];
      return { Body: body(Uint8Array.from({ length: Number(to) - Number(from) + 1 }, (_, i) => Number(from) + i)) };
    });
    const reader = store.reader({ key: 'k', size: 100, lastModified: new Date() });
    expect([...new Uint8Array(await reader.slice(96))]).toEqual([96, 97, 98, 99]);
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'data-bucket', Key: 'k', Range: 'bytes=96-99' });
  });

  it('answers undefined for a missing object, and passes other errors on', async () => {
    s3.on(GetObjectCommand, { Key: 'missing' }).rejects(new NoSuchKey({ message: 'no', $metadata: {} }));
    s3.on(GetObjectCommand, { Key: 'denied' }).rejects(new Error('AccessDenied'));
    expect(await store.get('missing')).toBeUndefined();
    await expect(store.get('denied')).rejects.toThrow('AccessDenied');
  });

  it('deletes in batches of 1,000 keys and fails on any key S3 refused', async () => {
    s3.on(DeleteObjectsCommand).resolves({});
    await store.delete(Array.from({ length: 2500 }, (_, i) => `_refresh/runs/r/${i}`));
    expect(s3.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input.Delete?.Objects?.length)).toEqual([1000, 1000, 500]);
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: '_refresh/x', Message: 'Access Denied' }] });
    await expect(store.delete(['_refresh/x'])).rejects.toThrow('S3 refused to delete 1 objects, e.g. _refresh/x: Access Denied');
  });
});

describe('labels upload --env', () => {
  const s3 = mockClient(S3Client);
  const athena = mockClient(AthenaClient);
  const dir = mkdtempSync(join(tmpdir(), 'it-labels-'));
  const file = join(dir, 'labels.csv');
  writeFileSync(file, 'client_request_id,row_index,label\norder-42,0,1\n');

  beforeEach(() => {
    s3.reset();
    athena.reset();
    // As from the user's AWS profile: lib-storage reads the client's region before sending.
    vi.stubEnv('AWS_REGION', 'eu-west-1');
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("puts the Parquet labels under the endpoint's prefix of the bucket the workgroup writes to", async () => {
    athena.on(GetWorkGroupCommand).resolves({ WorkGroup: { Name: 'inference-tables-dev', Configuration: { ResultConfiguration: { OutputLocation: 's3://dev-data/athena-results/' } } } });
    s3.on(PutObjectCommand).resolves({});
    // No refresh has recorded the endpoint's state yet: the predictions' type is not known.
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }));
    const run = await cli('labels', 'upload', file, '--endpoint', 'iris', '--env', 'dev');
    expect(run).toMatchObject({ code: 0, err: '' });
    expect(athena).toHaveReceivedCommandWith(GetWorkGroupCommand, { WorkGroup: 'inference-tables-dev' });
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ Bucket: 'dev-data', Key: expect.stringMatching(/^iris_labels\/uploaded=\d{4}-\d{2}-\d{2}\/labels-.*\.parquet$/) });
    expect(Buffer.from(put?.Body as Uint8Array).subarray(0, 4).toString()).toBe('PAR1');
    expect(run.out).toMatch(/^1 labels for iris stored in s3:\/\/dev-data\/iris_labels\//);
  });

  it('names the workgroup when the environment is not deployed, and uploads nothing', async () => {
    athena.on(GetWorkGroupCommand).rejects(new Error('WorkGroup is not found.'));
    const run = await cli('labels', 'upload', file, '--endpoint', 'iris', '--env', 'dev');
    expect(run.code).toBe(1);
    expect(run.err).toContain("cannot find dev's bucket (workgroup inference-tables-dev): WorkGroup is not found.");
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });
});

describe('redrive --env', () => {
  const s3 = mockClient(S3Client);
  const athena = mockClient(AthenaClient);
  const key = '_spill/iris/1970-01-01/000000000000001-a.ndjson';

  beforeEach(() => {
    s3.reset();
    athena.reset();
    firehose.reset();
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    athena.on(GetWorkGroupCommand).resolves({ WorkGroup: { Name: 'inference-tables-dev', Configuration: { ResultConfiguration: { OutputLocation: 's3://dev-data/athena-results/' } } } });
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: key, Size: 10, LastModified: new Date(0) }] });
    const line = JSON.stringify({ spilled_at_ms: 1, reason: 'throttled', record: record(7) });
    s3.on(GetObjectCommand).resolves({ Body: { transformToByteArray: async () => new TextEncoder().encode(`${line}\n`) } as never });
    s3.on(DeleteObjectsCommand).resolves({});
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("puts the deployed environment's spilled records into the endpoint's stream, then deletes them", async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: '1' }] });
    const run = await cli('redrive', '--env', 'dev');
    expect(run).toMatchObject({ code: 0, err: '' });
    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: 'dev-data', Prefix: '_spill/' });
    const put = firehose.commandCalls(PutRecordBatchCommand)[0]?.args[0].input;
    expect(put?.DeliveryStreamName).toBe('inference-tables-dev-iris');
    expect(JSON.parse(new TextDecoder().decode(put?.Records?.[0]?.Data))).toEqual(record(7));
    expect(s3).toHaveReceivedCommandWith(DeleteObjectsCommand, { Bucket: 'dev-data', Delete: { Objects: [{ Key: key }], Quiet: true } });
    expect(run.out).toBe('1 spilled records put back into the stream from 1 of 1 spill objects.\n');
  });

  it('keeps the object and exits 1 when the stream refuses the records again', async () => {
    firehose.on(PutRecordBatchCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ServiceUnavailableException' }));
    const run = await cli('redrive', '--env', 'dev');
    expect(run.code).toBe(1);
    expect(run.out).toContain(`kept ${key} (1 records)`);
    expect(run.err).toContain('1 spill objects were kept; run redrive again later.');
    expect(s3).not.toHaveReceivedCommand(DeleteObjectsCommand);
  }, 20_000);
});

describe('Capture sink: Firehose, an endpoint without a stream', () => {
  it('reports its records failed, to be spilled, and still sends the others', async () => {
    firehose.reset();
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: '1' }] });
    const sink = new FirehoseSink(new FirehoseClient({ region: 'eu-west-1' }), { streamsFor: (e) => (e === 'iris' ? ['iris-capture'] : []) });
    const error = await sink.put([{ ...record(1), endpoint: 'gone' }, record(2)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CaptureSinkError);
    expect((error as CaptureSinkError).failed.map((r) => r.request_id)).toEqual(['r1']);
    expect((error as Error).message).toContain("no delivery stream for endpoint 'gone'");
    expect(firehose.commandCalls(PutRecordBatchCommand).map((c) => c.args[0].input.Records?.length)).toEqual([1]);
  });
});
