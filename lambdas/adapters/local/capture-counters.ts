import { log } from '../../core/log.js';
import type { MetricDatum, MetricsPublisher } from '../../core/ports.js';

/**
 * The local stand-in for CloudWatch's capture counters: totals per counter and endpoint
 * since start, shown by `GET /api/2.0/serving-endpoints/<name>` through the sink's status and
 * logged as they change.
 */
export class CaptureCounters implements MetricsPublisher {
  private readonly totals = new Map<string, number>();

  public publish(data: readonly MetricDatum[]): Promise<void> {
    for (const d of data) {
      const key = `${d.name}/${d.dimensions.Endpoint ?? '*'}`;
      this.totals.set(key, (this.totals.get(key) ?? 0) + d.value);
      log('info', 'capture counter', { counter: d.name, endpoint: d.dimensions.Endpoint, added: d.value, total: this.totals.get(key) });
    }
    return Promise.resolve();
  }

  /** The total of a counter, for one endpoint or summed over all. */
  public total(name: string, endpoint?: string): number {
    if (endpoint !== undefined) return this.totals.get(`${name}/${endpoint}`) ?? 0;
    let sum = 0;
    for (const [key, value] of this.totals) if (key.startsWith(`${name}/`)) sum += value;
    return sum;
  }
}
