import { InvalidRequestError, type ScoringError } from './errors.js';
import type { LlmField } from './input-formats.js';
import { isObject } from './json-value.js';

/**
 * The OpenAI-compatible routes, as Databricks exposes its serving endpoints to OpenAI clients
 * (base URL `…/serving-endpoints`, `model` naming the endpoint). One entry per API: its path,
 * the input field its body must hold; the routes table and the handler derive from it.
 */
export const OPENAI_APIS = {
  chat: { path: '/serving-endpoints/chat/completions', field: 'messages' },
  completions: { path: '/serving-endpoints/completions', field: 'prompt' },
  embeddings: { path: '/serving-endpoints/embeddings', field: 'input' },
} as const satisfies Record<string, { readonly path: string; readonly field: LlmField }>;

/** One of the OpenAI-compatible APIs. */
export type OpenAiApi = keyof typeof OPENAI_APIS;

/** The encodings of an embedding OpenAI's API answers in; the SDKs ask for `base64` by default. */
const ENCODINGS = ['float', 'base64'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/** An OpenAI-route call: the endpoint it names, and its body. */
export interface OpenAiCall {
  readonly model: string;
  readonly json: Readonly<Record<string, unknown>>;
}

/**
 * Reads the endpoint an OpenAI-route body names in `model`, as OpenAI's API does before
 * anything else.
 * @throws InvalidRequestError when the body is not a JSON object naming a model
 */
export function readOpenAiCall(body: string): OpenAiCall {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new InvalidRequestError(`We could not parse the JSON body of your request: ${(error as Error).message.slice(0, 200)}.`, 'BAD_REQUEST', { cause: error });
  }
  if (!isObject(json)) throw new InvalidRequestError('The body of your request must be a JSON object.', 'BAD_REQUEST');
  if (typeof json.model !== 'string' || json.model.length === 0) {
    throw new InvalidRequestError("'model' is a required property: name the serving endpoint to call.", 'INVALID_PARAMETER_VALUE');
  }
  return { model: json.model, json };
}

/**
 * Checks a call is one of its API (its input field is there) and returns how its embeddings
 * are to be encoded (`float` for chat and completions).
 * @throws InvalidRequestError naming the missing field or the unknown encoding
 */
export function openAiEncoding(api: OpenAiApi, call: OpenAiCall): Encoding {
  const field = OPENAI_APIS[api].field;
  if (!(field in call.json)) throw new InvalidRequestError(`'${field}' is a required property of ${OPENAI_APIS[api].path}.`, 'INVALID_PARAMETER_VALUE');
  if (api !== 'embeddings') return 'float';
  const encoding = call.json.encoding_format ?? 'float';
  if (!ENCODINGS.includes(encoding as Encoding)) {
    throw new InvalidRequestError(`'encoding_format' must be one of ${ENCODINGS.map((e) => `'${e}'`).join(', ')}; got ${JSON.stringify(encoding).slice(0, 64)}.`, 'INVALID_PARAMETER_VALUE');
  }
  return encoding as Encoding;
}

/** OpenAI's error `type` for a status. */
function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

/** An error in OpenAI's shape, which its SDKs read: `{"error": {"message", "type", "param", "code"}}`. */
export function openAiErrorBody(error: Pick<ScoringError, 'status' | 'errorCode' | 'message'>): string {
  const code = error.errorCode === 'ENDPOINT_NOT_FOUND' ? 'model_not_found' : error.errorCode.toLowerCase();
  return JSON.stringify({ error: { message: error.message, type: errorType(error.status), param: null, code } });
}

/** A vector as OpenAI's `base64` encoding: its float32 values, little-endian, in base64. */
function base64Floats(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes.toString('base64');
}

/**
 * An embeddings answer in the encoding the caller asked for. The backend is always asked for
 * floats (a model that ignores `encoding_format` would otherwise answer floats the SDK
 * decodes as base64 into garbage); an answer that is not a list of float vectors is left as is.
 */
export function encodeEmbeddings(body: string, encoding: Encoding): string {
  if (encoding === 'float') return body;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return body;
  }
  if (!isObject(json) || !Array.isArray(json.data)) return body;
  const data = json.data.map((item: unknown) =>
    isObject(item) && Array.isArray(item.embedding) && item.embedding.every((v) => typeof v === 'number') ? { ...item, embedding: base64Floats(item.embedding as number[]) } : item,
  );
  return JSON.stringify({ ...json, data });
}
