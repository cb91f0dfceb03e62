import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDeliveryStream } from '../../lambdas/adapters/local/delivery-stream.js';
import { LocalQueryEngine } from '../../lambdas/adapters/local/query-engine.js';
import { timeFields } from '../../lambdas/core/capture-record.js';
import { environmentQueries, namedQueries } from '../../lambdas/core/named-queries.js';
import { recordServedEntities } from '../../lambdas/core/served-entities.js';
import { FileObjectStore } from '../../lambdas/adapters/local/file-object-store.js';
import { demoConfig } from '../helpers/config.js';
import { sample } from '../helpers/records.js';

let dir: string;
let engine: LocalQueryEngine;
const [recent, byVersion, byClientId] = namedQueries('iris');
const [tokens, served] = environmentQueries();

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
  // Chat calls of two callers, captured at half: each stands for two.
  const chat = (i: number, requester: string, tokens: [number, number], counted: boolean) => ({
    ...capture(10 + i, 1, '1'),
    endpoint: 'chat',
    requester,
    sampling_fraction: 0.5,
    request_format: 'messages',
    input_tokens: tokens[0],
    output_tokens: tokens[1],
    tokens_counted: counted,
    request_metadata: { endpoint_name: 'chat', model_name: 'echo', model_version: '1', served_entity_name: 'echo-1' },
  });
  await stream.put([chat(0, 'alice', [10, 5], false), chat(1, 'alice', [20, 5], true), chat(2, 'bob', [1, 1], false)]);
  await stream.close();
  await recordServedEntities(new FileObjectStore(dir), demoConfig(), Date.now());
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

  it('gives tokens per caller and endpoint, weighted by the sampling fraction', async () => {
    const { rows } = await engine.query(tokens!.sql);
    expect(rows.map((r) => [r.requester, r.endpoint, Number(r.calls), Number(r.input_tokens), Number(r.output_tokens), Number(r.rows_counted_by_the_proxy)])).toEqual([
      ['alice', 'chat', 4, 60, 20, 1],
      ['bob', 'chat', 2, 2, 2, 0],
    ]);
  });

  it('lists the served entities, current first', async () => {
    const { rows } = await engine.query(served!.sql);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.find((r) => r.endpoint === 'chat' && r.served_entity_name === 'echo-1')).toMatchObject({ entity_name: 'echo', backend_type: 'builtin', traffic_percentage: 100, configured_until: null });
  });
});
