import type { z } from 'zod';
import { isObject } from './json-value.js';

/**
 * Parses a value a caller sent. zod 4 runs the length checks of a string or array schema on
 * any value that has a `length` (`_whenHasLength`), even after its type check failed, and a
 * hostile `length` such as `{"toString": 0}` then throws while being compared, instead of
 * failing. Such a value is never a string or a list, so the parse is retried with each object
 * `length` set to null: the same refusal, naming the field, instead of an internal error.
 */
export function parseUntrusted<S extends z.ZodType>(schema: S, value: unknown): z.ZodSafeParseResult<z.output<S>> {
  try {
    return schema.safeParse(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return schema.safeParse(withoutObjectLengths(value));
  }
}

function withoutObjectLengths(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutObjectLengths);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'length' && typeof v === 'object' && v !== null ? null : withoutObjectLengths(v)]));
}
