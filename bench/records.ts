import { buildCaptureRecord } from '../lambdas/core/capture.js';
import type { CaptureRecord } from '../lambdas/core/capture-record.js';
import { captureSchema } from '../lambdas/core/config/index.js';

const settings = captureSchema.parse({});

/** The capture record the handler would build for the i-th benchmark request to iris (version 2). */
export function irisRecord(i: number, request: { clientRequestId: string | null; receivedAtMs: number; body: string; response: string; format: string }): CaptureRecord {
  const record = buildCaptureRecord(
    {
      requestId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      clientRequestId: request.clientRequestId,
      receivedAtMs: request.receivedAtMs,
      statusCode: 200,
      executionTimeMs: 1,
      requestBody: request.body,
      responseBody: request.response,
      endpoint: 'iris',
      metadata: { endpoint_name: 'iris', model_name: 'iris-classifier', model_version: '2', served_entity_name: 'iris-classifier-2' },
      servedEntityId: '0123456789abcdef0123456789abcdef',
      requester: 'local:anonymous',
      requestFormat: request.format,
    },
    settings,
  );
  // Capture is on at fraction 1 with the default settings: every request has its record.
  if (!record) throw new Error('the default capture settings captured nothing');
  return record;
}
