import { type CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { METRICS_NAMESPACE } from '../../core/metric-names.js';
import type { MetricDatum, MetricsPublisher } from '../../core/ports.js';

/** PutMetricData takes at most 1,000 values per call. */
const BATCH = 1000;

/** Publishes the refresh workflow's metrics to CloudWatch, at each window's own timestamp. */
export class CloudWatchPublisher implements MetricsPublisher {
  public constructor(
    private readonly client: CloudWatchClient,
    private readonly namespace = METRICS_NAMESPACE,
  ) {}

  public async publish(data: readonly MetricDatum[]): Promise<void> {
    // CloudWatch refuses values older than two weeks; older windows stay in the tables only.
    const oldest = Date.now() - 14 * 86_400_000 + 60_000;
    const fresh = data.filter((d) => d.timestamp.getTime() >= oldest);
    for (let i = 0; i < fresh.length; i += BATCH) {
      await this.client.send(
        new PutMetricDataCommand({
          Namespace: this.namespace,
          MetricData: fresh.slice(i, i + BATCH).map((d) => ({
            MetricName: d.name,
            Value: d.value,
            Timestamp: d.timestamp,
            Unit: d.unit,
            Dimensions: Object.entries(d.dimensions).map(([Name, Value]) => ({ Name, Value })),
          })),
        }),
      );
    }
  }
}
