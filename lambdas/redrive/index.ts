import middy from '@middy/core';
import { log } from '../core/log.js';
import { type RedriveReport, redriveSpilled } from '../core/spill.js';
import { awsRedriveDependencies } from '../wiring/aws.js';

/** Spill objects one scheduled run takes: well inside the function's timeout at Firehose's pace. */
export const REDRIVE_OBJECTS_PER_RUN = 1000;

const deps = awsRedriveDependencies();

/**
 * The scheduled redrive: puts records spilled by the scoring function back into the capture
 * streams, oldest first. Objects the streams refuse again stay for the next run; the run
 * then fails, so the function's Errors alarm says that spilled records are waiting.
 */
async function redriveOnce(): Promise<RedriveReport> {
  const report = await redriveSpilled(deps.store, deps.stream, deps.metrics, { maxObjects: REDRIVE_OBJECTS_PER_RUN });
  log('info', 'redrive of spilled capture records', { objects: report.objects, redriven: report.redriven, failed: report.failed.length, unreadable: report.unreadable.length });
  if (report.failed.length > 0 || report.unreadable.length > 0) {
    throw new Error(`${report.failed.length + report.unreadable.length} spill objects were kept (first: ${report.failed[0]?.error ?? `unreadable ${report.unreadable[0]?.key}`}).`);
  }
  return report;
}

/** The redrive Lambda's entry point (an EventBridge schedule). */
export const redrive = middy<unknown, RedriveReport>().handler(redriveOnce);
