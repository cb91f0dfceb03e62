import type { Config } from '../../lib/config.js';
import { LocalDeliveryStream } from '../adapters/local/delivery-stream.js';
import { type LocalServer, startLocalServer } from '../adapters/local/http-server.js';
import { createBackendFactory } from '../backends/factory.js';
import { PRODUCT_VERSION } from '../core/version.js';
import { type ScoringHandler, createScoringHandler } from '../scoring/handler.js';
import type { ScoringContext } from '../scoring/middleware.js';


/** Options of the local stack. */
export interface LocalStackOptions {
  readonly config: Config;
  readonly dataDir: string;
  readonly host?: string;
  readonly port?: number;
  readonly token?: string | undefined;
  /** Overrides the configuration's buffer interval (seconds). */
  readonly bufferIntervalSeconds?: number;
}

/** The local stack: the scoring handler with local adapters, behind an HTTP server. */
export interface LocalStack {
  readonly handler: ScoringHandler;
  readonly sink: LocalDeliveryStream;
  readonly server: LocalServer;
  /** Stops accepting requests, answers those in flight, delivers every buffered record. */
  close(): Promise<void>;
}

/** Wires the scoring handler to the local delivery stream and serves it. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { config } = options;
  const sink = await LocalDeliveryStream.open({
    dataDir: options.dataDir,
    bufferIntervalMs: (options.bufferIntervalSeconds ?? config.delivery.buffer_interval_seconds) * 1000,
    bufferSizeBytes: config.delivery.buffer_size_mb * 1024 * 1024,
  });
  const handler = createScoringHandler({ config, sink, backends: createBackendFactory(), version: PRODUCT_VERSION });
  const limits = [...config.endpoints.map((e) => e.capture.max_request_bytes), ...config.models.map((m) => m.capture.max_request_bytes), 16 * 1024 * 1024];
  let server: LocalServer;
  try {
    server = await startLocalServer({
      // The trace is added to the context by the handler's first middleware.
      handler: (event, context) => handler(event, context as ScoringContext),
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 8080,
      token: options.token,
      maxBodyBytes: Math.max(...limits),
    });
  } catch (error) {
    await sink.close();
    throw error;
  }
  return {
    handler,
    sink,
    server,
    close: async () => {
      await server.close();
      await sink.close();
    },
  };
}
