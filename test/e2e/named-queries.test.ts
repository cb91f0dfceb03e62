import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDeliveryStream } from '../../lambdas/adapters/local/delivery-stream.js';
import { LocalQueryEngine } from '../../lambdas/adapters/local/query-engine.js';
import { timeFields } from '../../lambdas/core/capture-record.js';
import { namedQueries } from '../../lambdas/core/named-queries.js';
import { demoConfig } from '../helpers/config.js';
import { sample } from '../helpers/records.js';

let dir: string;
let engine: LocalQueryEngine;
const [recent, byVersion, byClientId] = namedQueries('iris');

/** A capture `hoursAgo` hours before now, answered by model version `version`. */
function capture(i: number, hoursAgo: number, version: string, status = 200) {
  const ms = Date.now() - hoursAgo * 3_600_000;
  return {
    ...sample,
    ...timeFields(ms),
    request_id: `r${i}`,
    client_request_id: `c${i}`,
    timestamp_ms: ms,
    status_code: status,
    execution_time_ms: 10 * (i + 1),
    request_metadata: { endpoint_name: 'iris', model_name: 'iris-classifier', model_version: version, served_entity_name: `iris-classifier-${version}` },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-named-'));
  const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
  await stream.put([capture(0, 1, '2'), capture(1, 2, '2', 500), capture(2, 3, '3'), capture(3, 24 * 30, '2')]);
  await stream.close();
  engine = await LocalQueryEngine.open(dir, demoConfig());
});

afterAll(async () => {
  engine?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('Saved queries, run on the local tables as written for Athena', () => {
  it('lists recent requests newest first, leaving out old partitions', async () => {
    const { rows } = await engine.query(recent!.sql);
    expect(rows.map((r) => r.request_id)).toEqual(['r0', 'r1', 'r2']);
    expect(rows[0]).toMatchObject({ served_entity: 'iris-classifier-2', status_code: 200 });
  });

  it('gives error rate and latency per model version', async () => {
    const { rows } = await engine.query(byVersion!.sql);
    expect(rows.map((r) => [r.model_version, Number(r.requests), Number(r.error_rate)])).toEqual([
      ['2', 2, 0.5],
      ['3', 1, 0],
    ]);
    expect(Number(rows[1]!.p50_ms)).toBe(30);
  });

  it('finds a request by client_request_id once the parameter is bound', async () => {
    const { rows } = await engine.query(byClientId!.sql.replace('?', "'c3'"));
    expect(rows.map((r) => r.request_id)).toEqual(['r3']);
  });
});
