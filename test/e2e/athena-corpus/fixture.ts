/**
 * The data folder the Athena corpus runs on: a handful of capture records for the demo `iris`
 * endpoint and its `chat` endpoint, written with fixed November 2026 timestamps, a history of
 * the served entities, a labels file, then one local refresh so the unpacked and metrics tables
 * exist. Small enough that every expected value of the cases is computed by hand from the
 * tables below.
 *
 * iris_payload (12 requests; all sampling_fraction 1.0; every request_metadata has the 4 keys
 * endpoint_name, model_name, model_version, served_entity_name):
 *
 * | id  | request_time (UTC)      | st  | v | client_request_id | exec | format  | rows | predictions | requester | logging_error_codes        |
 * | r01 | 2026-11-21 22:10:00.000 | 200 | 2 | order-1           | 10   | split   | 2    | [0,2]       | alice     | []                         |
 * | r02 | 2026-11-21 22:40:00.000 | 200 | 2 | null              | 20   | records | 1    | [1]         | bob       | []                         |
 * | r03 | 2026-11-21 23:20:00.000 | 200 | 3 | order-3           | 30   | records | 2    | [0,2]       | alice     | []                         |
 * | r04 | 2026-11-21 23:50:00.000 | 400 | 2 | order-4           | 40   | records | 1    | (error)     | bob       | []                         |
 * | r05 | 2026-11-22 00:05:00.000 | 200 | 2 | order-5           | 50   | split   | 3    | [0,2,1]     | alice     | []                         |
 * | r06 | 2026-11-22 00:35:00.000 | 200 | 3 | null              | 60   | records | 1    | [2]         | bob       | []                         |
 * | r07 | 2026-11-22 09:00:00.000 | 503 | 2 | order-7           | null | records | 1    | (error)     | alice     | []                         |
 * | r08 | 2026-11-22 12:00:00.000 | 200 | 2 | order-8           | 80   | records | 1    | [1]         | bob       | []                         |
 * | r09 | 2026-11-22 12:30:00.000 | 200 | 3 | order-9           | 90   | split   | -    | [0]         | alice     | [MAX_REQUEST_SIZE_EXCEEDED] (request null) |
 * | r10 | 2026-11-22 13:00:00.000 | 500 | 3 | null              | 100  | records | 1    | (error)     | bob       | []                         |
 * | r11 | 2026-11-22 23:59:59.999 | 200 | 2 | order-11          | 110  | split   | 1    | [1]         | alice     | []                         |
 * | r12 | 2026-11-22 15:00:00.000 | 429 | 2 | order-12          | null | records | 1    | (error)     | bob       | [MAX_RESPONSE_SIZE_EXCEEDED, RATE_LIMITED] |
 *
 * requester is `local:alice` / `local:bob`. Error responses are `{"error_code": …, "message": …}`.
 *
 * iris_unpacked (11 predictions: the 200s but r09, whose request was not logged):
 *
 * | request | row | sepal_length | sepal_width | petal_length | petal_width | prediction | label |
 * | r01     | 0   | 5.1          | 3.5         | 1.4          | 0.2         | 0          | 0     |
 * | r01     | 1   | 6.7          | 3.0         | 5.2          | 2.3         | 2          | 1     |
 * | r02     | 0   | 5.9          | 3.0         | 4.2          | 1.5         | 1          | null  |
 * | r03     | 0   | 5.0          | 3.4         | 1.5          | 0.2         | 0          | 0     |
 * | r03     | 1   | 6.3          | 3.3         | 6.0          | 2.5         | 2          | 2     |
 * | r05     | 0   | 4.9          | 3.0         | 1.4          | 0.2         | 0          | 0     |
 * | r05     | 1   | 5.8          | 2.7         | 5.1          | 1.9         | 2          | 2     |
 * | r05     | 2   | 6.0          | 2.2         | 4.0          | 1.0         | 1          | 2     |
 * | r06     | 0   | 7.7          | 2.6         | 6.9          | 2.3         | 2          | null  |
 * | r08     | 0   | 5.5          | 2.4         | 3.8          | 1.1         | 1          | 1     |
 * | r11     | 0   | 6.1          | 2.8         | 4.7          | 1.2         | 1          | null  |
 *
 * chat_payload (3 requests, model echo version 1, request_format `messages`):
 *
 * | id  | request_time            | st  | client_request_id | exec | in | out | counted | streamed | ttft | requester |
 * | c01 | 2026-11-22 10:00:00.000 | 200 | chat-1            | 100  | 10 | 2   | false   | null     | null | alice     |
 * | c02 | 2026-11-22 11:00:00.000 | 200 | chat-2            | 200  | 20 | 4   | false   | true     | 30   | bob       |
 * | c03 | 2026-11-22 11:30:00.000 | 500 | null              | 300  | -  | -   | null    | null     | null | alice     |
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileObjectStore } from '../../../lambdas/adapters/local/file-object-store.js';
import { LocalDeliveryStream } from '../../../lambdas/adapters/local/delivery-stream.js';
import { normalizeLabelsFile } from '../../../lambdas/adapters/local/labels-file.js';
import type { CaptureRecord } from '../../../lambdas/core/capture-record.js';
import type { Config } from '../../../lambdas/core/config/index.js';
import { endpointEntityId } from '../../../lambdas/core/routing.js';
import { recordServedEntities } from '../../../lambdas/core/served-entities.js';
import { ROOT, demoConfig } from '../../helpers/config.js';
import { runLocalRefresh } from '../../helpers/local.js';

/** A value of an expected row: JSON-like, with a RegExp for text whose exact form is not pinned. */
export type Value = null | boolean | number | string | RegExp | readonly Value[] | { readonly [key: string]: Value };
/** An expected row, by column name. */
export type Row = Readonly<Record<string, Value>>;

/** One query of the corpus and what Athena (Trino) answers. */
export interface Case {
  readonly name: string;
  readonly sql: string;
  /** The Trino/Athena rule or documentation page the expectation follows. */
  readonly rule: string;
  /** The rows (unordered unless `ordered`), or the error the query fails with. */
  readonly expected: readonly Row[] | { readonly error: RegExp };
  readonly ordered?: boolean;
  /** Rows may carry columns the expectation leaves out (metadata statements whose comments are not pinned). */
  readonly partial?: boolean;
  /** The expected rows are the first rows of the (ordered) result; more may follow (Hive DDL output with trailers). */
  readonly leading?: boolean;
}

/** The folder and configuration the corpus queries. */
export interface Fixture {
  readonly dir: string;
  readonly config: Config;
  /** Why the refresh failed, if it did: the payload cases still run, the unpacked and metrics ones cannot. */
  readonly refreshError?: string;
}

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
type Features = readonly [number, number, number, number];

const split = (rows: readonly Features[], client: string | null) =>
  JSON.stringify({ ...(client === null ? {} : { client_request_id: client }), dataframe_split: { columns: FEATURES, data: rows } });
const records = (rows: readonly Features[], client: string | null) =>
  JSON.stringify({ ...(client === null ? {} : { client_request_id: client }), dataframe_records: rows.map((r) => Object.fromEntries(FEATURES.map((f, i) => [f, r[i]]))) });
const error = (code: string, message: string) => JSON.stringify({ error_code: code, message });

interface IrisRow {
  id: string;
  time: string;
  status: number;
  version: '2' | '3';
  client: string | null;
  exec: number | null;
  format: 'dataframe_split' | 'dataframe_records';
  request: string | null;
  response: string;
  requester: string;
  errors: string[];
}

const IRIS: readonly IrisRow[] = [
  { id: 'r01', time: '2026-11-21 22:10:00.000', status: 200, version: '2', client: 'order-1', exec: 10, format: 'dataframe_split', request: split([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], 'order-1'), response: '{"predictions": [0, 2]}', requester: 'local:alice', errors: [] },
  { id: 'r02', time: '2026-11-21 22:40:00.000', status: 200, version: '2', client: null, exec: 20, format: 'dataframe_records', request: records([[5.9, 3.0, 4.2, 1.5]], null), response: '{"predictions": [1]}', requester: 'local:bob', errors: [] },
  { id: 'r03', time: '2026-11-21 23:20:00.000', status: 200, version: '3', client: 'order-3', exec: 30, format: 'dataframe_records', request: records([[5.0, 3.4, 1.5, 0.2], [6.3, 3.3, 6.0, 2.5]], 'order-3'), response: '{"predictions": [0, 2]}', requester: 'local:alice', errors: [] },
  // A body the model refused: feature names with spaces (for bracketed JSON paths).
  { id: 'r04', time: '2026-11-21 23:50:00.000', status: 400, version: '2', client: 'order-4', exec: 40, format: 'dataframe_records', request: '{"client_request_id": "order-4", "dataframe_records": [{"sepal length (cm)": 4.9, "petal width (cm)": 0.2}]}', response: error('BAD_REQUEST', 'Missing columns: sepal_length'), requester: 'local:bob', errors: [] },
  { id: 'r05', time: '2026-11-22 00:05:00.000', status: 200, version: '2', client: 'order-5', exec: 50, format: 'dataframe_split', request: split([[4.9, 3.0, 1.4, 0.2], [5.8, 2.7, 5.1, 1.9], [6.0, 2.2, 4.0, 1.0]], 'order-5'), response: '{"predictions": [0, 2, 1]}', requester: 'local:alice', errors: [] },
  { id: 'r06', time: '2026-11-22 00:35:00.000', status: 200, version: '3', client: null, exec: 60, format: 'dataframe_records', request: records([[7.7, 2.6, 6.9, 2.3]], null), response: '{"predictions": [2]}', requester: 'local:bob', errors: [] },
  { id: 'r07', time: '2026-11-22 09:00:00.000', status: 503, version: '2', client: 'order-7', exec: null, format: 'dataframe_records', request: records([[5.2, 2.7, 3.9, 1.4]], 'order-7'), response: error('TEMPORARILY_UNAVAILABLE', 'backend down'), requester: 'local:alice', errors: [] },
  { id: 'r08', time: '2026-11-22 12:00:00.000', status: 200, version: '2', client: 'order-8', exec: 80, format: 'dataframe_records', request: records([[5.5, 2.4, 3.8, 1.1]], 'order-8'), response: '{"predictions": [1]}', requester: 'local:bob', errors: [] },
  { id: 'r09', time: '2026-11-22 12:30:00.000', status: 200, version: '3', client: 'order-9', exec: 90, format: 'dataframe_split', request: null, response: '{"predictions": [0]}', requester: 'local:alice', errors: ['MAX_REQUEST_SIZE_EXCEEDED'] },
  { id: 'r10', time: '2026-11-22 13:00:00.000', status: 500, version: '3', client: null, exec: 100, format: 'dataframe_records', request: records([[6.4, 3.2, 4.5, 1.5]], null), response: error('INTERNAL_ERROR', 'boom'), requester: 'local:bob', errors: [] },
  { id: 'r11', time: '2026-11-22 23:59:59.999', status: 200, version: '2', client: 'order-11', exec: 110, format: 'dataframe_split', request: split([[6.1, 2.8, 4.7, 1.2]], 'order-11'), response: '{"predictions": [1]}', requester: 'local:alice', errors: [] },
  { id: 'r12', time: '2026-11-22 15:00:00.000', status: 429, version: '2', client: 'order-12', exec: null, format: 'dataframe_records', request: records([[5.7, 2.8, 4.1, 1.3]], 'order-12'), response: error('REQUEST_LIMIT_EXCEEDED', 'rate limited'), requester: 'local:bob', errors: ['MAX_RESPONSE_SIZE_EXCEEDED', 'RATE_LIMITED'] },
];

const ms = (time: string) => Date.parse(`${time.replace(' ', 'T')}Z`);

function irisRecord(r: IrisRow): CaptureRecord {
  const name = `iris-classifier-${r.version}`;
  return {
    request_id: r.id,
    client_request_id: r.client,
    timestamp_ms: ms(r.time),
    request_time: r.time,
    status_code: r.status,
    sampling_fraction: 1,
    execution_time_ms: r.exec,
    request: r.request,
    response: r.response,
    request_metadata: { endpoint_name: 'iris', model_name: 'iris-classifier', model_version: r.version, served_entity_name: name },
    served_entity_id: endpointEntityId('iris', name, 'iris-classifier', r.version),
    logging_error_codes: r.errors,
    requester: r.requester,
    request_format: r.format,
    endpoint: 'iris',
    date: r.time.slice(0, 10),
  };
}

const completion = (id: string, content: string, prompt: number, completionTokens: number) =>
  JSON.stringify({
    id,
    object: 'chat.completion',
    created: 1795600000,
    model: 'echo',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens },
  });

function chatRecord(id: string, time: string, over: Partial<CaptureRecord>): CaptureRecord {
  return {
    request_id: id,
    client_request_id: null,
    timestamp_ms: ms(time),
    request_time: time,
    status_code: 200,
    sampling_fraction: 1,
    execution_time_ms: null,
    request: null,
    response: null,
    request_metadata: { endpoint_name: 'chat', model_name: 'echo', model_version: '1', served_entity_name: 'echo-1' },
    served_entity_id: endpointEntityId('chat', 'echo-1', 'echo', '1'),
    logging_error_codes: [],
    requester: 'local:alice',
    request_format: 'messages',
    endpoint: 'chat',
    date: time.slice(0, 10),
    ...over,
  };
}

const CHAT: readonly CaptureRecord[] = [
  chatRecord('c01', '2026-11-22 10:00:00.000', {
    client_request_id: 'chat-1',
    execution_time_ms: 100,
    request: JSON.stringify({ client_request_id: 'chat-1', messages: [{ role: 'user', content: 'hello there' }] }),
    response: completion('chatcmpl-1', 'hello there', 10, 2),
    input_tokens: 10,
    output_tokens: 2,
    tokens_counted: false,
  }),
  chatRecord('c02', '2026-11-22 11:00:00.000', {
    client_request_id: 'chat-2',
    execution_time_ms: 200,
    request: JSON.stringify({ client_request_id: 'chat-2', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'what is an iris' }], stream: true }),
    response: completion('chatcmpl-2', 'what is an iris', 20, 4),
    input_tokens: 20,
    output_tokens: 4,
    tokens_counted: false,
    streamed: true,
    time_to_first_token_ms: 30,
    requester: 'local:bob',
  }),
  chatRecord('c03', '2026-11-22 11:30:00.000', {
    execution_time_ms: 300,
    status_code: 500,
    request: JSON.stringify({ messages: [{ role: 'user', content: 'fail please' }] }),
    response: error('INTERNAL_ERROR', 'backend failed'),
  }),
];

/** Labels of the iris predictions (CSV, as `inference-tables labels upload` reads it). */
const LABELS = 'client_request_id,row_index,label\norder-1,0,0\norder-1,1,1\norder-3,0,0\norder-3,1,2\norder-5,0,0\norder-5,1,2\norder-5,2,2\norder-8,0,1\n';
/** When the labels were uploaded (before the refresh, which reads labels uploaded before it starts). */
export const LABELS_UPLOADED = new Date('2026-11-23T08:00:00.000Z');
/** When the served entities were configured. */
export const CONFIGURED = Date.UTC(2026, 10, 1, 0, 0, 0);

/** Builds the folder: payload files, the served-entities history, labels, then one refresh of both endpoints. */
export async function buildFixture(): Promise<Fixture> {
  const config = demoConfig();
  const dir = await mkdtemp(join(tmpdir(), 'it-athena-corpus-'));
  const store = new FileObjectStore(dir);
  await recordServedEntities(store, config, CONFIGURED);
  const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
  await stream.put([...IRIS.map(irisRecord), ...CHAT]);
  await stream.close();
  const labelsPath = join(dir, 'corpus-labels.csv');
  await writeFile(labelsPath, LABELS);
  const labels = await normalizeLabelsFile(labelsPath, 'iris', { now: LABELS_UPLOADED });
  await store.put(labels.key, labels.body);
  await rm(labelsPath);
  try {
    await runLocalRefresh({ config, dataDir: dir, endpoints: ['iris', 'chat'], projectRoot: ROOT, unpackThreads: 1 });
  } catch (error) {
    return { dir, config, refreshError: (error as Error).message };
  }
  return { dir, config };
}

/** Removes the folder. */
export async function removeFixture(fixture: Fixture | undefined): Promise<void> {
  if (fixture) await rm(fixture.dir, { recursive: true, force: true });
}
