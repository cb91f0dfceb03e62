import type { Config } from '../core/config/index.js';
import type { PageRoutes } from '../core/ports.js';
import { dashboardRoutes } from '../ui/dashboard.js';
import { consoleRoutes } from '../ui/console.js';
import { uiApiRoutes } from '../ui/api.js';
import { pageRoutes } from '../ui/page.js';
import { localUiSource } from './local-ui.js';
import type { UiSource } from '../ui/source.js';
import { CaptureCounters } from '../adapters/local/capture-counters.js';
import { DataFolderBusyError, LocalDeliveryStream } from '../adapters/local/delivery-stream.js';
import { LocalQueryEngine } from '../adapters/local/query-engine.js';
import { warmUpParser } from '../core/athena-sql/parse.js';
import { FileObjectStore } from '../adapters/local/file-object-store.js';
import { recordServedEntities } from '../core/served-entities.js';
import { type ServingControl, seedServingState, servingControl } from '../core/serving-state.js';
import { FileServingStateStore } from '../adapters/local/serving-state-file.js';
import { RedriveError, type RedriveOptions, type RedriveReport, SpillingSink, redriveSpilled } from '../core/spill.js';
import { type LocalServer, startLocalServer } from '../adapters/local/http-server.js';
import { bodyPace } from '../adapters/local/request-body.js';
import { createBackendFactory } from '../backends/factory.js';
import { BackendHealth } from '../core/backend-health.js';
import { readHealth } from '../core/health.js';
import { log } from '../core/log.js';
import { PRODUCT_VERSION } from '../core/version.js';
import { RefreshFailedError, type RefreshDefinitionSource } from '../core/refresh-steps.js';
import { runLocalMaintenance } from './local-maintenance.js';
import { localRefreshDependencies, runLocalRefresh } from './local-refresh.js';
import type { QueryEngine } from '../core/ports.js';
import type { RefreshDeps } from '../workflow/steps.js';
import { type ScoringHandler, createScoringHandler } from '../scoring/handler.js';
import type { ScoringContext } from '../scoring/middleware.js';


/** Options of the local stack. */
export interface LocalStackOptions {
  readonly config: Config;
  readonly dataDir: string;
  readonly host?: string;
  readonly port?: number;
  readonly token?: string | undefined;
  /** Required by the management routes when set (`INFERENCE_TABLES_MANAGEMENT_TOKEN`); without it they are open on loopback only. */
  readonly managementToken?: string | undefined;
  /** Overrides the configuration's buffer interval (seconds). */
  readonly bufferIntervalSeconds?: number;
  /** Runs the refresh workflow on the configured schedule (the local EventBridge Scheduler). Default: `refresh.enabled`. */
  readonly scheduleRefresh?: boolean;
  /** Runs the maintenance (compaction, retention) every `local.compact_minutes`. Default: when that is above 0. */
  readonly scheduleMaintenance?: boolean;
  /** How long a backend probe's result is reused by the endpoint API, in ms. Default: 15 s. */
  readonly backendProbeTtlMs?: number;
  /** The synthesized refresh definition the scheduled runs execute (`localRefreshDefinition` of `lib/refresh-definition.ts`, given by the entry point). */
  readonly refreshDefinition: RefreshDefinitionSource;
}

/** The local stack: the scoring handler with local adapters, behind an HTTP server. */
export interface LocalStack {
  readonly handler: ScoringHandler;
  /** The local delivery stream (the Firehose of this machine). */
  readonly stream: LocalDeliveryStream;
  /** What the handler puts to: the stream, then the spill prefix of the data folder. */
  readonly sink: SpillingSink;
  /** Retries, spills, losses and redrives counted since start. */
  readonly counters: CaptureCounters;
  readonly server: LocalServer;
  /** Stops accepting requests, answers those in flight, delivers every buffered record. */
  close(): Promise<void>;
}

/** Wires the scoring handler to the local delivery stream and serves it. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { config } = options;
  const stream = await LocalDeliveryStream.open({
    dataDir: options.dataDir,
    bufferIntervalMs: (options.bufferIntervalSeconds ?? config.delivery.buffer_interval_seconds) * 1000,
    bufferSizeBytes: config.delivery.buffer_size_mb * 1024 * 1024,
  });
  const counters = new CaptureCounters();
  // The SQL grammar's warm-up (about 150 ms) is paid once, off the first query's clock.
  setImmediate(warmUpParser);
  const spill = new FileObjectStore(options.dataDir, { durable: true });
  const sink = new SpillingSink(stream, spill, counters, { spillTimeoutMs: config.delivery.spill_timeout_ms });
  // Spilled records go back into the stream at start and on the redrive schedule, as the
  // scheduled redrive function does on AWS.
  const redrive = () =>
    redriveSpilled(spill, stream, counters)
      .then((r) => {
        if (r.objects > 0) log('info', 'redrive of spilled capture records', { redriven: r.redriven, failed: r.failed.length, unreadable: r.unreadable.length });
      })
      .catch((error: unknown) => log('error', 'redrive failed; spilled records kept', { error }));
  await redrive();
  // What is served: the stored serving state, unless the configuration file changed its
  // models or endpoints; recorded before the first request, as a deploy records it on AWS.
  const servingStore = new FileServingStateStore(options.dataDir);
  const seeded = await seedServingState(config, servingStore, Date.now());
  const recorded = await recordServedEntities(spill, seeded.config, Date.now());
  if (recorded.written) log('info', 'served entities recorded', { configVersion: recorded.configVersion, key: recorded.key });
  const serving = servingControl(config, servingStore, spill, config.serving.state_ttl_seconds * 1000);
  const redriveTimer = setInterval(() => void redrive(), config.delivery.redrive_minutes * 60_000);
  redriveTimer.unref();
  const tables = new FileObjectStore(options.dataDir);
  const handler = createScoringHandler({
    config,
    serving,
    sink,
    backends: createBackendFactory(),
    version: PRODUCT_VERSION,
    health: (endpoint) => readHealth(tables, endpoint),
    backendHealth: new BackendHealth({ probeTtlMs: options.backendProbeTtlMs }),
  });
  const limits = [...config.endpoints.map((e) => e.capture.max_request_bytes), ...config.models.map((m) => m.capture.max_request_bytes), 16 * 1024 * 1024];
  let server: LocalServer;
  try {
    server = await startLocalServer({
      // The trace is added to the context by the handler's first middleware.
      handler: (event, context) => handler(event, context as ScoringContext),
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 8080,
      token: options.token,
      managementToken: options.managementToken,
      maxBodyBytes: Math.max(...limits),
      maxInFlight: config.local.max_in_flight,
      bodyPace: bodyPace(config.local),
      routes: uiRoutes(localUiSource({ config, dataDir: options.dataDir, serving, counters })),
    });
  } catch (error) {
    clearInterval(redriveTimer);
    await stream.close();
    throw error;
  }
  let running: Promise<unknown> | undefined;
  const compact = async () => {
    try {
      const report = await runLocalMaintenance({ config, dataDir: options.dataDir });
      for (const t of report.compaction.filter((x) => x.partitions > 0 || x.deleted > 0 || x.unreadable.length > 0)) log('info', 'scheduled compaction', { ...t });
      const { payload, labels, quarantine } = report.retention;
      if (payload.length + labels.length + quarantine.length > 0) log('info', 'retention applied', { payload: payload.length, labels: labels.length, quarantine: quarantine.length });
    } catch (error) {
      log('error', 'scheduled compaction failed; the tables are as they were', { error: (error as Error).message });
    }
  };
  const maintain = () => {
    if (running) return; // a run still going: this tick is skipped
    running = compact().finally(() => (running = undefined));
  };
  const refresh = () => {
    if (running) return; // a run still going: this tick is skipped, as a scheduler with no overlap would
    running = runLocalRefresh({ config, dataDir: options.dataDir, definition: options.refreshDefinition })
      .then(async (r) => {
        for (const e of r.reports.filter((x) => x.files > 0)) {
          log('info', 'scheduled refresh', { run: r.run_id, endpoint: e.endpoint, predictions: e.predictions, rejected: e.rejected });
        }
        // The files the refresh has just read may be compacted now.
        if (config.local.compact_minutes > 0) await compact();
      })
      .catch((error: unknown) => log('error', 'scheduled refresh failed; watermarks unchanged', { error: error instanceof RefreshFailedError ? error.message : String(error) }))
      .finally(() => (running = undefined));
  };
  const timer = (options.scheduleRefresh ?? config.refresh.enabled) ? setInterval(refresh, config.refresh.schedule_minutes * 60_000) : undefined;
  timer?.unref();
  const maintenanceTimer = (options.scheduleMaintenance ?? config.local.compact_minutes > 0) ? setInterval(maintain, config.local.compact_minutes * 60_000) : undefined;
  maintenanceTimer?.unref();
  return {
    handler,
    stream,
    sink,
    counters,
    server,
    close: async () => {
      clearInterval(timer);
      clearInterval(maintenanceTimer);
      clearInterval(redriveTimer);
      await server.close();
      await stream.close();
      await running;
    },
  };
}

/** The routes of the endpoint page, its API, the SQL console and the dashboard over one source. */
export function uiRoutes(source: UiSource): PageRoutes {
  return firstRoute(pageRoutes(), uiApiRoutes(source), consoleRoutes(source), dashboardRoutes(source));
}

/** The first of `routes` that answers a path. */
function firstRoute(...routes: PageRoutes[]): PageRoutes {
  return (method, url) => {
    for (const route of routes) {
      const answer = route(method, url);
      if (answer) return answer;
    }
    return undefined;
  };
}

/** The local tables of `dataDir` as the SQL engine users query (`inference-tables query`). */
export function openLocalQueryEngine(dataDir: string, config: Config): Promise<LocalQueryEngine> {
  return LocalQueryEngine.open(dataDir, config);
}

/** Stores a file in the data folder (an upload to the local stand-in for S3); returns where. */
export async function storeInDataFolder(dataDir: string, key: string, body: Uint8Array): Promise<string> {
  const store = new FileObjectStore(dataDir);
  await store.put(key, body);
  return store.location(key);
}

/**
 * Puts the data folder's spilled records back into its stream (`inference-tables redrive`,
 * with no server running on the folder: a running server redrives by itself).
 */
export async function redriveDataFolder(config: Config, dataDir: string, options: RedriveOptions): Promise<RedriveReport> {
  let stream: LocalDeliveryStream;
  try {
    stream = await LocalDeliveryStream.open({ dataDir, bufferIntervalMs: 0, bufferSizeBytes: config.delivery.buffer_size_mb * 1024 * 1024 });
  } catch (error) {
    if (error instanceof DataFolderBusyError) {
      throw new RedriveError(`${error.message} A running server redrives spilled records itself, at start and every ${config.delivery.redrive_minutes} min.`, { cause: error });
    }
    throw error;
  }
  try {
    return await redriveSpilled(new FileObjectStore(dataDir), stream, new CaptureCounters(), options);
  } finally {
    await stream.close();
  }
}

/** The data folder as the object store of the tables (what the refresh and `doctor` read). */
export function localStore(dataDir: string): FileObjectStore {
  return new FileObjectStore(dataDir);
}

/**
 * Runs `work` (`repair`, `doctor`) over the data folder: with the local query engine (the
 * payload views and the warehouse's tables) and the folder as the object store; the engine is
 * closed before it returns, so a refresh may open the warehouse for writing.
 */
export async function withDataFolder<T>(config: Config, dataDir: string, work: (deps: RefreshDeps & { readonly engine: QueryEngine }) => Promise<T>): Promise<T> {
  const engine = await LocalQueryEngine.open(dataDir, config);
  try {
    return await work({ ...localRefreshDependencies(config, dataDir), engine });
  } finally {
    engine.close();
  }
}

/** The serving state of a data folder, as the CLI changes it (a running server reads it within its TTL). */
export function localServing(config: Config, dataDir: string): ServingControl {
  return servingControl(config, new FileServingStateStore(dataDir), new FileObjectStore(dataDir, { durable: true }), 0);
}
