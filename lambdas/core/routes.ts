import { OPENAI_APIS, type OpenAiApi } from './openai-api.js';

/**
 * The routes of the scoring API, declared once: the local server's open paths, the API
 * Gateway resources and methods (`lib/constructs/scoring-api.ts`) and the handler's routing
 * ({@link parseRoute}) are derived from this table. A new route is one entry here plus its
 * case in the handler.
 */

/** A request path, recognised. */
export type Route =
  | { kind: 'ping' | 'health' | 'version' | 'list-endpoints' }
  | { kind: 'get-endpoint'; name: string }
  | { kind: 'invoke-endpoint'; endpoint: string; served?: string }
  | { kind: 'invoke-model'; model: string; ref: string }
  | { kind: 'openai'; api: OpenAiApi }
  | { kind: 'registry'; op: RegistryOp }
  | { kind: 'endpoint-config'; name: string }
  | { kind: 'endpoint-ai-gateway'; name: string }
  | { kind: 'not-implemented' }
  | { kind: 'not-found' }
  | { kind: 'method-not-allowed'; allowed: string; invocation?: InvocationRoute; openai?: OpenAiApi };

/** The MLflow model-registry calls the management API answers. */
export type RegistryOp = 'create-version' | 'transition-stage' | 'set-alias' | 'delete-alias' | 'get-model' | 'get-version';

/** The routes that change what is served or captured, or read the registry: they need a management credential. */
export type ManagementRoute = Extract<Route, { kind: 'registry' | 'endpoint-config' | 'endpoint-ai-gateway' }>;

/** The routes that invoke a model, and are captured. */
export type InvocationRoute = Extract<Route, { kind: 'invoke-endpoint' | 'invoke-model' }>;

/** A route a path template leads to. */
type Recognised = Exclude<Route, { kind: 'not-found' | 'method-not-allowed' | 'not-implemented' }>;

/** One route: its method, its path template (API Gateway's `{param}` syntax), and whether it needs credentials. */
export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  /** Answered without credentials (health checks), locally and on AWS. */
  readonly open: boolean;
  /** Changes production (or reads the registry): a management credential, distinct from the scoring one. */
  readonly management?: true;
  /** The route, from the template's parameters (decoded path segments). */
  readonly route: (params: Readonly<Record<string, string>>) => Recognised;
}

const param = (params: Readonly<Record<string, string>>, name: string) => params[name] as string;

/** Every route of the scoring API. */
export const ROUTES: readonly RouteSpec[] = [
  { method: 'GET', path: '/ping', open: true, route: () => ({ kind: 'ping' }) },
  { method: 'GET', path: '/health', open: true, route: () => ({ kind: 'health' }) },
  { method: 'GET', path: '/version', open: false, route: () => ({ kind: 'version' }) },
  { method: 'POST', path: '/serving-endpoints/{name}/invocations', open: false, route: (p) => ({ kind: 'invoke-endpoint', endpoint: param(p, 'name') }) },
  {
    method: 'POST',
    path: '/serving-endpoints/{name}/served-models/{served}/invocations',
    open: false,
    route: (p) => ({ kind: 'invoke-endpoint', endpoint: param(p, 'name'), served: param(p, 'served') }),
  },
  { method: 'POST', path: '/model/{name}/{ref}/invocations', open: false, route: (p) => ({ kind: 'invoke-model', model: param(p, 'name'), ref: param(p, 'ref') }) },
  ...Object.entries(OPENAI_APIS).map(([api, { path }]) => ({ method: 'POST' as const, path, open: false, route: () => ({ kind: 'openai' as const, api: api as OpenAiApi }) })),
  { method: 'GET', path: '/api/2.0/serving-endpoints', open: false, route: () => ({ kind: 'list-endpoints' }) },
  { method: 'GET', path: '/api/2.0/serving-endpoints/{name}', open: false, route: (p) => ({ kind: 'get-endpoint', name: param(p, 'name') }) },
  { method: 'PUT', path: '/api/2.0/serving-endpoints/{name}/config', open: false, management: true, route: (p) => ({ kind: 'endpoint-config', name: param(p, 'name') }) },
  { method: 'PUT', path: '/api/2.0/serving-endpoints/{name}/ai-gateway', open: false, management: true, route: (p) => ({ kind: 'endpoint-ai-gateway', name: param(p, 'name') }) },
  ...(
    [
      ['POST', 'model-versions/create', 'create-version'],
      ['POST', 'model-versions/transition-stage', 'transition-stage'],
      ['POST', 'registered-models/alias', 'set-alias'],
      ['DELETE', 'registered-models/alias', 'delete-alias'],
      ['GET', 'registered-models/get', 'get-model'],
      ['GET', 'model-versions/get', 'get-version'],
    ] as const
  ).map(([method, path, op]) => ({ method, path: `/api/2.0/mlflow/${path}`, open: false, management: true as const, route: () => ({ kind: 'registry' as const, op }) })),
];

/** Paths of the Databricks and MLflow REST APIs: those not routed above are answered 501, naming the route. */
export const REST_API_PREFIX = '/api/2.0/';

/** Paths answered without credentials. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(ROUTES.filter((r) => r.open).map((r) => r.path));

function segment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const TEMPLATES = ROUTES.map((spec) => ({ spec, parts: spec.path.split('/').filter(Boolean) }));

/** Recognises a method and path (empty segments ignored, segments decoded); never throws. */
export function parseRoute(method: string, path: string): Route {
  const parts = path.split('/').filter(Boolean).map(segment);
  for (const { spec, parts: template } of TEMPLATES) {
    if (template.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const matches = template.every((t, i) => {
      const part = parts[i] as string;
      if (t.startsWith('{') && t.endsWith('}')) {
        params[t.slice(1, -1)] = part;
        return true;
      }
      return t === part;
    });
    if (!matches) continue;
    const route = spec.route(params);
    if (method === spec.method) return route;
    // The same path with another method may be a route of its own (the alias: POST and DELETE).
    if (TEMPLATES.some((t) => t.spec.method === method && t.spec.path === spec.path)) continue;
    // An invocation with the wrong method still reached the proxy: it is captured as refused.
    if (route.kind === 'invoke-endpoint' || route.kind === 'invoke-model') return { kind: 'method-not-allowed', allowed: spec.method, invocation: route };
    // An OpenAI route names its endpoint in a body a wrong method does not have: captured as unrouted.
    return route.kind === 'openai' ? { kind: 'method-not-allowed', allowed: spec.method, openai: route.api } : { kind: 'method-not-allowed', allowed: spec.method };
  }
  return path.startsWith(REST_API_PREFIX) ? { kind: 'not-implemented' } : { kind: 'not-found' };
}

/** Whether a method and path reach a management route (decided as the handler routes them). */
export function isManagementCall(method: string, path: string): boolean {
  const kind = parseRoute(method, path).kind;
  return kind === 'registry' || kind === 'endpoint-config' || kind === 'endpoint-ai-gateway';
}
