import { randomUUID } from 'node:crypto';
import type middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { buildCaptureRecord, isSampled } from '../core/capture.js';
import { isLlmField } from '../core/input-formats.js';
import { callTokens } from '../core/tokens.js';
import { ScoringError, asError } from '../core/errors.js';
import { log } from '../core/log.js';
import { openAiErrorBody } from '../core/openai-api.js';
import { CLIENT_REQUEST_ID } from '../core/protocol.js';
import { CaptureLostError } from '../core/spill.js';
import { type AnswerStream, STREAM_ERROR_CODES } from '../core/llm-stream.js';
import type { CaptureSink } from '../core/ports.js';
import type { CaptureTarget, ServedEntity } from '../core/routing.js';
import type { GatewayContext } from '../shared/gateway-fault.js';
import { bodyText, requesterOf } from './event.js';
import { proxyResultProblem } from './response-guard.js';

/** What the scoring path learns about one request as it goes, read by the capture middleware. */
export interface Trace {
  readonly requestId: string;
  readonly receivedAtMs: number;
  /** Set once the route is an invocation: where it is captured. */
  target?: CaptureTarget;
  entity?: ServedEntity;
  clientRequestId?: string | null;
  /** The input format the request was read in, once it was (the capture record's `request_format`). */
  requestFormat?: string;
  executionTimeMs: number | null;
  loggingErrorCodes: string[];
  /** The request body is not captured (never read whole, e.g. over the size limit). */
  skipRequestBody?: boolean;
  /** The answer has been captured (or tried): a request is captured once. */
  captured?: boolean;
  /** Errors are answered in OpenAI's shape (the OpenAI-compatible routes) rather than MLflow's. */
  errorStyle?: 'openai';
}

/**
 * What the scoring handler answers: a proxy result, and for a streamed LLM answer its stream
 * (the body is then empty: the events are the answer). `captured` resolves once a streamed
 * answer's capture is done, after its last event.
 */
export type ScoringResult = APIGatewayProxyResult & { readonly stream?: AnswerStream; captured?: Promise<void> };

/** The Lambda context, with the trace of the request. */
export type ScoringContext = Context & GatewayContext & { trace: Trace };

type Request = middy.Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ScoringContext>;
type Middleware = middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ScoringContext>;

/** Gives every request an id and its receive time, before anything else runs. */
export function traceRequests(now: () => number = Date.now): Middleware {
  return {
    name: 'traceRequests',
    before: (request: Request) => {
      const epoch = request.event.requestContext?.requestTimeEpoch;
      request.context.trace = {
        requestId: randomUUID(),
        receivedAtMs: typeof epoch === 'number' && epoch > 0 ? epoch : now(),
        executionTimeMs: null,
        loggingErrorCodes: [],
      };
    },
  };
}

/** The answer to a failure of the proxy itself, in MLflow's shape or OpenAI's: the request id, nothing internal. */
export function internalError(requestId: string, style?: Trace['errorStyle']): APIGatewayProxyResult {
  const error = { status: 500, errorCode: 'INTERNAL_ERROR', message: `Internal error. Request id: ${requestId}.` };
  return {
    statusCode: 500,
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: style === 'openai' ? openAiErrorBody(error) : JSON.stringify({ error_code: error.errorCode, message: error.message }),
  };
}

/**
 * Turns errors into responses at the edge: ScoringErrors into MLflow error JSON (or the
 * plain text MLflow answers 415 with), anything else into a 500 that reveals nothing. A
 * response that could not be sent as HTTP (a status out of range, a header a header cannot
 * hold) becomes that 500 too, before it is captured, so the table holds what the caller got.
 */
export function mlflowErrors(): Middleware {
  return {
    name: 'mlflowErrors',
    after: (request: Request) => {
      const problem = proxyResultProblem(request.response);
      if (!problem) return;
      const requestId = request.context.trace?.requestId ?? request.context.awsRequestId;
      log('error', 'the scoring path produced a response HTTP cannot carry; answered 500', { requestId, problem });
      request.response = internalError(requestId, request.context.trace?.errorStyle);
    },
    onError: (request: Request) => {
      const requestId = request.context.trace?.requestId ?? request.context.awsRequestId;
      try {
        const error = asError(request.error);
        if (error instanceof ScoringError) {
          // A backend that failed (502, 504) is the operator's to see; a refused request is the caller's.
          if (error.status === 501) log('info', 'a route this server does not implement was called', { requestId, message: error.message });
          else if (error.status >= 500) log('error', error.errorCode === 'BAD_GATEWAY' || error.errorCode === 'DEADLINE_EXCEEDED' ? 'the model backend failed' : 'the request failed', { requestId, status: error.status, error });
          const openai = request.context.trace?.errorStyle === 'openai';
          const plain = error.status === 415 && !openai;
          request.response = {
            statusCode: error.status,
            headers: { 'content-type': plain ? 'text/plain; charset=utf-8' : 'application/json' },
            body: plain ? error.message : openai ? openAiErrorBody(error) : JSON.stringify({ error_code: error.errorCode, message: error.message }),
          };
          return;
        }
        log('error', 'unexpected error in the scoring path', { requestId, error });
      } catch (unreadable) {
        // A thrown value that cannot even be inspected (a hostile Proxy): still a 500, still captured.
        log('error', 'unexpected error in the scoring path, not readable', { requestId, error: asError(unreadable) });
      }
      request.response = internalError(requestId, request.context.trace?.errorStyle);
    },
  };
}

function clientRequestIdFromBody(body: string): string | null {
  // Only reached on error paths, where the handler did not parse the body itself.
  try {
    const json: unknown = JSON.parse(body);
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
      const value = (json as Record<string, unknown>)[CLIENT_REQUEST_ID];
      if (typeof value === 'string') return value;
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    }
  } catch {
    // not JSON: no client request id
  }
  return null;
}

/** What capturing an answered request reads: the middy request's event, context and response. */
export type Answered = Pick<Request, 'event' | 'context' | 'response'>;

/**
 * Captures an answered invocation once (later calls for the same request do nothing), and adds
 * the `x-request-id` and `served-model-name` headers. Never throws: a failure is logged and
 * never changes the answer.
 */
export function captureAnswer(sink: CaptureSink): (request: Answered) => Promise<void> {
  return async (request) => {
    const { trace } = request.context;
    if (trace?.captured) return;
    if (trace) trace.captured = true;
    try {
      await captureAnswered(sink, request);
    } catch (error) {
      // Capture never changes the answer; a failure to build the record is as loud as a lost one.
      log('error', 'capture failed; the caller was answered', { requestId: trace?.requestId, error: asError(error) });
    }
  };
}

/**
 * Captures every invocation once its answer is known, errors included (see {@link captureAnswer}).
 * The sink is awaited before the response returns (Lambda may freeze work left pending after
 * the handler returns).
 */
export function captureInvocations(sink: CaptureSink): Middleware {
  const finish = captureAnswer(sink);
  return { name: 'captureInvocations', after: finish, onError: finish };
}

async function captureAnswered(sink: CaptureSink, request: Answered): Promise<void> {
  const { trace } = request.context;
  const response = request.response as ScoringResult | null;
  if (!trace || !response) return;
  response.headers = { ...response.headers, 'x-request-id': trace.requestId };
  if (trace.entity) response.headers['served-model-name'] = trace.entity.servedName;
  const target = trace.target;
  if (!target) return;
  const stream = response.stream;
  if (stream) {
    // Captured once the last event is sent, with what the caller received: never before, and never in its way.
    response.captured = stream.ended.then((outcome) => {
      trace.executionTimeMs = outcome.durationMs;
      if (outcome.end !== 'complete') trace.loggingErrorCodes.push(STREAM_ERROR_CODES[outcome.end]);
      return putRecord(sink, request, { ...response, body: outcome.body }, { streamed: true, timeToFirstTokenMs: outcome.timeToFirstTokenMs });
    }).catch((error: unknown) => log('error', 'capture failed; the caller was answered', { requestId: trace.requestId, error: asError(error) }));
    return;
  }
  await putRecord(sink, request, response, {});
}

async function putRecord(sink: CaptureSink, request: Answered, response: APIGatewayProxyResult, streaming: { streamed?: boolean; timeToFirstTokenMs?: number | null }): Promise<void> {
  const trace = request.context.trace;
  const target = trace.target as CaptureTarget;
  const body = trace.skipRequestBody ? null : bodyText(request.event);
  const clientRequestId = trace.clientRequestId !== undefined ? trace.clientRequestId : body === null ? null : clientRequestIdFromBody(body);
  const { settings } = target;
  // Counted only for records written: a backend that reports no usage costs the proxy a count.
  const tokens =
    isLlmField(trace.requestFormat) && settings.enabled && isSampled(trace.requestId, settings.sampling_fraction, clientRequestId)
      ? await callTokens(trace.requestFormat, body, response.body, response.statusCode === 200)
      : null;
  const record = buildCaptureRecord(
    {
      requestId: trace.requestId,
      clientRequestId,
      receivedAtMs: trace.receivedAtMs,
      statusCode: response.statusCode,
      executionTimeMs: trace.executionTimeMs,
      requestBody: body,
      responseBody: response.body,
      endpoint: target.endpoint,
      metadata: {
        endpoint_name: target.requestedName,
        model_name: trace.entity?.modelName ?? '',
        model_version: trace.entity?.modelVersion ?? '',
        served_entity_name: trace.entity?.servedName ?? '',
      },
      servedEntityId: trace.entity?.servedEntityId ?? null,
      requester: requesterOf(request.event),
      requestFormat: trace.requestFormat ?? null,
      loggingErrorCodes: trace.loggingErrorCodes,
      ...streaming,
      tokens,
    },
    settings,
  );
  if (!record) return;
  try {
    await sink.put([record]);
  } catch (error) {
    // A loss is logged by the sink with every request id and counted; other failures here.
    if (!(error instanceof CaptureLostError)) log('error', 'capture failed; the caller was answered', { requestId: trace.requestId, endpoint: target.endpoint, error: asError(error) });
  }
}
