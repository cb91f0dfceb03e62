import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { ScoringResult } from '../../scoring/middleware.js';

/** The part of the Lambda Node.js runtime's `awslambda` global that streams a response. */
export interface LambdaStreamingRuntime {
  streamifyResponse(handler: (event: APIGatewayProxyEvent, responseStream: Writable, context: Context) => Promise<void>): unknown;
  readonly HttpResponseStream: {
    /** Writes the proxy answer's status and headers (API Gateway's metadata and delimiter) before the body. */
    from(responseStream: Writable, metadata: { statusCode: number; headers?: Record<string, string> }): Writable;
  };
}

/**
 * The scoring handler for API Gateway's streaming Lambda proxy integration (response transfer
 * mode `STREAM`, invoked with InvokeWithResponseStream): every answer is written as metadata
 * then body, and a streamed LLM answer event by event as the backend produces it. The function
 * returns only once the stream's capture is done, after its last byte: Lambda freezes work left
 * pending, and the caller has its answer by then.
 */
export function streamingHandler(handler: (event: APIGatewayProxyEvent, context: Context) => Promise<ScoringResult>, runtime: LambdaStreamingRuntime): unknown {
  return runtime.streamifyResponse(async (event, responseStream, context) => {
    const result = await handler(event, context);
    const stream = result.stream;
    // Lambda's time limit covers the whole stream: it is cut in time for the caller to be told and the capture to run.
    const deadline = stream ? setTimeout(() => stream.cancel('deadline'), Math.max(0, context.getRemainingTimeInMillis() - CAPTURE_BUDGET_MS)) : undefined;
    try {
      const out = runtime.HttpResponseStream.from(responseStream, { statusCode: result.statusCode, headers: (result.headers as Record<string, string> | undefined) ?? {} });
      // One event read ahead at most: what is captured is what was written.
      await pipeline(stream ? Readable.from(stream, { highWaterMark: 1 }) : Readable.from([result.body ?? '']), out);
    } catch {
      // The caller left (the response stream failed): the backend's call stops, the capture says so.
      stream?.cancel('client');
    } finally {
      clearTimeout(deadline);
    }
    await result.captured;
  });
}

/** Time kept, before Lambda's limit, to end a stream and capture it. */
const CAPTURE_BUDGET_MS = 3_000;
