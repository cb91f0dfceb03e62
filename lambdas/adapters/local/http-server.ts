import { isUtf8 } from 'node:buffer';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { log } from '../../core/log.js';
import { eventIdentity } from '../../shared/proxy-event.js';
import type { RouteResult } from './dashboard.js';

/** Requests handled at once by default (API Gateway's stage throttling plays this part on AWS). */
export const DEFAULT_MAX_IN_FLIGHT = 256;

/** Paths answered without credentials, as on AWS. */
const OPEN_PATHS = new Set(['/ping', '/health']);

/** A handler with the Lambda signature (the middy-wrapped scoring handler). */
export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface LocalServerOptions {
  readonly handler: ProxyHandler;
  readonly host: string;
  readonly port: number;
  /** Required to listen beyond loopback; accepted as `Bearer <t>` or basic `token:<t>`. */
  readonly token?: string | undefined;
  /** Bodies are read up to this many bytes; the rest is discarded (the handler answers 413). */
  readonly maxBodyBytes: number;
  /**
   * Requests handled at once; beyond it the server answers 503 with Retry-After at once, so
   * memory stays bounded (each holds at most one body) however many clients connect.
   */
  readonly maxInFlight?: number;
  /** Local-only pages (the dashboard): an answer for the paths they serve, undefined for others. */
  readonly routes?: (method: string, url: URL) => Promise<RouteResult> | undefined;
}

/** Raised when the server is asked to do something unsafe or impossible. */
export class LocalServerError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalServerError';
  }
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Checks `Authorization` against the token; returns the requester name or null. */
export function authenticate(authorization: string | undefined, token: string): string | null {
  if (!authorization) return null;
  const [scheme = '', value = ''] = authorization.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() === 'bearer' && sameSecret(value, token)) return 'local:token';
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0 && sameSecret(decoded.slice(colon + 1), token)) return `local:${decoded.slice(0, colon) || 'token'}`;
  }
  return null;
}

function lambdaContext(requestId: string): Context {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'inference-tables-scoring',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:inference-tables-scoring',
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/inference-tables-scoring',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function readBody(req: IncomingMessage, max: number, done: (body: Buffer, total: number) => void): void {
  const chunks: Buffer[] = [];
  let kept = 0;
  let total = 0;
  req.on('data', (chunk: Buffer) => {
    total += chunk.length;
    if (kept < max) {
      const part = kept + chunk.length > max ? chunk.subarray(0, max - kept) : chunk;
      chunks.push(part);
      kept += part.length;
    }
  });
  req.once('end', () => done(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks), total));
}

/**
 * The path as sent, like API Gateway's: URL parsing would resolve `%2e%2e` and move the
 * request to another route.
 */
function pathAsSent(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] || '/';
}

/**
 * Turns a Node request into the API Gateway REST proxy event the Lambda receives, so the
 * same handler runs here and on AWS. A body that is not valid UTF-8 is passed base64-encoded,
 * as API Gateway passes binary bodies, so the handler sees the bytes as sent.
 */
export function toProxyEvent(req: IncomingMessage, url: URL, bytes: Buffer, totalBytes: number, principal: string | null): APIGatewayProxyEvent {
  const text = isUtf8(bytes);
  const body = text ? bytes.toString('utf8') : bytes.toString('base64');
  const path = pathAsSent(req);
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  if (totalBytes > bytes.length) headers['Content-Length'] = String(totalBytes);
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    (multiQuery[k] ??= []).push(v);
  }
  const requestId = randomUUID();
  return {
    resource: '/{proxy+}',
    path,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: Object.keys(multiQuery).length ? multiQuery : null,
    pathParameters: { proxy: path.replace(/^\//, '') },
    stageVariables: null,
    body: body.length > 0 ? body : null,
    isBase64Encoded: !text,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: principal ? { principalId: principal } : null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: req.method ?? 'GET',
      path,
      stage: 'local',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: '/{proxy+}',
      identity: eventIdentity({
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        user: principal ? null : 'local:anonymous',
        userAgent: req.headers['user-agent'] ?? null,
      }),
    },
  };
}

/** A running local server. */
export interface LocalServer {
  readonly url: string;
  readonly server: Server;
  /** Requests refused with 503 because `maxInFlight` were being handled. */
  overloaded(): number;
  /** Stops accepting requests and resolves when every request in flight is answered. */
  close(): Promise<void>;
}

/**
 * Serves the scoring handler over HTTP on one machine. Refuses to listen beyond loopback
 * without a token.
 */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  if (!isLoopback(options.host) && !options.token) {
    throw new LocalServerError(
      `Refusing to listen on ${options.host} without a token: set INFERENCE_TABLES_TOKEN (callers then send 'Authorization: Bearer <token>'), or listen on 127.0.0.1.`,
    );
  }
  let inFlight = 0;
  let overloaded = 0;
  let idle: (() => void) | undefined;

  const finished = () => {
    inFlight--;
    if (inFlight === 0) idle?.();
  };
  const failed = (res: ServerResponse) => (error: unknown) => {
    log('error', 'local server failed to answer', { error });
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error_code: 'INTERNAL_ERROR', message: 'Internal error.' }));
  };
  const respond = (res: ServerResponse, result: APIGatewayProxyResult) => {
    const payload = result.body ?? '';
    // A string body lets Node send the head and the body in one write.
    res.writeHead(result.statusCode, { ...(result.headers as Record<string, string>), 'content-length': String(Buffer.byteLength(payload)) });
    res.end(payload);
  };

  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  // Plain callbacks rather than async steps: one promise per request (the handler's).
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    res.once('close', finished);
    if (inFlight > maxInFlight) {
      // Refused before the body is read or the proxy runs: counted, not captured.
      overloaded++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ error_code: 'TEMPORARILY_UNAVAILABLE', message: `The server is handling ${maxInFlight} requests; retry shortly.` }));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://local');
    let principal: string | null = null;
    // Decided on the path the handler routes, so no spelling of a path is open here and routed elsewhere there.
    if (options.token && !OPEN_PATHS.has(pathAsSent(req))) {
      principal = authenticate(req.headers.authorization, options.token);
      if (!principal) {
        req.resume();
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
        res.end(JSON.stringify({ error_code: 'UNAUTHENTICATED', message: 'Missing or invalid credentials.' }));
        return;
      }
    }
    const routed = options.routes?.(req.method ?? 'GET', url);
    if (routed) {
      req.resume();
      routed.then((r) => {
        res.writeHead(r.status, {
          'content-type': r.contentType,
          'content-length': String(Buffer.byteLength(r.body)),
          'x-content-type-options': 'nosniff',
          // The page loads its script and styles from this server only.
          'content-security-policy': "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'",
        });
        res.end(r.body);
      }, failed(res));
      return;
    }
    readBody(req, options.maxBodyBytes + 1, (body, total) => {
      try {
        const event = toProxyEvent(req, url, body, total, principal);
        options.handler(event, lambdaContext(event.requestContext.requestId)).then((result) => respond(res, result), failed(res));
      } catch (error) {
        failed(res)(error);
      }
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new LocalServerError(`Cannot listen on ${options.host}:${options.port}: ${error.message}`, { cause: error })));
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    overloaded: () => overloaded,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
      server.closeAllConnections();
      await closed;
    },
  };
}
