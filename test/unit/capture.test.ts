import { describe, expect, it } from 'vitest';
import { captureSchema } from '../../lambdas/core/config/index.js';
import { FIREHOSE_RECORD_LIMIT_BYTES, type InvocationFacts, REDACTED, buildCaptureRecord, isSampled, redactJson } from '../../lambdas/core/capture.js';
import { captureRecordSchema } from '../../lambdas/core/capture-record.js';

const settings = captureSchema.parse({});
const facts: InvocationFacts = {
  requestId: 'req-1',
  clientRequestId: 'c-1',
  receivedAtMs: Date.UTC(2026, 10, 22, 23, 59, 59, 999),
  statusCode: 200,
  executionTimeMs: 4,
  requestBody: '{"inputs":[[1,2,3,4]]}',
  responseBody: '{"predictions":[0]}',
  endpoint: 'iris',
  metadata: { endpoint_name: 'iris', model_name: 'iris-classifier', model_version: '2', served_entity_name: 'iris-classifier-2' },
  servedEntityId: 'abc',
  requester: 'arn:aws:iam::123456789012:user/alice',
};

describe('Building a capture record', () => {
  it('records the request as received, with time fields from the receive instant', () => {
    const record = buildCaptureRecord(facts, settings);
    expect(captureRecordSchema.parse(record)).toEqual(record);
    expect(record).toMatchObject({ timestamp_ms: facts.receivedAtMs, request_time: '2026-11-22 23:59:59.999', date: '2026-11-22', logging_error_codes: [] });
  });

  it('writes nothing when capture is disabled', () => {
    expect(buildCaptureRecord(facts, { ...settings, enabled: false })).toBeNull();
  });

  it('nulls a request over the cap and says why', () => {
    const record = buildCaptureRecord({ ...facts, requestBody: 'x'.repeat(101) }, { ...settings, max_payload_bytes: 100 });
    expect(record?.request).toBeNull();
    expect(record?.response).toBe(facts.responseBody);
    expect(record?.logging_error_codes).toEqual(['MAX_REQUEST_SIZE_EXCEEDED']);
  });

  it('counts the cap in UTF-8 bytes, not characters', () => {
    const record = buildCaptureRecord({ ...facts, responseBody: 'é'.repeat(60) }, { ...settings, max_payload_bytes: 100 });
    expect(record?.response).toBeNull();
    expect(record?.logging_error_codes).toEqual(['MAX_RESPONSE_SIZE_EXCEEDED']);
  });

  it('keeps the whole record under the Firehose record limit by dropping the larger body', () => {
    const big = 'a'.repeat(700 * 1024);
    const record = buildCaptureRecord({ ...facts, requestBody: `"${big}"`, responseBody: `"${big}x"` }, settings);
    expect(record?.response).toBeNull();
    expect(record?.request).not.toBeNull();
    expect(record?.logging_error_codes).toEqual(['MAX_RESPONSE_SIZE_EXCEEDED']);
    expect(Buffer.byteLength(JSON.stringify(record))).toBeLessThanOrEqual(FIREHOSE_RECORD_LIMIT_BYTES);
  });

  it('redacts configured JSON paths in request and response before writing', () => {
    const record = buildCaptureRecord(
      { ...facts, requestBody: '{"dataframe_records":[{"email":"a@b.c","x":1}],"user":{"email":"d@e.f"}}', responseBody: '{"predictions":[{"email":"z"}]}' },
      { ...settings, redact_paths: ['$..email'] },
    );
    expect(record?.request).not.toContain('@');
    expect(JSON.parse(record?.request as string).user.email).toBe(REDACTED);
    expect(JSON.parse(record?.response as string).predictions[0].email).toBe(REDACTED);
  });

  it('does not write a body it cannot redact', () => {
    const record = buildCaptureRecord({ ...facts, requestBody: 'email,x\na@b.c,1' }, { ...settings, redact_paths: ['$..email'] });
    expect(record?.request).toBeNull();
    expect(record?.logging_error_codes).toContain('REQUEST_NOT_REDACTABLE');
  });

  it('leaves text unchanged when no path matches', () => {
    expect(redactJson('{ "a" : 1 }', ['$.b'])).toBe('{ "a" : 1 }');
  });
});

describe('Sampling', () => {
  it('is deterministic on the request id', () => {
    expect(isSampled('abc', 0.5)).toBe(isSampled('abc', 0.5));
  });

  it("is keyed on the client_request_id when there is one: a caller's retries are captured alike", () => {
    const decisions = new Set(Array.from({ length: 50 }, (_, i) => isSampled(`request-${i}`, 0.5, 'order-42')));
    expect(decisions.size).toBe(1);
    // Without one, each request id decides for itself.
    expect(new Set(Array.from({ length: 50 }, (_, i) => isSampled(`request-${i}`, 0.5))).size).toBe(2);
    const kept = Array.from({ length: 2000 }, (_, i) => isSampled('same-request', 0.5, `caller-${i}`)).filter(Boolean).length;
    expect(kept / 2000).toBeGreaterThan(0.45);
    expect(kept / 2000).toBeLessThan(0.55);
  });

  it('keeps about the configured fraction', () => {
    let kept = 0;
    for (let i = 0; i < 20_000; i++) if (isSampled(`id-${i}`, 0.25)) kept++;
    expect(kept / 20_000).toBeGreaterThan(0.23);
    expect(kept / 20_000).toBeLessThan(0.27);
  });

  it('records the sampling fraction in force', () => {
    const id = Array.from({ length: 100 }, (_, i) => `s-${i}`).find((x) => isSampled(x, 0.5)) as string;
    expect(buildCaptureRecord({ ...facts, requestId: id }, { ...settings, sampling_fraction: 0.5 })?.sampling_fraction).toBe(0.5);
  });
});
