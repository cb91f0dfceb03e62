import { contentText } from './llm-input.js';
import type { z } from 'zod';
import type { signatureSchema } from './config/index.js';
import { toFrame } from './frame.js';
import { parseMlflow1Request } from './mlflow1.js';
import { type ScoringRequest, parseScoringRequest } from './protocol.js';

/** One prediction of a captured request: its input row and what the model answered for it. */
export interface UnpackedPrediction {
  /** Position of the row in the request (0 for a single-row request). */
  readonly row_index: number;
  /** The row's values, as sent, by position in the request's `columns` (null where absent). */
  readonly values: readonly unknown[];
  /** The predicted value: a scalar, a class index, or the model's object when it answers with one. */
  readonly prediction: unknown;
  /** Class probabilities, when the model returns them. */
  readonly probabilities: readonly number[] | null;
}

/** The predictions of one request (its feature names once, then the rows), or why it could not be unpacked. */
export type UnpackResult =
  | { readonly ok: true; readonly columns: readonly string[]; readonly rows: readonly UnpackedPrediction[] }
  | { readonly ok: false; readonly reason: string };

type Signature = z.infer<typeof signatureSchema>;

const fail = (reason: string): UnpackResult => ({ ok: false, reason });

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isProbabilities(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number');
}

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

/** The list of per-row predictions in a response, whatever its shape. */
function predictionList(response: unknown): unknown[] | null {
  const body = isObject(response) && 'predictions' in response ? response.predictions : response;
  if (Array.isArray(body)) return body;
  // A data frame answered column by column: {"col": [v0, v1, …], …}.
  if (isObject(body) && Object.values(body).every(Array.isArray)) {
    const columns = Object.entries(body) as [string, unknown[]][];
    const n = columns[0]?.[1].length ?? 0;
    if (columns.some(([, v]) => v.length !== n)) return null;
    return Array.from({ length: n }, (_, i) => Object.fromEntries(columns.map(([k, v]) => [k, v[i]])));
  }
  return null;
}

function readPrediction(value: unknown): { prediction: unknown; probabilities: number[] | null } {
  if (isProbabilities(value)) return { prediction: argmax(value), probabilities: value };
  if (isObject(value)) {
    const probabilities = [value.probabilities, value.probability, value.scores].find(isProbabilities) ?? null;
    const named = value.prediction ?? value.label ?? value.predicted_label ?? value.class;
    if (named !== undefined) return { prediction: named, probabilities };
    if (probabilities) return { prediction: argmax(probabilities), probabilities };
    const keys = Object.keys(value);
    // A one-column output frame: its single value is the prediction.
    if (keys.length === 1) return { prediction: value[keys[0] as string], probabilities: null };
    return { prediction: value, probabilities: null };
  }
  return { prediction: value, probabilities: null };
}

/**
 * Unpacks a captured request and response into one row per prediction, for every MLflow input
 * format (`dataframe_split`, `dataframe_records`, `instances`, `inputs` row- or
 * column-oriented, CSV). Predictions are matched to input rows by position. Never throws:
 * what cannot be unpacked comes back with the reason.
 * @param signature the model version's declared signature, naming the columns of unnamed tensors
 */
export function unpackRequest(request: string | null, response: string | null, signature?: Signature, call?: CallFacts): UnpackResult {
  if (request === null) return fail('request body not captured (see logging_error_codes)');
  if (response === null) return fail('response body not captured (see logging_error_codes)');
  // The capture keeps the body, not its content type: JSON bodies are objects (or the bare
  // lists of records a 1.x version takes; no CSV header starts with '['), the rest is CSV.
  const contentType = /^\s*[{[]/.test(request) ? 'application/json' : 'text/csv';
  let frame: ReturnType<typeof toFrame> | undefined;
  let llm: Record<string, unknown> | undefined;
  try {
    const parsed = readCaptured(contentType, request);
    if (parsed.kind === 'llm') llm = parsed.json;
    else frame = toFrame(parsed);
  } catch (error) {
    return fail(`request does not follow the scoring protocol: ${(error as Error).message.slice(0, 200)}`);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(response);
  } catch {
    return fail('response is not JSON');
  }
  if (llm) return unpackLlm(llm, answer, call ?? {});
  if (!frame) return fail('request has no rows');
  const predictions = predictionList(answer);
  if (!predictions) return fail('response has no list of predictions');
  if (predictions.length !== frame.rows.length) {
    return fail(`${frame.rows.length} input rows but ${predictions.length} predictions`);
  }
  const width = frame.rows[0]?.length ?? 0;
  const declared = signature?.inputs.map((i) => i.name);
  const columns = frame.columns ?? (declared?.length === width ? declared : Array.from({ length: width }, (_, i) => `f${i}`));
  return {
    ok: true,
    columns,
    rows: frame.rows.map((row, i) => {
      const { prediction, probabilities } = readPrediction(predictions[i]);
      // A row as long as the header is used as it is (a missing cell reads as null downstream).
      return { row_index: i, values: row.length === columns.length ? row : columns.map((_, j) => row[j] ?? null), prediction, probabilities };
    }),
  };
}

/**
 * A captured body, read as MLflow 2 does, else as MLflow 1.x does: an answered request that
 * MLflow 2's rules refuse was sent to a 1.x version (a bare list of records, a `split` frame).
 */
function readCaptured(contentType: string, request: string): ScoringRequest {
  try {
    return parseScoringRequest(contentType, request);
  } catch (error) {
    if (contentType !== 'application/json') throw error;
    try {
      return parseMlflow1Request(contentType, request).request;
    } catch {
      throw error;
    }
  }
}

/** A row's features as an object, feature name → value (for reading results, not the hot path). */
export function rowFeatures(columns: readonly string[], row: UnpackedPrediction): Record<string, unknown> {
  return Object.fromEntries(columns.map((c, j) => [c, row.values[j]]));
}

/**
 * Columns of an LLM request's rows, the text metrics among them: token counts (the capture
 * record's, which the proxy counts when the backend reports none, else the answer's `usage`;
 * the whole request's, on each of its rows), lengths in characters, the finish reason,
 * refusals and empty answers (1 or 0, so their mean is the rate), time to first token and
 * output tokens per second. Each is profiled and drift-tested like any column.
 */
export const LLM_COLUMNS = [
  'input',
  'messages',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'prompt_chars',
  'answer_chars',
  'finish_reason',
  'refusal',
  'empty_answer',
  'time_to_first_token_ms',
  'output_tokens_per_second',
] as const;

/** What the capture record says of an LLM call beyond its bodies (absent in files of earlier releases). */
export interface CallFacts {
  readonly input_tokens?: number | bigint | null;
  readonly output_tokens?: number | bigint | null;
  readonly time_to_first_token_ms?: number | bigint | null;
  readonly execution_time_ms?: number | bigint | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'bigint' ? Number(v) : null);

/** Output tokens per second of generation: after the first token when it streamed, else over the whole call. */
function tokensPerSecond(outputTokens: number | null, call: CallFacts): number | null {
  const total = num(call.execution_time_ms);
  if (outputTokens === null || total === null) return null;
  const ms = total - (num(call.time_to_first_token_ms) ?? 0);
  return ms > 0 ? Math.round((outputTokens / (ms / 1000)) * 1000) / 1000 : null;
}

function text(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Chat, completions and embeddings requests (MLflow's unified LLM input), answered in OpenAI's
 * shape: one row per choice (chat, completions) or per input (embeddings). The prompt is the
 * `input` column, the generated text (or the embedding, as JSON text) the prediction.
 */
function unpackLlm(json: Record<string, unknown>, answer: unknown, call: CallFacts): UnpackResult {
  // MLflow pyfunc models answer `{"predictions": [<the OpenAI-shaped object>]}`.
  const wrapped = isObject(answer) && Array.isArray(answer.predictions) && answer.predictions.length === 1 ? answer.predictions[0] : answer;
  if (!isObject(wrapped)) return fail('LLM response is not an object');
  const usage = isObject(wrapped.usage) ? wrapped.usage : {};
  const promptTokens = num(call.input_tokens) ?? num(usage.prompt_tokens);
  const completionTokens = num(call.output_tokens) ?? num(usage.completion_tokens);
  const totalTokens = promptTokens !== null && completionTokens !== null ? promptTokens + completionTokens : num(usage.total_tokens);
  const timing = [num(call.time_to_first_token_ms), tokensPerSecond(completionTokens, call)];
  /** A row: its input, the conversation, and for generated text the answer's metrics (none for an embedding). */
  const row = (i: number, input: unknown, messages: unknown, prediction: unknown, answer?: { text: string | null; finish: unknown; refusal: boolean }): UnpackedPrediction => {
    const inputText = text(input);
    const metrics = answer
      ? [inputText?.length ?? null, answer.text?.length ?? 0, typeof answer.finish === 'string' ? answer.finish : null, answer.refusal ? 1 : 0, !answer.refusal && !answer.text ? 1 : 0, ...timing]
      : [inputText?.length ?? null, null, null, null, null, null, null];
    return { row_index: i, values: [inputText, messages === null ? null : text(messages), promptTokens, completionTokens, totalTokens, ...metrics], prediction, probabilities: null };
  };
  const choices = Array.isArray(wrapped.choices) ? (wrapped.choices as unknown[]).filter(isObject) : null;
  if ('messages' in json) {
    if (!Array.isArray(json.messages)) return fail('chat request: messages is not a list');
    if (!choices) return fail('chat response has no choices');
    const lastUser = [...json.messages].reverse().find((m) => isObject(m) && m.role === 'user') as Record<string, unknown> | undefined;
    const input = lastUser ? contentText(lastUser.content) : null;
    return {
      ok: true,
      columns: LLM_COLUMNS,
      rows: choices.map((c, i) => {
        const message = isObject(c.message) ? c.message : {};
        const content = message.content === undefined || message.content === null ? null : typeof message.content === 'string' ? message.content : contentText(message.content);
        // A tool call is an answer too: only an answer with neither text nor calls is empty.
        const calls = Array.isArray(message.tool_calls) && message.tool_calls.length > 0;
        const refusal = typeof message.refusal === 'string' && message.refusal !== '';
        return row(i, input, json.messages, content, { text: calls ? (content ?? '') + JSON.stringify(message.tool_calls) : content, finish: c.finish_reason, refusal });
      }),
    };
  }
  if ('prompt' in json) {
    if (!choices) return fail('completions response has no choices');
    const prompts = Array.isArray(json.prompt) ? json.prompt : [json.prompt];
    // With `n` completions per prompt, choice k belongs to prompt floor(k / n).
    const perPrompt = choices.length / prompts.length;
    if (!Number.isInteger(perPrompt) || perPrompt < 1) return fail(`${prompts.length} prompts but ${choices.length} choices`);
    return {
      ok: true,
      columns: LLM_COLUMNS,
      rows: choices.map((c, i) => {
        const generated = text(c.text);
        return row(i, prompts[Math.floor(((c.index as number | undefined) ?? i) / perPrompt)] ?? null, null, generated, { text: generated, finish: c.finish_reason, refusal: false });
      }),
    };
  }
  const inputs = Array.isArray(json.input) ? json.input : [json.input];
  const data = Array.isArray(wrapped.data) ? (wrapped.data as unknown[]).filter(isObject) : null;
  if (!data) return fail('embeddings response has no data');
  if (data.length !== inputs.length) return fail(`${inputs.length} inputs but ${data.length} embeddings`);
  const byIndex = [...data].sort((a, b) => ((a.index as number | undefined) ?? 0) - ((b.index as number | undefined) ?? 0));
  return { ok: true, columns: LLM_COLUMNS, rows: inputs.map((input, i) => row(i, input, null, text(byIndex[i]?.embedding))) };
}
