import { awsScoringDependencies } from '../wiring/aws.js';
import { createScoringHandler } from '../scoring/handler.js';

/**
 * The scoring Lambda's entry point (API Gateway REST proxy integration). The environment is
 * read once at cold start; a missing variable fails here, named.
 */
export const handler = createScoringHandler(awsScoringDependencies());
