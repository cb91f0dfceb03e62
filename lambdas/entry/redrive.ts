import middy from '@middy/core';
import type { RedriveReport } from '../core/spill.js';
import { redriveFunction } from '../redrive/handler.js';
import { awsRedriveDependencies } from '../wiring/aws.js';

/** The redrive Lambda's entry point (an EventBridge schedule). The environment is read once at cold start. */
export const redrive = middy<unknown, RedriveReport>().handler(redriveFunction(awsRedriveDependencies()));
