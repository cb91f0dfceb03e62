import type { MetricDatum, MetricsPublisher } from '../../core/ports.js';
import { METRICS_NAMESPACE } from '../../core/metric-names.js';

/**
 * Publishes metrics from the request path as CloudWatch embedded metric format: one JSON
 * line on stdout per datum, turned into metrics by CloudWatch Logs. No API call, so counting
 * a retry or a spill adds no latency and cannot fail the request. Written with
 * `process.stdout.write` because the Node runtime prefixes `console.log` lines, which hides
 * the JSON from the extraction.
 */
export class EmfPublisher implements MetricsPublisher {
  /**
   * @param common dimensions of every datum (the environment); each datum is also published
   *   with these alone, the environment-wide figure one alarm watches
   */
  public constructor(
    private readonly common: Readonly<Record<string, string>> = {},
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
    private readonly namespace = METRICS_NAMESPACE,
  ) {}

  public publish(data: readonly MetricDatum[]): Promise<void> {
    const shared = Object.keys(this.common);
    for (const d of data) {
      const dimensions = [...shared, ...Object.keys(d.dimensions)];
      this.write(
        `${JSON.stringify({
          _aws: {
            Timestamp: d.timestamp.getTime(),
            CloudWatchMetrics: [{ Namespace: this.namespace, Dimensions: [dimensions, shared], Metrics: [{ Name: d.name, Unit: d.unit }] }],
          },
          ...this.common,
          ...d.dimensions,
          [d.name]: d.value,
        })}\n`,
      );
    }
    return Promise.resolve();
  }
}
