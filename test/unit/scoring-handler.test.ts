import { describe, expect, it } from 'vitest';
import { createBackendFactory } from '../../lambdas/backends/factory.js';
import { BackendError } from '../../lambdas/core/errors.js';
import { createScoringHandler } from '../../lambdas/scoring/handler.js';
import type { ScoringContext } from '../../lambdas/scoring/middleware.js';
import { configWith, demoConfig } from '../helpers/config.js';
import { MemorySink, context, invoke, proxyEvent } from '../helpers/events.js';
// The three rows of the Databricks documentation's client_request_id example.
import seedRecords from '../fixtures/seed-dataframe-records.json' with { type: 'json' };

function setup(config = demoConfig()) {
  const sink = new MemorySink();
  const handler = createScoringHandler({ config, sink, backends: createBackendFactory(), version: '9.9.9' });
  const call = (event: ReturnType<typeof proxyEvent>) => handler(event, { ...context } as ScoringContext);
  return { sink, call };
}

const seedBatch = {
  client_request_id: 'batch-1',
  dataframe_records: seedRecords,
};

describe('Handler: scoring', () => {
  it('answers a batch and captures it as one row with the x-request-id', async () => {
    // Prepare
    const { sink, call } = setup();
    // Act
    const response = await call(invoke('/serving-endpoints/iris/invocations', seedBatch));
    // Assess
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ predictions: [0, 0, 0] });
    expect(sink.records).toHaveLength(1);
    const [record] = sink.records;
    expect(record?.request_id).toBe(response.headers?.['x-request-id']);
    expect(record?.client_request_id).toBe('batch-1');
    expect(record?.request).toBe(JSON.stringify(seedBatch));
    expect(record?.requester).toBe('arn:aws:iam::123456789012:user/alice');
    expect(record?.request_metadata.served_entity_name).toBe(response.headers?.['served-model-name']);
    expect(record?.timestamp_ms).toBe(Date.UTC(2026, 10, 22, 10, 11, 12, 345));
    expect(record?.execution_time_ms).toBeGreaterThanOrEqual(0);
  });

  it('records an API-key caller by key id, never the key itself', async () => {
    const { sink, call } = setup();
    const event = invoke('/serving-endpoints/iris/invocations', seedBatch);
    const identity = { ...event.requestContext.identity, userArn: null, apiKey: 'SECRET-KEY-VALUE', apiKeyId: 'k7abc' };
    await call({ ...event, requestContext: { ...event.requestContext, identity } });
    expect(sink.records[0]?.requester).toBe('api-key:k7abc');
    expect(JSON.stringify(sink.records[0])).not.toContain('SECRET-KEY-VALUE');
  });

  it('captures a protocol error with its status and client request id', async () => {
    const { sink, call } = setup();
    const response = await call(invoke('/serving-endpoints/iris/invocations', { client_request_id: 'two', inputs: [1], instances: [1] }));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error_code).toBe('BAD_REQUEST');
    expect(sink.records[0]).toMatchObject({ status_code: 400, client_request_id: 'two', execution_time_ms: null });
  });

  it('answers 415 in plain text, as MLflow does, and captures it', async () => {
    const { sink, call } = setup();
    const response = await call(invoke('/serving-endpoints/iris/invocations', '{"inputs": [1]}', 'application/json; format=pandas-split'));
    expect(response.statusCode).toBe(415);
    expect(response.headers?.['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toMatch(/^Unrecognized content type parameters: format\./);
    expect(sink.records[0]?.status_code).toBe(415);
  });

  it('answers 404 ENDPOINT_NOT_FOUND for an unknown endpoint and captures it as unrouted', async () => {
    const { sink, call } = setup();
    const response = await call(invoke('/serving-endpoints/nope/invocations', { inputs: [1] }));
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body).error_code).toBe('ENDPOINT_NOT_FOUND');
    expect(sink.records[0]).toMatchObject({ endpoint: 'unrouted', status_code: 404, request_metadata: { endpoint_name: 'nope' } });
  });

  it('answers 404 for an archived version', async () => {
    const { sink, call } = setup();
    const response = await call(invoke('/model/iris-classifier/1/invocations', { inputs: [[1, 2, 3, 4]] }));
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body).error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(sink.records[0]).toMatchObject({ endpoint: 'iris-classifier', status_code: 404 });
  });

  it('answers 413 for a body over the limit, captured without the body', async () => {
    const { sink, call } = setup(configWith((c) => (c.endpoints[0].capture.max_request_bytes = 64)));
    const response = await call(invoke('/serving-endpoints/iris/invocations', { inputs: [[1, 2, 3, 4]], pad: 'x'.repeat(100) }));
    expect(response.statusCode).toBe(413);
    expect(sink.records[0]).toMatchObject({ status_code: 413, request: null, logging_error_codes: ['MAX_REQUEST_SIZE_EXCEEDED'] });
  });

  it('passes chat bodies through unwrapped', async () => {
    const { call } = setup();
    const response = await call(invoke('/serving-endpoints/chat/invocations', { messages: [{ role: 'user', content: 'hello there' }] }));
    expect(JSON.parse(response.body).choices[0].message.content).toBe('hello there');
  });

  it('keeps answering when capture fails', async () => {
    const { sink, call } = setup();
    sink.failWith = new Error('stream unavailable');
    const response = await call(invoke('/serving-endpoints/iris/invocations', { inputs: [[5.1, 3.5, 1.4, 0.2]] }));
    expect(response.statusCode).toBe(200);
  });

  it('does not capture a request outside the sample', async () => {
    const { sink, call } = setup(configWith((c) => (c.endpoints[0].capture.enabled = false)));
    await call(invoke('/serving-endpoints/iris/invocations', { inputs: [[5.1, 3.5, 1.4, 0.2]] }));
    expect(sink.records).toHaveLength(0);
  });

  it('answers ping, version and the endpoint state in the Databricks shape', async () => {
    const { call } = setup();
    expect((await call(proxyEvent('GET', '/ping'))).body).toBe('\n');
    expect((await call(proxyEvent('GET', '/version'))).body).toBe('9.9.9');
    const state = JSON.parse((await call(proxyEvent('GET', '/api/2.0/serving-endpoints/iris'))).body);
    expect(state.config.auto_capture_config.state.payload_table).toEqual({ name: 'iris_payload', status: 'ACTIVE', status_message: 'in memory No refresh has checked the tables yet.' });
    expect(state.config.traffic_config.routes).toEqual([
      { served_model_name: 'iris-classifier-2', traffic_percentage: 90 },
      { served_model_name: 'iris-classifier-3', traffic_percentage: 10 },
    ]);
  });

  it('reports every served entity of the demo ready, and the endpoint READY, in the get and list routes', async () => {
    const { call } = setup();
    const state = JSON.parse((await call(proxyEvent('GET', '/api/2.0/serving-endpoints/iris'))).body);
    expect(state.state).toEqual({ ready: 'READY', config_update: 'NOT_UPDATING' });
    expect(state.config.served_entities.map((e: { state: unknown }) => e.state)).toEqual([{ deployment: 'DEPLOYMENT_READY' }, { deployment: 'DEPLOYMENT_READY' }]);
    const list = JSON.parse((await call(proxyEvent('GET', '/api/2.0/serving-endpoints'))).body);
    expect(list.endpoints.map((e: { state: { ready: string } }) => e.state.ready)).toEqual(['READY', 'READY']);
  });

  it('reports disabled capture in the endpoint state', async () => {
    const { call } = setup(configWith((c) => (c.endpoints[0].capture.enabled = false)));
    const state = JSON.parse((await call(proxyEvent('GET', '/api/2.0/serving-endpoints/iris'))).body);
    expect(state.config.auto_capture_config.state.payload_table.status).toBe('DISABLED');
  });

  it('answers unknown routes without capturing them', async () => {
    const { sink, call } = setup();
    expect((await call(proxyEvent('GET', '/nothing'))).statusCode).toBe(404);
    expect((await call(proxyEvent('DELETE', '/api/2.0/serving-endpoints/iris'))).statusCode).toBe(405);
    expect(sink.records).toHaveLength(0);
  });

  it('captures an invocation sent with the wrong method as refused with 405', async () => {
    const { sink, call } = setup();
    expect((await call(proxyEvent('DELETE', '/serving-endpoints/iris/invocations'))).statusCode).toBe(405);
    expect(sink.records.map((r) => [r.endpoint, r.status_code])).toEqual([['iris', 405]]);
  });

  it('never captures the Authorization header or any other header', async () => {
    const { sink, call } = setup();
    const event = invoke('/serving-endpoints/iris/invocations', { inputs: [[5.1, 3.5, 1.4, 0.2]] });
    event.headers.Authorization = 'Bearer s3cr3t-token';
    await call(event);
    expect(JSON.stringify(sink.records)).not.toContain('s3cr3t-token');
  });
});

describe('Handler: as the Lambda entry point, it never throws', () => {
  /** A handler whose backends fail as `fault` says; the sink is in memory. */
  function failing(fault: () => never, now?: () => number) {
    const sink = new MemorySink();
    const handler = createScoringHandler({ config: demoConfig(), sink, backends: () => ({ invoke: async () => fault() }), version: 't', ...(now ? { now } : {}) });
    return { sink, call: (event: ReturnType<typeof proxyEvent>) => handler(event, { ...context } as ScoringContext) };
  }

  it.each([
    ['a TypeError', () => { throw new TypeError("Cannot read properties of undefined (reading 'x')"); }],
    ['a null-prototype object', () => { throw Object.create(null); }],
    ['a Proxy whose traps throw', () => { throw new Proxy({}, { getPrototypeOf: () => { throw new Error('trap'); }, get: () => { throw new Error('trap'); } }); }],
  ] as const)('a backend throwing %s: API Gateway gets a 500 with the request id, and it is captured', async (_, fault) => {
    const { sink, call } = failing(fault as () => never);
    const response = await call(invoke('/serving-endpoints/iris/invocations', { inputs: [[1, 2, 3, 4]] }));
    const requestId = response.headers?.['x-request-id'];
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({ error_code: 'INTERNAL_ERROR', message: `Internal error. Request id: ${requestId}.` });
    expect(sink.records.map((r) => [r.request_id, r.status_code])).toEqual([[requestId, 500]]);
  });

  it.each([{}, { key1: 'value1' }, { httpMethod: 'POST', path: 7, headers: null, body: {} }])('an event that is not API Gateway’s (%j, the console’s test event) is answered, not thrown', async (event) => {
    const { sink, call } = failing(() => {
      throw new Error('unused');
    });
    const response = await call(event as never);
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({ error_code: 'INTERNAL_ERROR', message: expect.stringMatching(/^Internal error\. Request id: [0-9a-f-]{36}\.$/) });
    expect(sink.records).toEqual([]);
  });
});

describe('Handler: served entity state from the backend calls', () => {
  /** A handler whose backends (no probe, as SageMaker's) fail while `failing` is set; a `bad` input is the model's own 400. */
  function passive() {
    const state = { failing: true };
    const handler = createScoringHandler({
      config: demoConfig(),
      sink: new MemorySink(),
      version: 't',
      backends: () => ({
        invoke: async (request) => {
          if (request.body.includes('bad')) return { status: 400, body: '{"error_code":"BAD_REQUEST"}', contentType: 'application/json' };
          if (state.failing) throw new BackendError('Model backend answered 500: Traceback, File "/opt/model/predict.py"');
          return { status: 200, body: '{"predictions":[0]}', contentType: 'application/json' };
        },
      }),
    });
    const call = (event: ReturnType<typeof proxyEvent>) => handler(event, { ...context } as ScoringContext);
    const score = (served: string, body: unknown = { inputs: [[1, 2, 3, 4]] }) => call(invoke(`/serving-endpoints/iris/served-models/${served}/invocations`, body));
    const describeIris = async () => JSON.parse((await call(proxyEvent('GET', '/api/2.0/serving-endpoints/iris'))).body);
    return { state, score, describeIris };
  }

  it('fails an entity after 3 failed calls in a row, the endpoint NOT_READY once no entity with traffic is ready, READY after a success', async () => {
    // Prepare
    const { state, score, describeIris } = passive();
    // Act
    for (let i = 0; i < 3; i++) await score('iris-classifier-2');
    const oneFailed = await describeIris();
    for (let i = 0; i < 3; i++) await score('iris-classifier-3');
    const bothFailed = await describeIris();
    state.failing = false;
    await score('iris-classifier-3');
    const recovered = await describeIris();
    // Assess
    expect(oneFailed.config.served_entities.map((e: { state: { deployment: string } }) => e.state.deployment)).toEqual(['DEPLOYMENT_FAILED', 'DEPLOYMENT_READY']);
    expect(oneFailed.state.ready).toBe('READY');
    expect(bothFailed.state.ready).toBe('NOT_READY');
    expect(bothFailed.config.served_entities[0].state.deployment_state_message).toMatch(/^The builtin model iris failed on the last 3 calls \(Model backend answered 500; /);
    expect(JSON.stringify(bothFailed)).not.toContain('/opt/model');
    expect(recovered.config.served_entities.map((e: { state: { deployment: string } }) => e.state.deployment)).toEqual(['DEPLOYMENT_FAILED', 'DEPLOYMENT_READY']);
    expect(recovered.state.ready).toBe('READY');
  });

  it("counts the model's own 4xx as the backend answering", async () => {
    const { score, describeIris } = passive();
    for (let i = 0; i < 2; i++) await score('iris-classifier-2');
    await score('iris-classifier-2', { inputs: ['bad'] });
    await score('iris-classifier-2');
    expect((await describeIris()).config.served_entities[0].state.deployment).toBe('DEPLOYMENT_READY');
  });
});
