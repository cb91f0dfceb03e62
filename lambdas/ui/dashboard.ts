import { GRANULARITIES, type Granularity } from '../core/config/index.js';
import { readHealth } from '../core/health.js';
import type { ObjectStore, PageRoutes, RouteResult } from '../core/ports.js';
import { capturedEndpoints } from '../workflow/steps.js';
import { stateKey } from '../workflow/paths.js';
import { dashboardSeries } from './series.js';
import { json, withEngine } from './read.js';
import type { UiSource } from './source.js';

/**
 * `/dashboard`, the first page of the series, now the endpoint page's monitoring view: the
 * address sends there (keeping its endpoint and window length), and its JSON,
 * `/dashboard/api/series`, is still answered for the scripts that read it.
 */

/** When the endpoint's last successful refresh committed (its watermarks' file), or null. */
export async function lastRefresh(store: ObjectStore, endpoint: string): Promise<string | null> {
  const key = stateKey(endpoint);
  const found = (await store.list(key)).find((o) => o.key === key);
  return found ? found.lastModified.toISOString() : null;
}

/** Where `/dashboard?endpoint=…&granularity=…` now is. */
function monitoringView(url: URL): RouteResult {
  const kept = new URLSearchParams([...url.searchParams].filter(([k]) => k === 'endpoint' || k === 'granularity'));
  const location = `/#/monitoring${kept.size > 0 ? `?${kept}` : ''}`;
  return { status: 302, contentType: 'application/json', body: JSON.stringify({ location }), headers: { location } };
}

/** Serves `/dashboard` (a redirect) and its series API; undefined for any other path. */
export function dashboardRoutes(source: UiSource): PageRoutes {
  return (method, url) => {
    if (!url.pathname.startsWith('/dashboard')) return undefined;
    if (method !== 'GET') return Promise.resolve(json(405, { error_code: 'METHOD_NOT_ALLOWED', message: 'The dashboard answers GET only.' }));
    if (url.pathname === '/dashboard' || url.pathname === '/dashboard/') return Promise.resolve(monitoringView(url));
    if (url.pathname !== '/dashboard/api/series') return Promise.resolve(json(404, { error_code: 'ENDPOINT_NOT_FOUND', message: `No dashboard page at ${url.pathname.slice(0, 64)}; the page is at /.` }));
    return source.config().then(async ({ config }) => {
      const endpoints = capturedEndpoints(config);
      const endpoint = url.searchParams.get('endpoint') ?? '';
      const granularity = (url.searchParams.get('granularity') ?? '1 hour') as Granularity;
      if (!endpoints.includes(endpoint)) return json(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Unknown endpoint '${endpoint.slice(0, 64)}'; known: ${endpoints.join(', ')}` });
      if (!GRANULARITIES.includes(granularity)) return json(400, { error_code: 'INVALID_PARAMETER_VALUE', message: `granularity must be one of ${GRANULARITIES.join(', ')}` });
      try {
        const [s, capture, tables, refreshed] = await Promise.all([withEngine(source, (engine, tables) => dashboardSeries(engine, tables, endpoint, granularity)), source.captureHealth?.(endpoint), readHealth(source.store, endpoint), lastRefresh(source.store, endpoint)]);
        return json(200, { ...s, capture: capture ?? null, tables: tables ?? null, last_refresh: refreshed });
      } catch (error) {
        return json(503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: `The metrics tables cannot be read now: ${(error as Error).message}` });
      }
    });
  };
}
