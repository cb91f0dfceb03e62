import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** A user name that may name the caller in the `requester` column. */
const USER_NAME = /^[A-Za-z0-9._@+-]{1,64}$/;

/** The requester of a caller that authenticated with the token alone. */
export const TOKEN_REQUESTER = 'local:token';

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The `requester` of a caller who sent the right token with basic authentication: the user
 * name, when it is a plain name that neither holds the token nor is held in it (a caller
 * sending `-u <token>:<token>` or a piece of the token as the user must not put the secret
 * in a table), else {@link TOKEN_REQUESTER}.
 */
export function basicRequester(user: string, token: string): string {
  if (!USER_NAME.test(user) || user.includes(token) || token.includes(user)) return TOKEN_REQUESTER;
  return `local:${user}`;
}

/** Whether `Authorization` is `Bearer <token>`. */
function isBearer(authorization: string | undefined, token: string): boolean {
  const [scheme = '', value = ''] = (authorization ?? '').trim().split(/\s+/, 2);
  return scheme.toLowerCase() === 'bearer' && sameSecret(value, token);
}

/**
 * Checks `Authorization` against the token: `Bearer <token>`, or basic with the token as the
 * password (the seeds' `curl -u token:<token>`). Returns the requester, or null.
 */
export function authenticate(authorization: string | undefined, token: string): string | null {
  if (!authorization) return null;
  if (isBearer(authorization, token)) return TOKEN_REQUESTER;
  const [scheme = '', value = ''] = authorization.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0 && sameSecret(decoded.slice(colon + 1), token)) return basicRequester(decoded.slice(0, colon), token);
  }
  return null;
}

/** The requester of a management call made with the management token. */
export const MANAGEMENT_REQUESTER = 'local:management';

/**
 * Why a management call is refused, or null: with a management token set, it must be sent as
 * `Authorization: Bearer <token>` (the scoring token does not do); without one, management is
 * answered on loopback only, with the scoring token when the server has one.
 */
export function managementRefusal(
  req: { readonly headers: { readonly authorization?: string | undefined }; readonly socket: { readonly localAddress?: string | undefined } },
  options: { readonly managementToken?: string | undefined; readonly token?: string | undefined },
): { status: number; code: string; message: string } | null {
  if (options.managementToken) {
    if (isBearer(req.headers.authorization, options.managementToken)) return null;
    return { status: 401, code: 'UNAUTHENTICATED', message: 'Management calls change production: send the management token (INFERENCE_TABLES_MANAGEMENT_TOKEN) as Authorization: Bearer <token>.' };
  }
  const local = req.socket.localAddress ?? '';
  if (local === '127.0.0.1' || local === '::1' || local === '::ffff:127.0.0.1') {
    // A server that asks scoring callers for a token asks management callers at least as much
    // (a reverse proxy on this host reaches it on loopback).
    if (options.token && !authenticate(req.headers.authorization, options.token)) {
      return { status: 401, code: 'UNAUTHENTICATED', message: 'Missing or invalid credentials: send the token, or set INFERENCE_TABLES_MANAGEMENT_TOKEN for management calls and send that.' };
    }
    return null;
  }
  return { status: 403, code: 'PERMISSION_DENIED', message: 'Management calls are answered on loopback only unless INFERENCE_TABLES_MANAGEMENT_TOKEN is set: set it, restart, and send it as Authorization: Bearer <token>.' };
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Why a request from a browser page of another site is refused, or null. A server with no
 * token trusts its loopback address, so it answers only requests addressed to that address
 * (a page that rebinds its own DNS name to 127.0.0.1 sends its name as Host); and no server
 * answers a browser's cross-site request (`Sec-Fetch-Site`), which another site's page could
 * use to run the console's queries or change what is served. Clients that are not browsers
 * send no `Sec-Fetch-Site`.
 */
export function browserRefusal(req: { readonly headers: IncomingHttpHeaders }, loopbackOnly: boolean): string | null {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return 'A page of another site may not call this server.';
  const host = req.headers.host;
  if (loopbackOnly && host !== undefined) {
    const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '');
    if (!isLoopback(name === '[::1]' ? '::1' : name)) return `This server answers requests addressed to its loopback address, not to ${name.slice(0, 64)}.`;
  }
  return null;
}

