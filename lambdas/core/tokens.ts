import type { LlmField } from './input-formats.js';
import { isObject, parseObject } from './json-value.js';
import { contentText } from './llm-input.js';

/**
 * The tokens of one LLM call, for the usage view and cost attribution per caller. The
 * backend's own count (its answer's `usage`) is taken when it sent one; otherwise the proxy
 * counts the text sent and received with OpenAI's `o200k_base` encoding and marks the counts
 * as counted: exact for OpenAI's current models, an estimate for others, never a blank that
 * reads as free. Token-id inputs count as their length.
 */
export interface CallTokens {
  readonly inputTokens: number | null;
  readonly outputTokens: number | null;
  /** True when the proxy counted them, false when the backend reported them. */
  readonly counted: boolean;
}

/** Counts the tokens of a text. */
export type TokenCounter = (text: string) => number;

let counter: Promise<TokenCounter> | undefined;

/**
 * The `o200k_base` counter, loaded on first use only (its table is 2.4 MB and takes about
 * 200 ms to load): backends that report their usage never pay for it.
 */
export function o200kCounter(): Promise<TokenCounter> {
  counter ??= import('gpt-tokenizer/encoding/o200k_base').then((m) => (text: string) => m.countTokens(text));
  return counter;
}

// OpenAI's rule for its chat models (the cookbook's "How to count tokens with tiktoken"):
// 3 tokens frame each message, 1 more for a `name`, and 3 prime the reply.
const PER_MESSAGE = 3;
const PER_NAME = 1;
const REPLY_PRIMING = 3;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null);

/** The counts the backend sent in its answer's `usage`, when it sent both that apply. */
function reported(format: LlmField, answer: Record<string, unknown> | null): CallTokens | null {
  const usage = answer && isObject(answer.usage) ? answer.usage : null;
  const input = num(usage?.prompt_tokens);
  if (input === null) return null;
  // Embeddings produce no text: OpenAI reports only prompt and total tokens for them.
  const output = format === 'input' ? 0 : num(usage?.completion_tokens);
  return output === null ? null : { inputTokens: input, outputTokens: output, counted: false };
}

/** The text of tool calls: names and argument text. */
function toolCallsText(calls: unknown): string {
  if (!Array.isArray(calls)) return '';
  return calls.map((c) => (isObject(c) && isObject(c.function) ? `${String(c.function.name ?? '')}${String(c.function.arguments ?? '')}` : '')).join('');
}

/** Tokens of `prompt` or `input`: text counted, token ids taken as they are. */
function textOrTokens(value: unknown, count: TokenCounter): number {
  if (typeof value === 'string') return count(value);
  if (!Array.isArray(value)) return 0;
  return value.reduce<number>((sum, v) => sum + (typeof v === 'number' ? 1 : Array.isArray(v) ? v.length : typeof v === 'string' ? count(v) : 0), 0);
}

function inputTokens(format: LlmField, request: Record<string, unknown>, count: TokenCounter): number {
  if (format !== 'messages') return textOrTokens(request[format], count);
  const messages = Array.isArray(request.messages) ? request.messages : [];
  let total = REPLY_PRIMING;
  for (const m of messages) {
    if (!isObject(m)) continue;
    total += PER_MESSAGE + count(String(m.role ?? '')) + count(contentText(m.content)) + count(toolCallsText(m.tool_calls));
    if (typeof m.name === 'string') total += PER_NAME + count(m.name);
  }
  return total;
}

function outputTokens(format: LlmField, answer: Record<string, unknown>, count: TokenCounter): number {
  if (format === 'input') return 0;
  const choices = Array.isArray(answer.choices) ? answer.choices : [];
  let total = 0;
  for (const c of choices) {
    if (!isObject(c)) continue;
    if (format === 'prompt') total += typeof c.text === 'string' ? count(c.text) : 0;
    else if (isObject(c.message)) total += count(contentText(c.message.content)) + count(typeof c.message.refusal === 'string' ? c.message.refusal : '') + count(toolCallsText(c.message.tool_calls));
  }
  return total;
}

/**
 * The tokens of an answered LLM call: reported by the backend, else counted. Null when the
 * call produced no answer (a refusal or a failure costs no tokens) or its request is not JSON.
 * @param answered whether the backend answered (a 200, a stream cut short included)
 */
export async function callTokens(format: LlmField, request: string | null, response: string | null, answered: boolean, load: () => Promise<TokenCounter> = o200kCounter): Promise<CallTokens | null> {
  if (!answered) return null;
  const answer = parseObject(response);
  const fromBackend = reported(format, answer);
  if (fromBackend) return fromBackend;
  const body = parseObject(request);
  if (!body) return null;
  const count = await load();
  return { inputTokens: inputTokens(format, body, count), outputTokens: answer ? outputTokens(format, answer, count) : null, counted: true };
}
