import { z } from 'zod';
import type { Config } from '../core/config/index.js';
import type { QueryEngine, RouteResult } from '../core/ports.js';
import { UserFacingError } from '../shared/errors.js';
import { capturedEndpoints } from '../workflow/steps.js';
import type { UiSource } from './source.js';
import { tableNames } from './tables.js';

/** What the page's reads share: their errors, their parameters, their engine, their answer. */

/** A JSON answer of a page route. */
export const json = (status: number, value: unknown): RouteResult => ({ status, contentType: 'application/json', body: JSON.stringify(value) });

/** A parameter the page sent is wrong; the message names it. */
export class BadParameter extends UserFacingError {
  public constructor(message: string) {
    super(message);
    this.name = 'BadParameter';
  }
}

/** No such endpoint or request. */
export class NotFound extends UserFacingError {
  public constructor(message: string) {
    super(message);
    this.name = 'NotFound';
  }
}

/** The query parameters of a URL, checked against a schema; the first problem names its parameter. */
export function paramsOf<S extends z.ZodType>(url: URL, schema: S): z.output<S> {
  const parsed = schema.safeParse(Object.fromEntries([...url.searchParams].filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BadParameter(`${issue?.path.join('.') || 'query'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** Runs `read` with an engine of its own, closed after. */
export async function withEngine<T>(source: UiSource, read: (engine: QueryEngine, tables: readonly string[]) => Promise<T>): Promise<T> {
  const engine = await source.open();
  try {
    return await read(engine, await tableNames(engine));
  } finally {
    engine.close();
  }
}

/** The endpoint named, when the configuration captures it. */
export function knownEndpoint(config: Config, endpoint: string): string {
  const known = capturedEndpoints(config);
  if (!known.includes(endpoint)) throw new NotFound(`Unknown endpoint '${endpoint.slice(0, 64)}'; known: ${known.join(', ')}`);
  return endpoint;
}

