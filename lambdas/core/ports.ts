import type { Backend } from './config/index.js';
import type { CaptureRecord } from './capture-record.js';
import type { StreamChunk } from './llm-stream.js';
import type { ScoringRequest } from './protocol.js';
import { UserFacingError } from '../shared/errors.js';

/** What the proxy sends a model backend. */
export interface BackendRequest {
  /** The body to forward (the caller's body without `client_request_id`). */
  readonly body: string;
  readonly contentType: string;
  /** The parsed request, for in-process models. */
  readonly parsed: ScoringRequest;
  readonly requestId: string;
}

/** What a backend answered a request to stream: its chunks, or a whole answer (a refusal). */
export type BackendStreamAnswer = { readonly whole: BackendResponse } | { readonly chunks: AsyncIterable<StreamChunk> };

/** What a model backend answered. */
export interface BackendResponse {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
}

/**
 * A model backend. Implementations answer the model's own 4xx as a response, and throw
 * BackendError (→ 502) or BackendTimeoutError (→ 504) when the backend itself fails.
 */
export interface ModelBackend {
  invoke(request: BackendRequest): Promise<BackendResponse>;
  /**
   * Streams the answer to an LLM request that asked for it (`"stream": true`): its chunks as
   * they come, or the whole answer when the backend refused the request (its 4xx). Absent when
   * the backend cannot stream: such a request is then refused, never answered whole. The call
   * stops when `signal` aborts (the caller left).
   */
  stream?(request: BackendRequest, signal: AbortSignal): Promise<BackendStreamAnswer>;
  /**
   * Asks the backend whether it is ready to answer, where it has a way to tell (an HTTP
   * server's `/ping`, a Lambda function's state). It resolves, never throws, and gives up
   * when `signal` aborts. Backends without one are judged by their calls alone.
   */
  probe?(signal: AbortSignal): Promise<BackendProbe>;
}

/** What a backend's probe found; `message` names the cause and the fix when not ready. */
export interface BackendProbe {
  readonly ready: boolean;
  readonly message: string;
}

/** Builds the backend for a model version's configuration. */
export type BackendFactory = (backend: Backend) => ModelBackend;

/** State of an endpoint's capture, reported in the Databricks `auto_capture_config` shape. */
export interface CaptureStatus {
  readonly status: 'ACTIVE' | 'DEGRADED' | 'DISABLED' | 'FAILED';
  readonly message: string;
}

/**
 * Where capture records go: Firehose on AWS, the local delivery stream on one machine.
 * `put` resolves once the records are accepted (buffered durably by the sink); it throws
 * CaptureSinkError when some could not be accepted.
 */
export interface CaptureSink {
  put(records: readonly CaptureRecord[]): Promise<void>;
  /** Health of an endpoint's capture as seen by this sink. */
  status(endpoint: string): CaptureStatus;
}

/** A capture sink could not accept records. */
export class CaptureSinkError extends Error {
  public readonly failed: readonly CaptureRecord[];
  public constructor(message: string, failed: readonly CaptureRecord[], options?: ErrorOptions) {
    super(message, options);
    this.name = 'CaptureSinkError';
    this.failed = failed;
  }
}

/** What running a query cost, where the engine bills for it (Athena). */
export interface QueryStats {
  readonly queryId: string;
  readonly bytesScanned: number;
  readonly engineTimeMs: number;
  /** Estimated price of the scan, in US dollars. */
  readonly costUsd: number;
}

/** A query result with JSON-friendly values (BIGINT as string when beyond 2^53). */
export interface QueryResult {
  readonly columns: readonly string[];
  readonly rows: readonly Record<string, unknown>[];
  readonly stats?: QueryStats;
}

/** A result by column: one array per column, for reads of many rows. */
export interface ColumnarResult {
  readonly columns: readonly string[];
  /** One array per column (a typed array where the engine reads numbers straight). */
  readonly data: readonly ArrayLike<unknown>[];
}

/** Runs SQL on an environment's tables: DuckDB on one machine, Athena on AWS. */
export interface QueryEngine {
  /** Runs one statement of Athena's SQL (on one machine, translated to DuckDB's). */
  query(sql: string): Promise<QueryResult>;
  /**
   * Runs a statement written in the engine's own dialect (what the refresh's generators write
   * for `deps.dialect`), as written. An engine whose dialect is Athena's has no need of it.
   */
  native?(sql: string): Promise<QueryResult>;
  /** The same by column, with numbers as numbers (cast in SQL what must be exact). */
  queryColumns(sql: string): Promise<ColumnarResult>;
  close(): void;
}

/** Columns of a row result (for engines that read rows). */
export function toColumns(result: QueryResult): ColumnarResult {
  return { columns: result.columns, data: result.columns.map((c) => result.rows.map((r) => r[c])) };
}

/** The engine rejected, failed or cancelled a query; the message says why. */
export class QueryError extends UserFacingError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'QueryError';
  }
}

/** An object of an object store. */
export interface StoredObject {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
}

/** Random access to one object, for columnar readers (the shape hyparquet reads). */
export interface ObjectReader {
  readonly byteLength: number;
  slice(start: number, end?: number): Promise<ArrayBuffer>;
}

/**
 * Where tables, staged files and workflow state live: S3 on AWS, the data folder locally.
 * Keys are the same in both (`iris_payload/endpoint=iris/date=…/…parquet`).
 */
export interface ObjectStore {
  /** Objects whose key starts with `prefix`. */
  list(prefix: string): Promise<StoredObject[]>;
  /** The object's bytes, or undefined when there is none. */
  get(key: string): Promise<Uint8Array | undefined>;
  reader(object: StoredObject): ObjectReader;
  put(key: string, body: Uint8Array | string): Promise<void>;
  delete(keys: readonly string[]): Promise<void>;
  /** The location SQL engines read a prefix from (`s3://bucket/prefix/` or a folder path). */
  location(prefix: string): string;
}

/** One value of a monitoring metric at an instant (a CloudWatch datum on AWS). */
export interface MetricDatum {
  readonly name: string;
  readonly value: number;
  readonly timestamp: Date;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly unit: 'Count' | 'Milliseconds' | 'None';
}

/** Where the refresh workflow publishes its metrics for alarms: CloudWatch on AWS. */
export interface MetricsPublisher {
  publish(data: readonly MetricDatum[]): Promise<void>;
}

/** How a delivery stream turns records into Parquet, as the service describes it. */
export interface StreamConversion {
  readonly stream: string;
  /** False when no stream has that name. */
  readonly exists: boolean;
  /** The stream's own status (`ACTIVE`, `CREATING`, `DELETING`, `CREATING_FAILED`, …). */
  readonly status?: string;
  /** Why the stream failed, when the service says. */
  readonly failure?: string;
  /** Whether records are converted to Parquet at all. */
  readonly converts: boolean;
  readonly database?: string;
  readonly table?: string;
  /** The Glue table version the conversion reads; `LATEST` follows the table. */
  readonly versionId?: string;
}

/** The capture delivery streams' settings (Firehose on AWS), read by `doctor --env`. */
export interface DeliveryStreams {
  /** One entry per stream of the endpoint. */
  conversions(endpoint: string): Promise<StreamConversion[]>;
}

/** An answer of a page route of the local server (the endpoint page, its API, the dashboard). */
export interface RouteResult {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** Extra response headers (e.g. a download's file name). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Page routes: an answer for the paths they serve, undefined for the others. */
export type PageRoutes = (method: string, url: URL) => Promise<RouteResult> | undefined;
