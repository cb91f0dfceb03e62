import type { APIGatewayProxyResult } from 'aws-lambda';
import type { BackendResponse } from '../core/ports.js';

/** RFC 9110 token: what a header name may hold. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What a header value may hold (Node refuses the rest; API Gateway answers 502). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.slice(0, 40)}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}

/**
 * What makes a backend's answer unusable, or null: a status that is not an integer from 200
 * to 499 (5xx answers are the backend failing, reported by the backend itself), a body that is
 * not text, or a content type that cannot be a header value.
 */
export function backendAnswerProblem(answer: BackendResponse): string | null {
  const a = answer as unknown as Record<string, unknown> | null;
  if (typeof a !== 'object' || a === null) return `an answer of type ${describe(a)}`;
  if (typeof a.status !== 'number' || !Number.isInteger(a.status) || a.status < 200 || a.status > 499) return `status ${describe(a.status)}`;
  if (typeof a.body !== 'string') return `a body of type ${describe(a.body)}`;
  if (typeof a.contentType !== 'string' || a.contentType === '' || !FIELD_VALUE.test(a.contentType)) return `content type ${describe(a.contentType)}`;
  return null;
}

/**
 * What keeps a proxy result from being sent as HTTP, or null: what API Gateway would turn into
 * a 502 and Node would refuse to write.
 */
export function proxyResultProblem(result: APIGatewayProxyResult | null | undefined): string | null {
  if (typeof result !== 'object' || result === null) return `a result of type ${describe(result)}`;
  const { statusCode, headers, body } = result as unknown as Record<string, unknown>;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 200 || statusCode > 599) return `status ${describe(statusCode)}`;
  if (body !== undefined && body !== null && typeof body !== 'string') return `a body of type ${describe(body)}`;
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== 'object') return `headers of type ${describe(headers)}`;
    for (const [name, value] of Object.entries(headers)) {
      if (!TOKEN.test(name)) return `header name ${describe(name)}`;
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return `header ${name} of type ${describe(value)}`;
      if (!FIELD_VALUE.test(String(value))) return `header ${name} holding characters a header cannot hold`;
    }
  }
  return null;
}
