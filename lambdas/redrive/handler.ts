import { log } from '../core/log.js';
import type { CaptureSink, MetricsPublisher, ObjectStore } from '../core/ports.js';
import { type RedriveReport, redriveSpilled } from '../core/spill.js';

/** Spill objects one scheduled run takes: well inside the function's timeout at Firehose's pace. */
export const REDRIVE_OBJECTS_PER_RUN = 1000;

/** What the scheduled redrive needs; the wiring module of each environment provides it. */
export interface RedriveDependencies {
  readonly store: ObjectStore;
  readonly stream: CaptureSink;
  readonly metrics: MetricsPublisher;
}

/**
 * The scheduled redrive: puts records spilled by the scoring function back into the capture
 * streams, oldest first. Objects the streams refuse again stay for the next run; the run
 * then fails, so the function's Errors alarm says that spilled records are waiting.
 */
export function redriveFunction(deps: RedriveDependencies): () => Promise<RedriveReport> {
  return async () => {
    const report = await redriveSpilled(deps.store, deps.stream, deps.metrics, { maxObjects: REDRIVE_OBJECTS_PER_RUN });
    log('info', 'redrive of spilled capture records', { objects: report.objects, redriven: report.redriven, failed: report.failed.length, unreadable: report.unreadable.length });
    if (report.failed.length > 0 || report.unreadable.length > 0) {
      throw new Error(`${report.failed.length + report.unreadable.length} spill objects were kept (first: ${report.failed[0]?.error ?? `unreadable ${report.unreadable[0]?.key}`}).`);
    }
    return report;
  };
}
