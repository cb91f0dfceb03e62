import { InvalidRequestError } from './errors.js';
import { isObject } from './json-value.js';
import type { StreamChunk } from './llm-stream.js';

/**
 * OpenAI's chat and completions bodies as Amazon Bedrock's Converse API takes them, and its
 * answers back as OpenAI's objects, so a Bedrock model answers an OpenAI client like any other
 * (and is captured in the same shape). Text only: images, documents and tools are refused
 * with a 400 naming the part, never dropped.
 */

/** A Converse message, with the text blocks this product sends. */
export interface ConverseMessage {
  readonly role: 'user' | 'assistant';
  readonly content: { text: string }[];
}

/** The Converse request for a chat or completions body. */
export interface ConverseInput {
  readonly messages: ConverseMessage[];
  readonly system?: { text: string }[];
  readonly inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
}

/** What a Converse call answered, as far as it is read. */
export interface ConverseOutput {
  readonly text: string;
  readonly stopReason?: string | undefined;
  readonly usage?: { inputTokens?: number | undefined; outputTokens?: number | undefined; totalTokens?: number | undefined } | undefined;
}

/** OpenAI's `finish_reason` for each Converse stop reason. */
const FINISH: Readonly<Record<string, string>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  content_filtered: 'content_filter',
  guardrail_intervened: 'content_filter',
};

/** The finish reason of a Converse stop reason (unknown ones pass as they are). */
export const finishReason = (stopReason: string | undefined): string | null => (stopReason === undefined ? null : (FINISH[stopReason] ?? stopReason));

function textOf(content: unknown, at: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (!Array.isArray(content)) throw new InvalidRequestError(`Invalid input. '${at}' must be a string or a list of text parts for this model.`, 'INVALID_PARAMETER_VALUE');
  return content
    .map((part: unknown, i) => {
      if (isObject(part) && part.type === 'text' && typeof part.text === 'string') return part.text;
      const type = isObject(part) ? String(part.type) : typeof part;
      throw new InvalidRequestError(`Invalid input. '${at}[${i}]' is a '${type}' part: this model is served through Bedrock's Converse API with text parts only.`, 'INVALID_PARAMETER_VALUE');
    })
    .join('');
}

/**
 * The Converse request of a chat (`messages`) or completions (`prompt`) body: system and
 * developer messages become the system prompt; consecutive messages of one role are joined
 * (Converse alternates roles); the sampling parameters map to `inferenceConfig`.
 * @throws InvalidRequestError for what Converse cannot take (tools, images, several prompts)
 */
export function toConverse(json: Readonly<Record<string, unknown>>): ConverseInput {
  const system: { text: string }[] = [];
  const messages: ConverseMessage[] = [];
  const push = (role: 'user' | 'assistant', text: string) => {
    const last = messages.at(-1);
    if (last?.role === role) last.content.push({ text });
    else messages.push({ role, content: [{ text }] });
  };
  if ('messages' in json) {
    (json.messages as unknown[]).forEach((m, i) => {
      const message = m as { role: string; content?: unknown };
      const text = textOf(message.content, `messages[${i}].content`);
      if (message.role === 'system' || message.role === 'developer') system.push({ text });
      else if (message.role === 'user' || message.role === 'assistant') push(message.role, text);
      else throw new InvalidRequestError(`Invalid input. 'messages[${i}].role' is '${message.role.slice(0, 32)}': this model takes system, user and assistant messages.`, 'INVALID_PARAMETER_VALUE');
    });
  } else {
    const prompt = json.prompt;
    if (Array.isArray(prompt) && (prompt.length !== 1 || typeof prompt[0] !== 'string')) {
      throw new InvalidRequestError("Invalid input. 'prompt' must be one string for this model (Bedrock's Converse API answers one prompt per call).", 'INVALID_PARAMETER_VALUE');
    }
    push('user', String(Array.isArray(prompt) ? prompt[0] : prompt));
  }
  for (const key of ['tools', 'functions']) {
    if (key in json) throw new InvalidRequestError(`Invalid input. '${key}' is not supported by this model's backend (Bedrock's Converse API with text only).`, 'INVALID_PARAMETER_VALUE');
  }
  const stop = json.stop;
  const config = {
    ...(typeof json.max_tokens === 'number' ? { maxTokens: json.max_tokens } : {}),
    ...(typeof json.temperature === 'number' ? { temperature: json.temperature } : {}),
    ...(typeof json.top_p === 'number' ? { topP: json.top_p } : {}),
    ...(typeof stop === 'string' ? { stopSequences: [stop] } : Array.isArray(stop) ? { stopSequences: stop as string[] } : {}),
  };
  return { messages, ...(system.length > 0 ? { system } : {}), ...(Object.keys(config).length > 0 ? { inferenceConfig: config } : {}) };
}

const usageOf = (usage: ConverseOutput['usage']) =>
  usage ? { prompt_tokens: usage.inputTokens ?? 0, completion_tokens: usage.outputTokens ?? 0, total_tokens: usage.totalTokens ?? (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0) } : undefined;

/** A Converse answer as the OpenAI object a chat or completions call answers. */
export function fromConverse(chat: boolean, output: ConverseOutput, head: { id: string; model: string; created: number }): Record<string, unknown> {
  const finish = finishReason(output.stopReason);
  const usage = usageOf(output.usage);
  const choice = chat ? { index: 0, message: { role: 'assistant', content: output.text }, finish_reason: finish } : { index: 0, text: output.text, finish_reason: finish };
  return { id: head.id, object: chat ? 'chat.completion' : 'text_completion', created: head.created, model: head.model, choices: [choice], ...(usage ? { usage } : {}) };
}

/** One ConverseStream event, as far as it is read. */
export interface ConverseStreamEvent {
  readonly messageStart?: { role?: string | undefined } | undefined;
  readonly contentBlockDelta?: { delta?: { text?: string | undefined } | undefined } | undefined;
  readonly messageStop?: { stopReason?: string | undefined } | undefined;
  readonly metadata?: { usage?: ConverseOutput['usage'] } | undefined;
}

/** ConverseStream events as OpenAI's stream chunks (the usage chunk last, as `stream_options.include_usage` gives it). */
export async function* chunksFromConverse(chat: boolean, events: AsyncIterable<ConverseStreamEvent>, head: { id: string; model: string; created: number }): AsyncGenerator<StreamChunk> {
  const base = { id: head.id, object: chat ? 'chat.completion.chunk' : 'text_completion', created: head.created, model: head.model };
  const choice = (text: string | null, finish: string | null, role?: string) =>
    chat ? { index: 0, delta: { ...(role ? { role } : {}), ...(text !== null ? { content: text } : {}) }, finish_reason: finish } : { index: 0, text: text ?? '', finish_reason: finish };
  for await (const event of events) {
    if (event.messageStart && chat) yield { ...base, choices: [choice('', null, event.messageStart.role ?? 'assistant')] };
    const text = event.contentBlockDelta?.delta?.text;
    if (typeof text === 'string') yield { ...base, choices: [choice(text, null)] };
    if (event.messageStop) yield { ...base, choices: [choice(null, finishReason(event.messageStop.stopReason))] };
    const usage = usageOf(event.metadata?.usage);
    if (usage) yield { ...base, choices: [], usage };
  }
}
