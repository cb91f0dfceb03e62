import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { AnswerStream } from '../../core/llm-stream.js';
import { OPENAI_APIS, openAiErrorBody } from '../../core/openai-api.js';
import type { ScoringResult } from '../../scoring/middleware.js';
import { localServerSchema } from '../../core/config/index.js';
import { asError } from '../../core/errors.js';
import { log } from '../../core/log.js';
import { OPEN_PATHS, isManagementCall } from '../../core/routes.js';
import { eventIdentity } from '../../shared/proxy-event.js';
import type { GatewayContext } from '../../shared/gateway-fault.js';
import type { PageRoutes } from '../../core/ports.js';
import { MANAGEMENT_REQUESTER, authenticate, browserRefusal, isLoopback, managementRefusal } from './local-auth.js';
import { type BodyPace, BodyReaders, DEFAULT_BODY_PACE, type SlowBody, announcesBody } from './request-body.js';
import { UserFacingError } from '../../shared/errors.js';

/** Requests handled at once by default (API Gateway's stage throttling plays this part on AWS). */
export const DEFAULT_MAX_IN_FLIGHT = localServerSchema.parse({}).max_in_flight;


/** A handler with the Lambda signature (the middy-wrapped scoring handler); a streamed answer carries its stream. */
export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<ScoringResult>;

/**
 * Sends a streamed answer as its events come, each flushed on its own, with backpressure.
 * A caller that leaves mid-stream cancels it (the backend's call is aborted and the capture
 * says so); the connection closes when the stream ends.
 */
async function sendStream(res: ServerResponse, result: APIGatewayProxyResult, stream: AnswerStream): Promise<void> {
  // The caller may have left while the backend was being asked.
  if (res.destroyed || res.closed) {
    stream.cancel('client');
    return;
  }
  res.writeHead(result.statusCode, { ...(result.headers as Record<string, string>), connection: 'close' });
  res.flushHeaders();
  const left = new Promise<void>((resolve) => res.once('close', resolve));
  res.once('close', () => {
    if (!res.writableFinished) stream.cancel();
  });
  for await (const event of stream) {
    if (res.destroyed) break;
    if (!res.write(event)) await Promise.race([once(res, 'drain'), left]);
  }
  if (!res.destroyed) res.end();
}

export interface LocalServerOptions {
  readonly handler: ProxyHandler;
  readonly host: string;
  readonly port: number;
  /** Required to listen beyond loopback; accepted as `Bearer <t>` or basic `<user>:<t>`. */
  readonly token?: string | undefined;
  /**
   * Required by the management routes, which change production, instead of `token`; without
   * it they are answered on loopback only.
   */
  readonly managementToken?: string | undefined;
  /** Bodies are read up to this many bytes; the rest is discarded (the handler answers 413). */
  readonly maxBodyBytes: number;
  /**
   * Authenticated requests handled at once; beyond it the server answers 503 with Retry-After
   * at once, so memory stays bounded (each holds at most one body) however many clients
   * connect. Open routes and refused credentials hold no slot.
   */
  readonly maxInFlight?: number;
  /** How slowly a body may arrive before it is cut with 408. */
  readonly bodyPace?: BodyPace;
  /** Local-only pages (the dashboard): an answer for the paths they serve, undefined for others. */
  readonly routes?: PageRoutes;
}

/** Raised when the server is asked to do something unsafe or impossible. */
export class LocalServerError extends UserFacingError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalServerError';
  }
}


function lambdaContext(requestId: string, fault?: Error): Context & GatewayContext {
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
    ...(fault ? { gatewayFault: fault } : {}),
  };
}

/**
 * The path as sent, like API Gateway's: URL parsing would resolve `%2e%2e` and move the
 * request to another route.
 */
function pathAsSent(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] || '/';
}

/**
 * The request target as a URL for the local pages, built without parsing the target as a URL:
 * `//`, `//x` or `http://` are valid request targets that `new URL(target, base)` refuses.
 */
function requestUrl(req: IncomingMessage): URL {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const url = new URL('http://local/');
  url.pathname = pathAsSent(req);
  if (q >= 0) url.search = target.slice(q + 1);
  return url;
}

/** The proxy event's fields that depend on nothing but the method and path (what a fault leaves), with the caller's identity when known. */
function baseEvent(req: IncomingMessage, path: string, identity = eventIdentity({})): APIGatewayProxyEvent {
  const method = req.method ?? 'GET';
  return {
    resource: '/{proxy+}',
    path,
    httpMethod: method,
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: path.replace(/^\//, '') },
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      path,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: '/{proxy+}',
      identity,
    },
  };
}

/**
 * Turns a Node request into the API Gateway REST proxy event the Lambda receives, so the
 * same handler runs here and on AWS. A body that is not valid UTF-8 is passed base64-encoded,
 * as API Gateway passes binary bodies, so the handler sees the bytes as sent.
 */
export function toProxyEvent(req: IncomingMessage, url: URL, bytes: Buffer, totalBytes: number, principal: string | null): APIGatewayProxyEvent {
  const text = isUtf8(bytes);
  const body = text ? bytes.toString('utf8') : bytes.toString('base64');
  const identity = eventIdentity({
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
    user: principal ? null : 'local:anonymous',
    userAgent: req.headers['user-agent'] ?? null,
  });
  const event = baseEvent(req, pathAsSent(req), identity);
  // No prototype: a header or query parameter named `__proto__`, `constructor` or `valueOf` is a name like any other.
  const headers: Record<string, string> = Object.create(null);
  const multiValueHeaders: Record<string, string[]> = Object.create(null);
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  if (totalBytes > bytes.length) headers['Content-Length'] = String(totalBytes);
  const query: Record<string, string> = Object.create(null);
  const multiQuery: Record<string, string[]> = Object.create(null);
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    (multiQuery[k] ??= []).push(v);
  }
  return {
    ...event,
    headers,
    multiValueHeaders,
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: Object.keys(multiQuery).length ? multiQuery : null,
    body: body.length > 0 ? body : null,
    isBase64Encoded: !text,
    requestContext: {
      ...event.requestContext,
      authorizer: principal ? { principalId: principal } : null,
      protocol: `HTTP/${req.httpVersion}`,
    },
  };
}

/** A running local server. */
export interface LocalServer {
  readonly url: string;
  readonly server: Server;
  /** Requests refused with 503 because `maxInFlight` were being handled. */
  overloaded(): number;
  /** Request bodies cut with 408 for arriving slower than the pace allows. */
  slowBodies(): number;
  /** Requests answered 500 because the server itself failed on them (each one logged with its stack). */
  faults(): number;
  /** Stops accepting requests and resolves when every request in flight is answered. */
  close(): Promise<void>;
}

const JSON_TYPE = { 'content-type': 'application/json' } as const;

const OPENAI_PATHS: ReadonlySet<string> = new Set(Object.values(OPENAI_APIS).map((a) => a.path));

/** The server's own refusal, in the error shape of the route's clients: OpenAI's on its routes, MLflow's elsewhere. */
function refusal(req: IncomingMessage, status: number, errorCode: string, message: string): string {
  return OPENAI_PATHS.has(pathAsSent(req)) ? openAiErrorBody({ status, errorCode, message }) : JSON.stringify({ error_code: errorCode, message });
}

/**
 * Answers without reading the body. A body still on its way would keep the connection (Node
 * reads and drops it before the next request), so the connection is closed after the answer.
 */
function answerUnread(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)), ...(announcesBody(req) && !req.complete ? { connection: 'close' } : {}) });
  res.end(body);
}

/**
 * Serves the scoring handler over HTTP on one machine. Refuses to listen beyond loopback
 * without a token.
 *
 * Nothing a request carries stops the process: every step here is guarded, and a step that
 * throws gets a 500 in MLflow's error shape with a request id (no internals), logged with its
 * stack; when it happened before the handler ran, the handler still gets the request (method
 * and path) with the fault, so the invocation is captured with the 500 its caller got.
 */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  if (!isLoopback(options.host) && !options.token) {
    throw new LocalServerError(
      `Refusing to listen on ${options.host} without a token: set INFERENCE_TABLES_TOKEN (callers then send 'Authorization: Bearer <token>'), or listen on 127.0.0.1.`,
    );
  }
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const pace = options.bodyPace ?? DEFAULT_BODY_PACE;
  const bodies = new BodyReaders(pace);
  let inFlight = 0;
  let overloaded = 0;
  let slowBodies = 0;
  let faults = 0;
  let idle: (() => void) | undefined;

  const release = () => {
    inFlight--;
    if (inFlight === 0) idle?.();
  };
  /** The last resort: a 500 that names the request and nothing else; the connection goes if the answer had started. */
  const fault = (req: IncomingMessage, res: ServerResponse, error: unknown, requestId = randomUUID()) => {
    faults++;
    log('error', 'local server failed on a request; answered 500', { requestId, method: req.method, path: pathAsSent(req).slice(0, 256), error });
    try {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      answerUnread(req, res, 500, { ...JSON_TYPE, 'x-request-id': requestId }, refusal(req, 500, 'INTERNAL_ERROR', `Internal error. Request id: ${requestId}.`));
    } catch {
      res.destroy();
    }
  };
  const respond = (res: ServerResponse, result: ScoringResult) => {
    if (result.stream) return sendStream(res, result, result.stream);
    const payload = result.body ?? '';
    // A string body lets Node send the head and the body in one write.
    res.writeHead(result.statusCode, { ...(result.headers as Record<string, string>), 'content-length': String(Buffer.byteLength(payload)) });
    res.end(payload);
  };
  const invoke = (req: IncomingMessage, res: ServerResponse, event: APIGatewayProxyEvent, gatewayFault?: Error) => {
    options
      .handler(event, lambdaContext(event.requestContext.requestId, gatewayFault))
      .then((result) => respond(res, result))
      .catch((error: unknown) => fault(req, res, error));
  };
  /** The request as the handler gets it; a conversion that fails still reaches the handler, with the fault. */
  const eventOf = (req: IncomingMessage, url: URL, body: Buffer, total: number, principal: string | null): [APIGatewayProxyEvent, Error?] => {
    try {
      return [toProxyEvent(req, url, body, total, principal)];
    } catch (error) {
      return [baseEvent(req, pathAsSent(req)), asError(error)];
    }
  };
  // Runs from the sweep's timer, outside the request callback's guard: guarded here.
  const slow = (req: IncomingMessage, res: ServerResponse) => (s: SlowBody) => {
    try {
      slowBodies++;
      log('warn', 'request body arrived too slowly; answered 408', { path: pathAsSent(req).slice(0, 256), receivedBytes: s.receivedBytes, elapsedMs: s.elapsedMs });
      const rate = `${pace.minBytesPerSecond} bytes/s after the first ${pace.graceMs / 1000} s, and ${pace.deadlineMs / 1000} s in all`;
      answerUnread(req, res, 408, JSON_TYPE, refusal(req, 408, 'REQUEST_TIMEOUT', `The request body arrived too slowly: ${s.receivedBytes} bytes in ${(s.elapsedMs / 1000).toFixed(1)} s. A body must arrive at ${rate} at most.`));
    } catch (error) {
      fault(req, res, error);
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = pathAsSent(req);
    const url = requestUrl(req);
    const foreign = browserRefusal(req, !options.token);
    if (foreign) {
      req.resume();
      answerUnread(req, res, 403, JSON_TYPE, refusal(req, 403, 'PERMISSION_DENIED', foreign));
      return;
    }
    // Health checks are answered without credentials, a body or a slot, so no caller can use
    // them to hold the server's capacity.
    if (OPEN_PATHS.has(path)) {
      const [event, gatewayFault] = eventOf(req, url, Buffer.alloc(0), 0, null);
      req.resume();
      options
        .handler(event, lambdaContext(event.requestContext.requestId, gatewayFault))
        .then((result) => answerUnread(req, res, result.statusCode, result.headers as Record<string, string>, result.body ?? ''))
        .catch((error: unknown) => fault(req, res, error));
      return;
    }
    let principal: string | null = null;
    const management = isManagementCall(req.method ?? 'GET', url.pathname);
    if (management) {
      const refused = managementRefusal(req, options);
      if (refused) {
        req.resume();
        answerUnread(req, res, refused.status, { ...JSON_TYPE, ...(refused.status === 401 ? { 'www-authenticate': 'Bearer' } : {}) }, refusal(req, refused.status, refused.code, refused.message));
        return;
      }
      principal = options.managementToken ? MANAGEMENT_REQUESTER : options.token ? authenticate(req.headers.authorization, options.token) : null;
    }
    // Decided on the path the handler routes, so no spelling of a path is open here and routed elsewhere there.
    else if (options.token) {
      principal = authenticate(req.headers.authorization, options.token);
      if (!principal) {
        req.resume();
        answerUnread(req, res, 401, { ...JSON_TYPE, 'www-authenticate': 'Bearer' }, refusal(req, 401, 'UNAUTHENTICATED', 'Missing or invalid credentials.'));
        return;
      }
    }
    if (inFlight >= maxInFlight) {
      // Refused before the body is read or the proxy runs: counted, not captured.
      overloaded++;
      req.resume();
      answerUnread(req, res, 503, { ...JSON_TYPE, 'retry-after': '1' }, refusal(req, 503, 'TEMPORARILY_UNAVAILABLE', `The server is handling ${maxInFlight} requests; retry shortly.`));
      return;
    }
    inFlight++;
    res.once('close', release);
    const routed = options.routes?.(req.method ?? 'GET', url);
    if (routed) {
      req.resume();
      routed
        .then((r) => {
          res.writeHead(r.status, {
            'content-type': r.contentType,
            'content-length': String(Buffer.byteLength(r.body)),
            'x-content-type-options': 'nosniff',
            // Every answer of this server carries one, the pages' included.
            'x-request-id': randomUUID(),
            // The page loads its script and styles from this server only.
            'content-security-policy': "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'",
            ...r.headers,
          });
          res.end(r.body);
        })
        .catch((error: unknown) => fault(req, res, error));
      return;
    }
    bodies.read(req, options.maxBodyBytes + 1, {
      done: (body, total) => {
        try {
          const [event, gatewayFault] = eventOf(req, url, body, total, principal);
          invoke(req, res, event, gatewayFault);
        } catch (error) {
          fault(req, res, error);
        }
      },
      slow: slow(req, res),
    });
  };

  // Plain callbacks rather than async steps: one promise per request (the handler's).
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // A stream error (a client gone mid-request) is not an exception of the process.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    try {
      handle(req, res);
    } catch (error) {
      fault(req, res, error);
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => {
      bodies.stop();
      reject(new LocalServerError(`Cannot listen on ${options.host}:${options.port}: ${error.message}`, { cause: error }));
    });
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    overloaded: () => overloaded,
    slowBodies: () => slowBodies,
    faults: () => faults,
    close: async () => {
      bodies.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
      server.closeAllConnections();
      await closed;
    },
  };
}
