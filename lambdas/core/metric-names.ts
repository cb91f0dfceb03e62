/**
 * Names shared by the code that publishes CloudWatch metrics (the refresh, the capture
 * counters) and the constructs that alarm and draw dashboards on them, so the two cannot drift.
 */

/** Namespace of every metric the product publishes; the alarms and dashboards read it. */
export const METRICS_NAMESPACE = 'InferenceTables';
