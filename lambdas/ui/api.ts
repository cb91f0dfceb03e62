import { z } from 'zod';
import { type Config, monitoringSettings } from '../core/config/index.js';
import { windowLength } from '../core/monitoring/index.js';
import { readHealth } from '../core/health.js';
import { tableName } from '../core/names.js';
import { type PageRoutes, type QueryEngine, QueryError } from '../core/ports.js';
import { servedEntities } from '../core/served-entities.js';
import { capturedEndpoints } from '../workflow/steps.js';
import { lastRefresh } from './dashboard.js';
import { conversationOf } from './conversation.js';
import { columnView, monitoringChoices, windowView } from './monitoring.js';
import { REQUEST_LIST_COLUMNS, requestDateSchema, requestFilterSchema, requestListSql, requestSql, tableCountsSql, unpackedRowsSql } from './queries.js';
import type { UiSource } from './source.js';
import { BadParameter, NotFound, json, knownEndpoint, paramsOf, withEngine } from './read.js';
import { USAGE_VIEW } from '../core/usage-view.js';

/**
 * The endpoint page's API (`/api/ui/…`): the endpoints with their served entities and health,
 * the captured requests of one endpoint filtered and paged, one request whole with its
 * unpacked rows, and the monitoring views. Each answer is JSON; a bad parameter is a 400 in
 * MLflow's error shape that names it.
 */

/** The kinds of table an endpoint has, in the order the page lists them. */
const ENDPOINT_TABLES = ['payload', 'unpacked', 'unpack_errors', 'labels', 'label_rejects', 'profile_metrics', 'drift_metrics', 'alerts'] as const;

/** Every endpoint and classic model: served entities, capture, health, last delivery and refresh, tables with row counts. */
async function overview(source: UiSource): Promise<unknown> {
  const { config, version } = await source.config();
  const entities = servedEntities(config);
  const names = capturedEndpoints(config);
  return withEngine(source, async (engine, tables) => {
    const present = new Set(tables);
    const ours = names.flatMap((n) => ENDPOINT_TABLES.map((k) => tableName(n, k))).filter((t) => present.has(t));
    const counts = new Map<string, { rows: number; last_request: string | null }>();
    if (ours.length > 0) {
      for (const r of (await engine.query(tableCountsSql(ours, new Date()))).rows) {
        const t = counts.get(String(r.table_name)) ?? { rows: 0, last_request: null };
        counts.set(String(r.table_name), { rows: r.row_count === null ? t.rows : Number(r.row_count), last_request: (r.last_request as string | null) ?? t.last_request });
      }
    }
    const endpoints = await Promise.all(
      names.map(async (name) => {
        const endpoint = config.endpoints.find((e) => e.name === name);
        const model = config.models.find((m) => m.name === name);
        const capture = (endpoint ?? model)?.capture;
        const own = ENDPOINT_TABLES.map((k) => tableName(name, k)).filter((t) => present.has(t));
        const [health, refreshed, captureHealth] = await Promise.all([readHealth(source.store, name), lastRefresh(source.store, name), source.captureHealth?.(name)]);
        return {
          name,
          route: endpoint ? 'endpoint' : 'model',
          entities: entities.filter((e) => e.endpoint === name && e.route === (endpoint ? 'endpoint' : 'model')),
          capture: { enabled: capture?.enabled ?? false, sampling_fraction: capture?.sampling_fraction ?? null },
          health: health ?? null,
          last_refresh: refreshed,
          last_request: counts.get(tableName(name, 'payload'))?.last_request ?? null,
          tables: own.map((t) => ({ name: t, rows: counts.get(t)?.rows ?? null })),
          capture_health: captureHealth ?? null,
          granularities: granularitiesOf(config, name),
        };
      }),
    );
    // The alarms are CloudWatch's: when they cannot be read, the page says so and shows the rest.
    const alarms = source.alarms ? await source.alarms().then((list) => ({ alarms: list }), (error: unknown) => ({ alarms: null, alarms_error: (error as Error).message })) : { alarms: null };
    return { where: source.where, config_version: version, endpoints, views: [USAGE_VIEW, 'served_entities'].filter((v) => present.has(v)), ...alarms };
  });
}

/** The window lengths an endpoint's metrics are computed for, with their seconds (the page's menus and chart margins). */
const granularitiesOf = (config: Config, endpoint: string) => monitoringSettings(config, endpoint).granularities.map((name) => ({ name, seconds: windowLength(name) / 1000 }));

/** The endpoints and models with their served entities: the configuration alone, no table read (what every view's menus need). */
async function endpointList(source: UiSource): Promise<unknown> {
  const { config, version } = await source.config();
  const entities = servedEntities(config);
  return {
    where: source.where,
    config_version: version,
    endpoints: capturedEndpoints(config).map((name) => ({ name, served_entities: entities.filter((e) => e.endpoint === name).map((e) => e.served_entity_name), granularities: granularitiesOf(config, name) })),
  };
}

/** One page of an endpoint's requests, and with `id` that request whole (one read for the page with its inspector open). */
async function requests(source: UiSource, url: URL): Promise<unknown> {
  const { id, date, ...filter } = paramsOf(url, requestFilterSchema.extend({ id: requestId.optional(), date: requestDateSchema.optional() }));
  knownEndpoint((await source.config()).config, filter.endpoint);
  return withEngine(source, async (engine, tables) => {
    const sql = requestListSql(filter);
    const page = { page: filter.page, page_size: filter.page_size, columns: REQUEST_LIST_COLUMNS, sql };
    if (!tables.includes(tableName(filter.endpoint, 'payload'))) return { ...page, rows: [], has_more: false, detail: null };
    const rows = (await engine.query(sql)).rows;
    // A request that is not there leaves the list shown, with the reason where the request would be.
    const detail = id === undefined ? null : await requestDetail(engine, tables, filter.endpoint, id, date).catch((error: unknown) => {
      if (error instanceof NotFound) return { error: error.message };
      throw error;
    });
    return { ...page, rows: rows.slice(0, filter.page_size), has_more: rows.length > filter.page_size, detail };
  });
}

const requestId = z.string().min(1).max(200);
const requestParams = z.strictObject({ endpoint: z.string().min(1), id: requestId, date: requestDateSchema.optional() });

/** One request whole: the captured row, its unpacked rows with their labels, its usage and, for LLM calls, the conversation. */
async function request(source: UiSource, url: URL): Promise<unknown> {
  const { endpoint, id, date } = paramsOf(url, requestParams);
  knownEndpoint((await source.config()).config, endpoint);
  return withEngine(source, (engine, tables) => requestDetail(engine, tables, endpoint, id, date));
}

/** One request whole; with its date (from the list), the reads are of that day's files only. Tokens and streaming are the payload row's own columns. */
async function requestDetail(engine: QueryEngine, tables: readonly string[], endpoint: string, id: string, date?: string): Promise<unknown> {
  if (!tables.includes(tableName(endpoint, 'payload'))) throw new NotFound(`${endpoint} has captured no request yet.`);
  const row = (await engine.query(requestSql(endpoint, id, date))).rows[0];
  if (!row) throw new NotFound(`No request ${id.slice(0, 64)} in ${tableName(endpoint, 'payload')}${date ? ` on ${date}` : ''}.`);
  const unpacked = tables.includes(tableName(endpoint, 'unpacked')) ? await engine.query(unpackedRowsSql(endpoint, id, date)) : null;
  return {
    request: row,
    unpacked: unpacked ? { columns: unpacked.columns, rows: unpacked.rows } : null,
    conversation: conversationOf(row.request as string | null, row.response as string | null),
  };
}

/** Serves the endpoint page's API; undefined for other paths. */
export function uiApiRoutes(source: UiSource): PageRoutes {
  const routes: Readonly<Record<string, (url: URL) => Promise<unknown>>> = {
    '/api/ui/endpoints': () => endpointList(source),
    '/api/ui/overview': () => overview(source),
    '/api/ui/requests': (url) => requests(source, url),
    '/api/ui/request': (url) => request(source, url),
    '/api/ui/queries': async () => ({ queries: await source.namedQueries() }),
    '/api/ui/monitoring': (url) => monitoringChoices(source, url),
    '/api/ui/window': (url) => windowView(source, url),
    '/api/ui/column': (url) => columnView(source, url),
  };
  return (method, url) => {
    const route = routes[url.pathname];
    if (!route) return url.pathname.startsWith('/api/ui/') ? Promise.resolve(json(404, { error_code: 'ENDPOINT_NOT_FOUND', message: `No page API at ${url.pathname.slice(0, 64)}; the paths are ${Object.keys(routes).join(', ')}.` })) : undefined;
    if (method !== 'GET') return Promise.resolve(json(405, { error_code: 'METHOD_NOT_ALLOWED', message: 'The page API answers GET only.' }));
    return route(url).then(
      (value) => json(200, value),
      (error: unknown) => {
        if (error instanceof BadParameter) return json(400, { error_code: 'INVALID_PARAMETER_VALUE', message: error.message });
        if (error instanceof NotFound) return json(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: error.message });
        if (error instanceof QueryError) return json(503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: `The tables cannot be read now: ${error.message}` });
        throw error;
      },
    );
  };
}
