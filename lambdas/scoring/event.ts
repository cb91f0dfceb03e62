import { isUtf8 } from 'node:buffer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** A header of an API Gateway proxy event, looked up case-insensitively. */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** False when a base64-encoded body is not valid UTF-8 (its text would hold replacement characters). */
export function bodyIsUtf8(event: APIGatewayProxyEvent): boolean {
  return !event.isBase64Encoded || event.body === null || isUtf8(Buffer.from(event.body, 'base64'));
}

/** The event body as text (API Gateway base64-encodes binary media types); invalid UTF-8 becomes U+FFFD. */
export function bodyText(event: APIGatewayProxyEvent): string {
  if (event.body === null || event.body === undefined) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/**
 * Who called, as API Gateway saw it: the IAM principal (SigV4), else the API key id, else a
 * Lambda authorizer's principal. The secret itself (signature, key value, token) is never here.
 */
export function requesterOf(event: APIGatewayProxyEvent): string | null {
  const ctx = event.requestContext;
  const identity = ctx?.identity;
  if (identity?.userArn) return identity.userArn;
  if (identity?.apiKeyId) return `api-key:${identity.apiKeyId}`;
  const principal = (ctx?.authorizer as { principalId?: unknown } | null | undefined)?.principalId;
  if (typeof principal === 'string' && principal) return principal;
  if (identity?.user) return identity.user;
  return null;
}

/** A JSON answer. */
export function jsonResult(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
