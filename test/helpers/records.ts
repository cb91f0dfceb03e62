import type { CaptureRecord } from '../../lambdas/core/capture-record.js';

/** A valid capture record for tests to copy. */
export const sample: CaptureRecord = {
  request_id: 'r1',
  client_request_id: null,
  timestamp_ms: 1_795_428_672_345,
  request_time: '2026-11-22 10:11:12.345',
  status_code: 200,
  sampling_fraction: 1,
  execution_time_ms: 3,
  request: '{"inputs":[1]}',
  response: '{"predictions":[0]}',
  request_metadata: { endpoint_name: 'iris' },
  served_entity_id: 'e',
  logging_error_codes: [],
  requester: null,
  endpoint: 'iris',
  date: '2026-11-22',
};
