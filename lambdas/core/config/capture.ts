import { z } from 'zod';

/** What is captured for an endpoint (or a model served on the classic route). */
export const captureSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Share of requests captured, decided deterministically from the request id. */
  sampling_fraction: z.number().gt(0).lte(1).default(1),
  /** Largest request or response logged whole; larger ones are null with a logging error code. */
  max_payload_bytes: z.number().int().min(1).max(1_048_576).default(1_048_576),
  /** Largest request body accepted; larger ones get 413. */
  max_request_bytes: z.number().int().min(1).max(64 * 1024 * 1024).default(16 * 1024 * 1024),
  /** JSONPath expressions whose values are replaced before anything is written (PII). */
  redact_paths: z.array(z.string().startsWith('$')).default([]),
  /**
   * Delivery streams the endpoint's records are spread over on AWS. One Firehose stream takes
   * about 2,000 put requests/s in the big regions (1,000 elsewhere); shard a busy endpoint.
   */
  streams: z.number().int().min(1).max(16).default(1),
});
export type CaptureSettings = z.infer<typeof captureSchema>;
