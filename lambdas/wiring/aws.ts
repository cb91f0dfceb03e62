import { FirehoseClient } from '@aws-sdk/client-firehose';
import { z } from 'zod';
import { type Config, parseConfig } from '../../lib/config.js';
import { FirehoseSink } from '../adapters/aws/firehose-sink.js';
import { createBackendFactory } from '../backends/factory.js';
import { PRODUCT_VERSION } from '../core/version.js';
import type { ScoringDependencies } from '../scoring/handler.js';
import { ENV, EnvironmentError, requireJsonEnv } from '../shared/env.js';

const streamsSchema = z.record(z.string(), z.array(z.string().min(1)).min(1));

/** Reads the Lambda environment once and builds the AWS adapters of the scoring handler. */
export function awsScoringDependencies(env: NodeJS.ProcessEnv = process.env): ScoringDependencies {
  let config: Config;
  try {
    config = parseConfig(requireJsonEnv(ENV.config, env), ENV.config);
  } catch (error) {
    throw new EnvironmentError(`Environment variable ${ENV.config}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = streamsSchema.safeParse(requireJsonEnv(ENV.captureStreams, env));
  if (!parsed.success) throw new EnvironmentError(`Environment variable ${ENV.captureStreams} must map endpoint names to stream names.`);
  const streams = parsed.data;
  const sink = new FirehoseSink(new FirehoseClient({}), { streamsFor: (endpoint) => streams[endpoint] ?? [] });
  return { config, sink, backends: createBackendFactory(), version: PRODUCT_VERSION };
}
