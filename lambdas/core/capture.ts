import { JSONPath } from 'jsonpath-plus';
import type { CaptureSettings } from './config/index.js';
import { type CaptureRecord, timeFields } from './capture-record.js';
import { unitHash } from './hash.js';
import type { CallTokens } from './tokens.js';

/** Firehose accepts records of at most 1,000 KiB; the whole JSON record must fit. */
export const FIREHOSE_RECORD_LIMIT_BYTES = 1_000 * 1024;

/** Value written in place of a redacted field. */
export const REDACTED = '[REDACTED]';

/** Codes written to `logging_error_codes`. */
export const LoggingErrorCode = {
  requestTooLarge: 'MAX_REQUEST_SIZE_EXCEEDED',
  responseTooLarge: 'MAX_RESPONSE_SIZE_EXCEEDED',
  /** Redaction is configured but the body is not JSON, so it is not written at all. */
  requestNotRedactable: 'REQUEST_NOT_REDACTABLE',
  responseNotRedactable: 'RESPONSE_NOT_REDACTABLE',
} as const;

/**
 * Whether a request is in the sample: a pure function of its `client_request_id` when it has
 * one (a caller's retries and related requests are captured alike), else of its request id,
 * so replays agree.
 */
export function isSampled(requestId: string, fraction: number, clientRequestId?: string | null): boolean {
  return fraction >= 1 || unitHash(`sample:${clientRequestId ?? requestId}`) < fraction;
}

/**
 * Replaces the values at `paths` (JSONPath) in a JSON text.
 * @returns the redacted text, the text itself when no path matched, or null when it is not JSON
 */
export function redactJson(text: string, paths: readonly string[]): string | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof json !== 'object' || json === null) return text;
  let changed = false;
  for (const path of paths) {
    JSONPath({
      path,
      json,
      resultType: 'all',
      callback: (match: { parent: Record<string, unknown> | null; parentProperty: string | number }) => {
        if (match.parent !== null && match.parent !== undefined) {
          (match.parent as Record<string | number, unknown>)[match.parentProperty] = REDACTED;
          changed = true;
        }
      },
    });
  }
  return changed ? JSON.stringify(json) : text;
}

/** Everything known about one invocation when its answer is ready. */
export interface InvocationFacts {
  readonly requestId: string;
  readonly clientRequestId: string | null;
  readonly receivedAtMs: number;
  readonly statusCode: number;
  readonly executionTimeMs: number | null;
  readonly requestBody: string | null;
  readonly responseBody: string | null;
  readonly endpoint: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly servedEntityId: string | null;
  readonly requester: string | null;
  /** The input format the request was read in (`csv` for CSV); null when it was refused first. */
  readonly requestFormat?: string | null;
  /** Codes already known, e.g. the body was over the size limit and never read whole. */
  readonly loggingErrorCodes?: readonly string[];
  /** The answer was streamed (Server-Sent Events), and when its first event came. */
  readonly streamed?: boolean;
  readonly timeToFirstTokenMs?: number | null;
  /** An LLM call's tokens, when it has them. */
  readonly tokens?: CallTokens | null;
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * Builds the capture record of an invocation, or null when capture is off or the request is
 * outside the sample. Applies, in order: redaction, the per-field payload cap, and the
 * sink's whole-record limit (the larger body is dropped first). Anything not written whole
 * is named in `logging_error_codes`.
 */
export function buildCaptureRecord(facts: InvocationFacts, settings: CaptureSettings): CaptureRecord | null {
  if (!settings.enabled || !isSampled(facts.requestId, settings.sampling_fraction, facts.clientRequestId)) return null;
  const codes = new Set(facts.loggingErrorCodes ?? []);
  let request = facts.requestBody;
  let response = facts.responseBody;
  if (settings.redact_paths.length > 0) {
    if (request !== null) {
      const redacted = redactJson(request, settings.redact_paths);
      if (redacted === null) codes.add(LoggingErrorCode.requestNotRedactable);
      request = redacted;
    }
    if (response !== null) {
      const redacted = redactJson(response, settings.redact_paths);
      if (redacted === null) codes.add(LoggingErrorCode.responseNotRedactable);
      response = redacted;
    }
  }
  if (request !== null && utf8Length(request) > settings.max_payload_bytes) {
    request = null;
    codes.add(LoggingErrorCode.requestTooLarge);
  }
  if (response !== null && utf8Length(response) > settings.max_payload_bytes) {
    response = null;
    codes.add(LoggingErrorCode.responseTooLarge);
  }
  const { request_time, date } = timeFields(facts.receivedAtMs);
  const record: CaptureRecord = {
    request_id: facts.requestId,
    // Stored as UTF-8 by every sink: an unpaired surrogate would make the record unreadable.
    client_request_id: facts.clientRequestId?.toWellFormed() ?? null,
    timestamp_ms: facts.receivedAtMs,
    request_time,
    status_code: facts.statusCode,
    sampling_fraction: settings.sampling_fraction,
    execution_time_ms: facts.executionTimeMs,
    request,
    response,
    request_metadata: { ...facts.metadata },
    served_entity_id: facts.servedEntityId,
    logging_error_codes: [...codes],
    requester: facts.requester?.toWellFormed() ?? null,
    request_format: facts.requestFormat ?? null,
    streamed: facts.streamed ?? null,
    time_to_first_token_ms: facts.timeToFirstTokenMs ?? null,
    input_tokens: facts.tokens?.inputTokens ?? null,
    output_tokens: facts.tokens?.outputTokens ?? null,
    tokens_counted: facts.tokens ? facts.tokens.counted : null,
    endpoint: facts.endpoint,
    date,
  };
  // Drop the larger body until the whole record fits the sink's record limit. JSON escaping
  // grows a character to at most 6 bytes, so small bodies skip the serialisation.
  const bodyChars = (record.request?.length ?? 0) + (record.response?.length ?? 0);
  if (bodyChars * 6 + 65_536 < FIREHOSE_RECORD_LIMIT_BYTES) return record;
  while (utf8Length(JSON.stringify(record)) > FIREHOSE_RECORD_LIMIT_BYTES && (record.request !== null || record.response !== null)) {
    const reqLen = record.request === null ? -1 : utf8Length(record.request);
    const resLen = record.response === null ? -1 : utf8Length(record.response);
    if (reqLen >= resLen) {
      record.request = null;
      codes.add(LoggingErrorCode.requestTooLarge);
    } else {
      record.response = null;
      codes.add(LoggingErrorCode.responseTooLarge);
    }
    record.logging_error_codes = [...codes];
  }
  return record;
}
