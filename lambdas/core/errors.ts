/**
 * Errors of the scoring path. Each carries what the edge needs to answer like MLflow: an
 * HTTP status, an MLflow `error_code`, and whether the body is MLflow error JSON or the
 * plain text MLflow uses for its 415 answers. They become responses only at the edge.
 */

/** HTTP status of each MLflow error code (`mlflow/exceptions.py`). */
export const ERROR_CODE_STATUS: Readonly<Record<string, number>> = {
  BAD_REQUEST: 400,
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  UNAUTHENTICATED: 401,
  CUSTOMER_UNAUTHORIZED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ENDPOINT_NOT_FOUND: 404,
  RESOURCE_DOES_NOT_EXIST: 404,
  METHOD_NOT_ALLOWED: 405,
  ABORTED: 409,
  RESOURCE_CONFLICT: 409,
  ALREADY_EXISTS: 409,
  REQUEST_ENTITY_TOO_LARGE: 413,
  REQUEST_LIMIT_EXCEEDED: 429,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  INTERNAL_ERROR: 500,
  INVALID_STATE: 500,
  DATA_LOSS: 500,
  NOT_IMPLEMENTED: 501,
  BAD_GATEWAY: 502,
  TEMPORARILY_UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

/** Base of every error the scoring path answers with. */
export class ScoringError extends Error {
  public readonly errorCode: string;
  public readonly status: number;
  public constructor(errorCode: string, message: string, options?: ErrorOptions & { status?: number }) {
    super(message, options);
    this.name = 'ScoringError';
    this.errorCode = errorCode;
    this.status = options?.status ?? ERROR_CODE_STATUS[errorCode] ?? 500;
  }
}

/** The request does not follow the scoring protocol (400). */
export class InvalidRequestError extends ScoringError {
  public constructor(message: string, errorCode = 'BAD_REQUEST', options?: ErrorOptions) {
    super(errorCode, message, options);
    this.name = 'InvalidRequestError';
  }
}

/** Unsupported content type: MLflow answers 415 with a plain-text body. */
export class UnsupportedMediaTypeError extends ScoringError {
  public constructor(message: string) {
    super('UNSUPPORTED_MEDIA_TYPE', message, { status: 415 });
    this.name = 'UnsupportedMediaTypeError';
  }
}

/** No such route, endpoint, model, version or served entity (404). */
export class NotFoundError extends ScoringError {
  public constructor(message: string, errorCode = 'RESOURCE_DOES_NOT_EXIST') {
    super(errorCode, message);
    this.name = 'NotFoundError';
  }
}

/** The body is larger than the endpoint accepts (413). */
export class PayloadTooLargeError extends ScoringError {
  public constructor(size: number, limit: number) {
    super('REQUEST_ENTITY_TOO_LARGE', `Request body of ${size} bytes exceeds the limit of ${limit} bytes.`);
    this.name = 'PayloadTooLargeError';
  }
}

/** The model backend failed or answered something unusable (502). */
export class BackendError extends ScoringError {
  public constructor(message: string, options?: ErrorOptions) {
    super('BAD_GATEWAY', message, options);
    this.name = 'BackendError';
  }
}

/** The model backend did not answer in time (504). */
export class BackendTimeoutError extends ScoringError {
  public constructor(timeoutMs: number, options?: ErrorOptions) {
    super('DEADLINE_EXCEEDED', `Model backend did not answer within ${timeoutMs} ms.`, options);
    this.name = 'BackendTimeoutError';
  }
}

/** Narrows an unknown thrown value to an Error. */
export function asError(value: unknown): Error {
  if (value instanceof Error) return value;
  let text: string;
  try {
    text = String(value);
  } catch {
    // An object without a usable toString (`Object.create(null)`, `{toString: 1}`).
    text = Object.prototype.toString.call(value);
  }
  return new Error(text, { cause: value });
}
