import { performance } from 'node:perf_hooks';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { BackendHealth, entityKey } from '../core/backend-health.js';
import type { Config, Endpoint } from '../core/config/index.js';
import type { ServingControl } from '../core/serving-state.js';
import { answerManagement } from './management.js';
import { BackendError, BackendTimeoutError, InvalidRequestError, NotFoundError, PayloadTooLargeError, ScoringError, asError } from '../core/errors.js';
import { log } from '../core/log.js';
import { LoggingErrorCode } from '../core/capture.js';
import type { BackendFactory, BackendRequest, BackendResponse, BackendStreamAnswer, CaptureSink, ModelBackend } from '../core/ports.js';
import type { LlmField } from '../core/input-formats.js';
import { isObject } from '../core/json-value.js';
import { AnswerStream } from '../core/llm-stream.js';
import { parseScoringRequest } from '../core/protocol.js';
import { mlflow1Answer, parseMlflow1Request } from '../core/mlflow1.js';
import { type InvocationRoute, parseRoute } from '../core/routes.js';
import { OPENAI_APIS, type OpenAiApi, encodeEmbeddings, openAiEncoding, readOpenAiCall } from '../core/openai-api.js';
import { removeTopLevelKey } from '../core/json-text.js';
import { type CaptureTarget, Router, type ServedEntity } from '../core/routing.js';
import { type DeploymentReader, type HealthReader, describeEndpoint } from './endpoint-state.js';
import { bodyIsUtf8, bodyText, header, jsonResult } from './event.js';
import { backendAnswerProblem } from './response-guard.js';
import { type ScoringContext, type ScoringResult, type Trace, captureAnswer, captureInvocations, internalError, mlflowErrors, traceRequests } from './middleware.js';

/** What the scoring handler needs from its environment; chosen by a wiring module. */
export interface ScoringDependencies {
  /** The configuration file's; the serving state, when given, overrides its models and endpoints. */
  readonly config: Config;
  /** What is served and captured, changed at runtime; the configuration stays as it is when absent. */
  readonly serving?: ServingControl;
  readonly sink: CaptureSink;
  readonly backends: BackendFactory;
  /** Returned by `GET /version`. */
  readonly version: string;
  /** The recorded health of the endpoints' tables, reported by the endpoint API. */
  readonly health?: HealthReader;
  /** The served entities' backend health (probes and recent calls), reported by the endpoint API. A new one when not given. */
  readonly backendHealth?: BackendHealth;
  readonly now?: () => number;
}

/** Whether a thrown value is the backend failing; false for anything else, a hostile value included. */
function isBackendFailure(error: unknown): error is BackendError | BackendTimeoutError {
  try {
    return error instanceof BackendError || error instanceof BackendTimeoutError;
  } catch {
    return false;
  }
}

/** A backend's whole answer as the proxy's result, once it is one HTTP can carry. */
function wholeAnswer(answer: BackendResponse, body = answer.body): ScoringResult {
  const problem = backendAnswerProblem(answer);
  if (problem) throw new BackendError(`Model backend answered something that is not an HTTP answer: ${problem}.`);
  return { statusCode: answer.status, headers: { 'content-type': answer.contentType }, body };
}

/** Refuses a body over the capture target's limit, which is then captured without it. */
function checkSize(trace: Trace, event: APIGatewayProxyEvent, body: string): void {
  const limit = (trace.target as CaptureTarget).settings.max_request_bytes;
  const declared = Number(header(event, 'content-length') ?? 0);
  const size = Math.max(Buffer.byteLength(body, 'utf8'), Number.isFinite(declared) ? declared : 0);
  if (size > limit) {
    trace.skipRequestBody = true;
    if (!trace.loggingErrorCodes.includes(LoggingErrorCode.requestTooLarge)) trace.loggingErrorCodes.push(LoggingErrorCode.requestTooLarge);
    throw new PayloadTooLargeError(size, limit);
  }
}

/**
 * Builds the plain scoring function: routes a request, checks it against the MLflow
 * protocol, calls the chosen backend and times it. Errors are thrown, and turned into
 * responses by the middleware at the edge.
 */
export function scoringFunction(deps: ScoringDependencies) {
  // One router per version of the serving configuration, built when a new one is read.
  let routing = { version: 0, config: deps.config, router: new Router(deps.config) };
  const current = async () => {
    if (!deps.serving) return routing;
    const { config, version } = await deps.serving.current();
    if (version !== routing.version) routing = { version, config, router: new Router(config) };
    return routing;
  };
  let router = routing.router;
  const health = deps.backendHealth ?? new BackendHealth();
  // One backend per model version, shared by the calls and the probes.
  const backends = new Map<string, ModelBackend>();
  const backendOf = (entity: ServedEntity) => {
    const key = `${entity.modelName}/${entity.modelVersion}`;
    let b = backends.get(key);
    if (!b) backends.set(key, (b = deps.backends(entity.backend)));
    return b;
  };
  /** The deployment state of the served entities of one configuration (the one in force, or one a change just made). */
  const deploymentIn = (r: Router): DeploymentReader => async (endpoint, served) => {
    const entity = r.servedEntities(endpoint).find((e) => e.entity.servedName === served)?.entity;
    if (!entity) return { deployment: 'DEPLOYMENT_FAILED', deployment_state_message: `Served entity '${served}' is not in the configuration.` };
    return health.deployment(entityKey(endpoint, served), entity.backend, () => backendOf(entity));
  };

  /**
   * Streams an LLM answer that asked for it, or refuses loudly when it cannot be streamed: a
   * caller waiting for events would read none from a whole answer. The stream's end is
   * captured by the capture middleware; here it is timed and counted in the backend's health.
   */
  const streamAnswer = async (trace: Trace, format: LlmField, backend: ModelBackend, request: BackendRequest, healthKey: string | undefined): Promise<ScoringResult> => {
    const entity = trace.entity as ServedEntity;
    if (format === 'input') {
      throw new InvalidRequestError("Invalid input. Embeddings are answered whole: '\"stream\": true' applies to chat and completions. Leave 'stream' out.", 'INVALID_PARAMETER_VALUE');
    }
    if (!backend.stream) {
      throw new InvalidRequestError(
        `Invalid input. '"stream": true' asks for the answer as Server-Sent Events, which served entity '${entity.servedName}' cannot send (its ${entity.backend.type} backend answers whole). Send '"stream": false' or leave it out.`,
        'INVALID_PARAMETER_VALUE',
      );
    }
    const controller = new AbortController();
    const started = performance.now();
    let answer: BackendStreamAnswer;
    try {
      answer = await backend.stream(request, controller.signal);
    } catch (error) {
      trace.executionTimeMs = Math.round(performance.now() - started);
      if (healthKey && isBackendFailure(error)) health.recordFailure(healthKey, error.message);
      throw error;
    }
    if ('whole' in answer) {
      trace.executionTimeMs = Math.round(performance.now() - started);
      return wholeAnswer(answer.whole);
    }
    const options = request.parsed.kind === 'llm' ? request.parsed.json.stream_options : undefined;
    const stream = new AnswerStream(answer.chunks, controller, started, undefined, isObject(options) && options.include_usage === true);
    void stream.ended.then((outcome) => {
      if (!healthKey) return;
      if (outcome.end === 'backend-failed') health.recordFailure(healthKey, 'the model backend broke a stream');
      else health.recordSuccess(healthKey);
    });
    return { statusCode: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }, body: '', stream };
  };

  /**
   * An OpenAI-route call: answered in OpenAI's error shape, and captured as unrouted (under its
   * path) until its body names the endpoint.
   */
  const openAiCall = (trace: Trace, api: OpenAiApi) => {
    trace.errorStyle = 'openai';
    trace.target = router.captureTarget({ kind: 'invoke-endpoint', endpoint: OPENAI_APIS[api].path });
  };

  return async (event: APIGatewayProxyEvent, context: ScoringContext): Promise<ScoringResult> => {
    const { trace } = context;
    const route = parseRoute(event.httpMethod, event.path);
    const { config, version } = await current();
    router = routing.router;
    const describe = (c: Config, name: string, v: number) =>
      describeEndpoint(c, c.endpoints.find((e) => e.name === name) as Endpoint, deps.sink, deps.health, deploymentIn(c === config ? router : new Router(c)), v);
    switch (route.kind) {
      case 'ping':
      case 'health':
        return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '\n' };
      case 'version':
        // MLflow answers the raw version string, labelled JSON but not quoted.
        return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: deps.version };
      case 'list-endpoints':
        return jsonResult(200, { endpoints: await Promise.all(config.endpoints.map((e) => describe(config, e.name, version))) });
      case 'get-endpoint': {
        if (!router.endpoint(route.name)) throw new NotFoundError(`Endpoint '${route.name.slice(0, 128)}' does not exist.`, 'RESOURCE_DOES_NOT_EXIST');
        return jsonResult(200, await describe(config, route.name, version));
      }
      case 'registry':
      case 'endpoint-config':
      case 'endpoint-ai-gateway':
        return answerManagement(route, event, deps.serving, describe);
      case 'not-implemented':
        throw new ScoringError('NOT_IMPLEMENTED', `${event.httpMethod} ${event.path.slice(0, 128)} is a Databricks or MLflow API this server does not implement.`);
      case 'method-not-allowed':
        if (route.invocation) trace.target = router.captureTarget(route.invocation);
        if (route.openai) openAiCall(trace, route.openai);
        throw new ScoringError('METHOD_NOT_ALLOWED', `Method ${event.httpMethod} is not allowed here; use ${route.allowed}.`);
      case 'not-found':
        throw new NotFoundError(`No route for ${event.httpMethod} ${event.path.slice(0, 256)}.`, 'NOT_FOUND');
      case 'invoke-endpoint':
      case 'invoke-model':
      case 'openai':
        break;
    }

    if (route.kind === 'openai') openAiCall(trace, route.api);
    else trace.target = router.captureTarget(route);
    // The server failed on this request before the handler ran: answered 500 and captured.
    if (context.gatewayFault) throw context.gatewayFault;
    const body = bodyText(event);
    checkSize(trace, event, body);
    // Decoding would turn the bad bytes into U+FFFD and score a request the caller did not send.
    if (!bodyIsUtf8(event)) throw new InvalidRequestError('Invalid input. The request body is not valid UTF-8.');

    const call = route.kind === 'openai' ? readOpenAiCall(body) : undefined;
    const invocation: InvocationRoute = call ? { kind: 'invoke-endpoint', endpoint: call.model } : (route as InvocationRoute);
    if (call) {
      trace.target = router.captureTarget(invocation);
      checkSize(trace, event, body);
    }
    trace.entity =
      invocation.kind === 'invoke-endpoint'
        ? router.chooseForEndpoint(invocation.endpoint, trace.requestId, invocation.served)
        : router.chooseForModel(invocation.model, invocation.ref);
    const encoding = call && route.kind === 'openai' ? openAiEncoding(route.api, call) : 'float';
    // A version logged with MLflow 1.x takes its bodies (a bare list of records…), as the seed shows.
    const mlflow1 = trace.entity.protocol === 'mlflow1' ? parseMlflow1Request(header(event, 'content-type'), body) : undefined;
    const parsed = mlflow1?.request ?? parseScoringRequest(header(event, 'content-type'), body);
    trace.clientRequestId = parsed.clientRequestId;
    // Sticky: a caller's retries and related requests (one client_request_id) go to the same
    // entity, among those that read the body as it was read.
    if (parsed.clientRequestId !== null && invocation.kind === 'invoke-endpoint' && invocation.served === undefined) {
      const sticky = router.chooseForEndpoint(invocation.endpoint, parsed.clientRequestId);
      if (sticky.protocol === trace.entity.protocol) trace.entity = sticky;
    }
    trace.requestFormat = mlflow1?.format ?? (parsed.kind === 'csv' ? 'csv' : parsed.format);
    // The backend is asked for floats; the proxy encodes them as the caller asked.
    const forwardBody = encoding !== 'float' ? removeTopLevelKey(parsed.forwardBody, 'encoding_format') : parsed.forwardBody;

    const entity = trace.entity;
    const backend = backendOf(entity);
    // The endpoint API reports the served entities of endpoints; a classic-route call is none.
    const healthKey = invocation.kind === 'invoke-endpoint' ? entityKey(invocation.endpoint, entity.servedName) : undefined;
    const request = { body: forwardBody, contentType: parsed.contentType, parsed, requestId: trace.requestId };
    if (parsed.kind === 'llm' && parsed.json.stream === true) return streamAnswer(trace, parsed.format, backend, request, healthKey);
    const started = performance.now();
    try {
      const answer = await backend.invoke(request);
      const ok = answer.status < 300;
      const result = wholeAnswer(answer, !ok ? answer.body : entity.protocol === 'mlflow1' ? mlflow1Answer(answer.body) : encodeEmbeddings(answer.body, encoding));
      if (healthKey) health.recordSuccess(healthKey);
      return result;
    } catch (error) {
      if (healthKey && isBackendFailure(error)) health.recordFailure(healthKey, error.message);
      throw error;
    } finally {
      trace.executionTimeMs = Math.round(performance.now() - started);
    }
  };
}

/**
 * The scoring Lambda handler for one environment: the plain scoring function wrapped by
 * middy. The same handler serves API Gateway on AWS and the local HTTP server. Nothing a
 * request carries makes it throw: what escapes the middleware (a failing error handler)
 * becomes a 500 with the request id, logged with its stack, rather than API Gateway's 502.
 */
export function createScoringHandler(deps: ScoringDependencies) {
  // No early-timeout race per request: backends have their own timeouts, below API Gateway's 29 s.
  const wrapped = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ScoringContext>({ timeoutEarlyInMillis: 0 })
    .use(traceRequests(deps.now))
    .use(captureInvocations(deps.sink))
    .use(mlflowErrors())
    .handler(scoringFunction(deps));
  const capture = captureAnswer(deps.sink);
  return async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    const ctx = context as ScoringContext;
    try {
      return await wrapped(event, ctx);
    } catch (error) {
      const requestId = ctx.trace?.requestId ?? context.awsRequestId;
      log('error', 'the scoring handler failed outside its error handling; answered 500', { requestId, error: asError(error) });
      const response = internalError(requestId, ctx.trace?.errorStyle);
      // Captured unless the capture already ran for this request (the trace says which).
      await capture({ event, context: ctx, response });
      return response;
    }
  };
}

/** The scoring handler, with the Lambda signature. */
export type ScoringHandler = ReturnType<typeof createScoringHandler>;
