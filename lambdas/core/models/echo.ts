import { createHash } from 'node:crypto';
import { toFrame } from '../frame.js';
import { contentText } from '../llm-input.js';
import type { ScoringRequest } from '../protocol.js';

/**
 * The built-in echo model: answers with its input, so any request shape can be tried.
 * Standard and CSV inputs come back as `{"predictions": [<row as a record>…]}`; chat,
 * completions and embeddings bodies get an OpenAI-shaped answer, unwrapped as MLflow does
 * for unified LLM input.
 */
export function predictEcho(request: ScoringRequest, requestId: string): unknown {
  if (request.kind === 'llm') return echoLlm(request.json, requestId);
  const frame = toFrame(request);
  if (frame.columns === null) return { predictions: frame.rows.map((r) => (r.length === 1 ? r[0] : r)) };
  const columns = frame.columns;
  return { predictions: frame.rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i] ?? null]))) };
}

function embedding(text: string): number[] {
  const digest = createHash('sha256').update(text).digest();
  return Array.from(digest.subarray(0, 8), (b) => Math.round((b / 255 - 0.5) * 2e4) / 1e4);
}

function echoLlm(json: Record<string, unknown>, id: string): unknown {
  const created = Math.floor(Date.now() / 1000);
  if ('messages' in json) {
    const messages = Array.isArray(json.messages) ? (json.messages as { content?: unknown }[]) : [];
    const last = messages.at(-1);
    const content = contentText(last?.content);
    const words = content.split(/\s+/).filter(Boolean).length;
    return {
      id: `chatcmpl-${id}`,
      object: 'chat.completion',
      created,
      model: 'echo',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: words, completion_tokens: words, total_tokens: 2 * words },
    };
  }
  // A word is a token to the echo model: it reports its usage as OpenAI's API does.
  const wordsOf = (values: unknown[]) => values.reduce<number>((n, v) => n + String(v).split(/\s+/).filter(Boolean).length, 0);
  if ('prompt' in json) {
    const prompts = Array.isArray(json.prompt) ? json.prompt : [json.prompt];
    const words = wordsOf(prompts);
    return {
      id: `cmpl-${id}`,
      object: 'text_completion',
      created,
      model: 'echo',
      choices: prompts.map((p, index) => ({ index, text: String(p), finish_reason: 'stop' })),
      usage: { prompt_tokens: words, completion_tokens: words, total_tokens: 2 * words },
    };
  }
  const inputs = Array.isArray(json.input) ? json.input : [json.input];
  const words = wordsOf(inputs);
  return {
    object: 'list',
    model: 'echo',
    data: inputs.map((text, index) => ({ object: 'embedding', index, embedding: embedding(String(text)) })),
    usage: { prompt_tokens: words, total_tokens: words },
  };
}

/** Yields to the event loop, so each chunk leaves on its own (as a model's tokens do). */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The echo model's answer to a chat or completions request, streamed as OpenAI streams it:
 * a chunk per word, then the finish reason, then the usage (which the proxy passes on only
 * when `stream_options.include_usage` asks for it). Stops when `signal` aborts.
 */
export async function* streamEcho(request: ScoringRequest, requestId: string, signal: AbortSignal): AsyncGenerator<Record<string, unknown>> {
  if (request.kind !== 'llm') return;
  const whole = echoLlm(request.json, requestId) as { id?: string; created: number; choices: { index: number; message?: { content: string }; text?: string }[]; usage?: unknown };
  const chat = 'messages' in request.json;
  const head = { id: whole.id, object: chat ? 'chat.completion.chunk' : 'text_completion', created: whole.created, model: 'echo' };
  for (const choice of whole.choices) {
    const text = chat ? (choice.message?.content ?? '') : (choice.text ?? '');
    if (chat) yield { ...head, choices: [{ index: choice.index, delta: { role: 'assistant', content: '' }, finish_reason: null }] };
    for (const piece of text.match(/\S+\s*|\s+/g) ?? []) {
      await tick();
      signal.throwIfAborted();
      yield { ...head, choices: [chat ? { index: choice.index, delta: { content: piece }, finish_reason: null } : { index: choice.index, text: piece, finish_reason: null }] };
    }
    yield { ...head, choices: [chat ? { index: choice.index, delta: {}, finish_reason: 'stop' } : { index: choice.index, text: '', finish_reason: 'stop' }] };
  }
  yield { ...head, choices: [], usage: whole.usage ?? null };
}
