import { z } from 'zod';

/** CloudWatch Logs accepts only these retention periods (days). */
/**
 * The longest a whole (not streamed) answer may take, below API Gateway's 29 s to the first
 * byte, so the function answers before the gateway gives up.
 */
export const WHOLE_ANSWER_SECONDS = 28;

export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** An API key of the deployed API, with its usage plan. */
export const apiKeySchema = z.strictObject({
  /** Name of the key and of its usage plan; it reaches the capture record as `api-key:<id>`. */
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, '-' and '_', at most 64"),
  /** Steady requests per second allowed to this key. */
  rate_limit: z.number().positive().optional(),
  /** Requests allowed in a burst above the rate. */
  burst_limit: z.number().int().positive().optional(),
  /** Requests allowed per period. */
  quota: z.strictObject({ limit: z.number().int().positive(), period: z.enum(['DAY', 'WEEK', 'MONTH']) }).optional(),
});

/**
 * How the environment is deployed to AWS (`cdk deploy`). The local stack ignores this part.
 */
export const deploymentSchema = z.strictObject({
  /** AWS account and region of the environment; default: the CLI's credentials at deploy time. */
  account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id').optional(),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1').optional(),
  /** Days captured payloads are kept in S3 (then expire); older object versions go after 7 days. */
  data_retention_days: z.number().int().min(1).default(365),
  /** Days the function, API and stream logs are kept. */
  log_retention_days: z
    .number()
    .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), `must be one of ${LOG_RETENTION_DAYS.join(', ')}`)
    .default(90),
  /** Refuse `cdk destroy` of the stack (the data bucket and key are retained anyway). */
  termination_protection: z.boolean().default(false),
  api: z
    .strictObject({
      /** `iam`: callers sign with SigV4. `none`: API keys alone (then at least one key is required). */
      authorization: z.enum(['iam', 'none']).default('iam'),
      /** When present, every route requires one of these keys (`x-api-key`), each with its usage plan. */
      api_keys: z.array(apiKeySchema).default([]),
      /** Stage-wide throttling, requests per second and burst. */
      rate_limit: z.number().positive().default(1000),
      burst_limit: z.number().int().positive().default(2000),
    })
    .prefault({}),
  scoring_function: z
    .strictObject({
      memory_mb: z.number().int().min(128).max(10_240).default(1024),
      /**
       * How long one invocation may run: up to 900 s, the 15 minutes a streamed answer may last
       * on API Gateway. A whole answer must still start within API Gateway's 29 s, so backends
       * are held to {@link WHOLE_ANSWER_SECONDS} whatever this is; above it, only streams use the rest.
       */
      timeout_seconds: z.number().int().min(3).max(900).default(28),
      reserved_concurrency: z.number().int().min(1).optional(),
      provisioned_concurrency: z.number().int().min(1).optional(),
    })
    .prefault({}),
  query: z
    .strictObject({
      /** Athena cancels a query of the environment's workgroup that scans more (minimum 10 MB). */
      bytes_scanned_cutoff_per_query: z.number().int().min(10_000_000).default(100_000_000_000),
    })
    .prefault({}),
  /**
   * Principals (12-digit account ids or IAM ARNs) allowed to assume a reader role with the
   * environment's read policy. Empty: only the managed policy is created.
   */
  reader_role_trusted_principals: z.array(z.string().regex(/^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|role\/.+|user\/.+))$/, 'must be an account id or an IAM role/user ARN')).default([]),
});
export type DeploymentSettings = z.infer<typeof deploymentSchema>;
