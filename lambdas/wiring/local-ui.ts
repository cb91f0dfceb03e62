import { type Config } from '../core/config/index.js';
import { environmentQueries, namedQueries } from '../core/named-queries.js';
import type { ServingControl } from '../core/serving-state.js';
import { capturedEndpoints } from '../workflow/steps.js';
import { captureHealth } from '../adapters/local/capture-health.js';
import type { CaptureCounters } from '../adapters/local/capture-counters.js';
import { FileObjectStore } from '../adapters/local/file-object-store.js';
import { LocalQueryEngine } from '../adapters/local/query-engine.js';
import type { UiSource } from '../ui/source.js';

/**
 * The endpoint page's source on one machine: the data folder's tables through the local
 * engine, the serving state the server applies, the server's capture counters. The console's
 * engine is opened confined to the data folder (no other file, no settings change).
 */
export function localUiSource(options: {
  readonly config: Config;
  readonly dataDir: string;
  /** The serving state in force; the configuration file's when absent. */
  readonly serving?: ServingControl;
  readonly counters?: CaptureCounters;
  /** Where relative baseline files are (the project's root). */
  readonly projectRoot?: string;
}): UiSource {
  const { config, dataDir } = options;
  return {
    where: { kind: 'local', dataDir },
    config: async () => (options.serving ? options.serving.current() : { config, version: 1 }),
    open: () => LocalQueryEngine.open(dataDir, config, { confined: true }),
    console: async (sql, limits) => {
      const engine = await LocalQueryEngine.open(dataDir, config, { confined: true });
      try {
        return await engine.preview(sql, limits);
      } finally {
        engine.close();
      }
    },
    store: new FileObjectStore(dataDir),
    namedQueries: async () => [...capturedEndpoints(config).flatMap(namedQueries), ...environmentQueries()],
    projectRoot: options.projectRoot ?? process.cwd(),
    captureHealth: (endpoint) => captureHealth(dataDir, endpoint, options.counters),
  };
}
