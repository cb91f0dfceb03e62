import { z } from 'zod';
import { parseUntrusted } from './untrusted.js';
import { InvalidRequestError } from './errors.js';
import { fieldPath } from './field-path.js';
import { isObject } from './json-value.js';

/**
 * The values of unified LLM input MLflow ≥ 2.10 and Databricks accept (OpenAI's chat,
 * completions and embeddings request bodies), checked at the proxy so a model never receives
 * a value of a type the protocol refuses. The input fields themselves (`messages`, `prompt`,
 * `input`) are entries of the input-format registry (`input-formats.ts`), which checks each
 * with a schema from here; the sampling parameters below are checked for all of them. Other
 * fields pass through unchecked (models take their own parameters).
 */

/** The JSON type of a value, in the words an error message uses. */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'dict';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return typeof value === 'boolean' ? 'bool' : 'str';
}

const isTokenList = (v: unknown): boolean => Array.isArray(v) && v.length > 0 && v.every((t) => Number.isSafeInteger(t) && (t as number) >= 0);

/**
 * `prompt` and `input`: a string, a list of strings, a list of token ids or a list of such
 * lists (OpenAI's four forms). The problem names the first element that breaks the form.
 */
function textOrTokensProblem(value: unknown): { path: (string | number)[]; message: string } | null {
  if (typeof value === 'string') return null;
  if (!Array.isArray(value)) return { path: [], message: `must be a string, a list of strings or a list of token ids; got ${jsonType(value)}` };
  if (value.length === 0) return { path: [], message: 'must not be an empty list' };
  const first = value[0];
  const form =
    typeof first === 'string'
      ? { ok: (v: unknown) => typeof v === 'string', what: 'a string' }
      : Number.isSafeInteger(first) && (first as number) >= 0
        ? { ok: (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0, what: 'a token id (an integer ≥ 0)' }
        : isTokenList(first)
          ? { ok: isTokenList, what: 'a non-empty list of token ids' }
          : null;
  if (!form) return { path: [0], message: `must be a string, a token id or a list of token ids; got ${jsonType(first)}` };
  const bad = value.findIndex((v) => !form.ok(v));
  return bad < 0 ? null : { path: [bad], message: `must be ${form.what}, like element 0; got ${jsonType(value[bad])}` };
}

/** Completions `prompt` and embeddings `input`: text or token ids. */
export const textOrTokensSchema = z.unknown().superRefine((value, ctx) => {
  const problem = textOrTokensProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
});

/** An error map for a wrong type only; range and length messages are given where they are set. */
const typeError = (what: string) => (issue: { code?: string; input?: unknown }) => (issue.code === 'invalid_type' || issue.code === 'invalid_union' ? `must be ${what}; got ${jsonType(issue.input)}` : undefined);

const contentPart = z.looseObject({ type: z.string({ error: typeError('a string') }) }, { error: typeError('a content part (a dict with a type)') });
const message = z.looseObject(
  {
    role: z.string({ error: typeError('a string') }).min(1, 'must not be empty'),
    content: z.union([z.string(), z.null(), z.array(contentPart)], { error: typeError('a string, null or a list of content parts') }).optional(),
  },
  { error: typeError('a message (a dict with a role)') },
);

const number = (min: number, max: number) =>
  z
    .number({ error: typeError('a number') })
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .nullish();
const count = (max: number) =>
  z
    .int({ error: typeError('an integer') })
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`)
    .nullish();

/** Chat input: `messages`, a non-empty list of messages with a role. */
export const chatMessagesSchema = z.array(message, { error: typeError('a list of messages') }).min(1, 'must hold at least one message');

/** The sampling parameters checked on every unified LLM request, whatever its input field. */
export const llmParametersSchema = z.looseObject({
  temperature: number(0, 2),
  top_p: number(0, 1),
  max_tokens: count(Number.MAX_SAFE_INTEGER),
  n: count(128),
  stop: z.union([z.string(), z.array(z.string()).max(4)], { error: typeError('a string or a list of at most 4 strings') }).nullish(),
  stream: z.boolean({ error: typeError('true or false') }).nullish(),
});

/** Throws the first issue of a failed parse, named by its path below `under`. */
function refuse(result: z.ZodSafeParseResult<unknown>, under: readonly PropertyKey[]): void {
  if (result.success) return;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  throw new InvalidRequestError(`Invalid input. '${fieldPath([...under, ...issue.path])}' ${issue.message}.`, 'INVALID_PARAMETER_VALUE');
}

/**
 * The check of one LLM input field's value, for its registry entry.
 * @example llmFieldCheck('messages', chatMessagesSchema)([{ role: 1 }]) // throws "Invalid input. 'messages[0].role' must be a string; got int."
 */
export function llmFieldCheck(field: string, schema: z.ZodType): (value: unknown) => void {
  return (value) => refuse(parseUntrusted(schema, value), [field]);
}

/**
 * Checks the sampling parameters of a unified LLM request body, after its input field.
 * @throws InvalidRequestError naming the field, e.g. `'temperature' must be at most 2`
 */
export function checkLlmParameters(json: Record<string, unknown>): void {
  refuse(parseUntrusted(llmParametersSchema, json), []);
}

/** The text of a chat message's `content`: the string, or the text of its parts joined. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (isObject(p) && typeof p.text === 'string' ? p.text : '')).join('');
}
