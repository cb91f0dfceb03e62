import { type LambdaStreamingRuntime, streamingHandler } from '../adapters/aws/response-stream.js';
import { awsScoringDependencies } from '../wiring/aws.js';
import { createScoringHandler } from '../scoring/handler.js';

/** Given by Lambda's Node.js runtimes. */
declare const awslambda: LambdaStreamingRuntime;

/**
 * The scoring Lambda's entry point (API Gateway REST proxy integration with response
 * streaming, so `"stream": true` LLM answers reach the caller as they are produced). The
 * environment is read once at cold start; a missing variable fails here, named.
 */
export const handler = streamingHandler(createScoringHandler(awsScoringDependencies()), awslambda);
