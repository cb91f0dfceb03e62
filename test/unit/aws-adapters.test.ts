import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { InvokeEndpointCommand, ModelError, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { FirehoseSink } from '../../lambdas/adapters/aws/firehose-sink.js';
import { LambdaBackend } from '../../lambdas/adapters/aws/lambda-backend.js';
import { SageMakerBackend } from '../../lambdas/adapters/aws/sagemaker-backend.js';
import type { CaptureRecord } from '../../lambdas/core/capture-record.js';
import { BackendError, BackendTimeoutError } from '../../lambdas/core/errors.js';
import { CaptureSinkError } from '../../lambdas/core/ports.js';
import { parseScoringRequest } from '../../lambdas/core/protocol.js';
import { awsScoringDependencies } from '../../lambdas/wiring/aws.js';
import { ENV } from '../../lambdas/shared/env.js';
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
  const sink = () => new FirehoseSink(new FirehoseClient({ region: 'eu-west-1' }), { streamsFor: () => ['iris-capture'], baseDelayMs: 1 });

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
    const deps = awsScoringDependencies({ [ENV.configFile]: 'config.json', LAMBDA_TASK_ROOT: configDir, [ENV.captureStreams]: '{"iris":["s1"]}' });
    expect(deps.config.endpoints.map((e) => e.name)).toEqual(['iris', 'chat']);
  });
});
