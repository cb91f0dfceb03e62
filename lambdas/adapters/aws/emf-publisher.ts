import type { MetricDatum, MetricsPublisher } from '../../core/ports.js';
import { METRICS_NAMESPACE } from './cloudwatch-publisher.js';

/**
 * Publishes metrics from the request path as CloudWatch embedded metric format: one JSON
 * line on stdout per datum, turned into metrics by CloudWatch Logs. No API call, so counting
 * a retry or a spill adds no latency and cannot fail the request. Written with
 * `process.stdout.write` because the Node runtime prefixes `console.log` lines, which hides
 * the JSON from the extraction.
 */
export class EmfPublisher implements MetricsPublisher {
  public constructor(
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
    private readonly namespace = METRICS_NAMESPACE,
  ) {}

  public publish(data: readonly MetricDatum[]): Promise<void> {
    for (const d of data) {
      const dimensions = Object.keys(d.dimensions);
      this.write(
        `${JSON.stringify({
          _aws: {
            Timestamp: d.timestamp.getTime(),
            CloudWatchMetrics: [{ Namespace: this.namespace, Dimensions: [dimensions], Metrics: [{ Name: d.name, Unit: d.unit }] }],
          },
          ...d.dimensions,
          [d.name]: d.value,
        })}\n`,
      );
    }
    return Promise.resolve();
  }
}
