import { isObject } from './json-value.js';

/**
 * A streamed LLM answer, as OpenAI's API streams it and Databricks logs it: Server-Sent Events
 * of `chat.completion.chunk` (or `text_completion`) objects, then `data: [DONE]`. The proxy
 * forwards each event as it comes and assembles them into the whole answer the caller
 * received, which is what the capture record holds.
 */

/** One event's JSON object. */
export type StreamChunk = Record<string, unknown>;

/** Why a stream ended. */
export type StreamEnd = 'complete' | 'client-disconnected' | 'backend-failed' | 'deadline-exceeded';

/** A logging error code per way a stream can break, in the capture record. */
export const STREAM_ERROR_CODES: Readonly<Record<Exclude<StreamEnd, 'complete'>, string>> = {
  'client-disconnected': 'STREAM_CLIENT_DISCONNECTED',
  'backend-failed': 'STREAM_BACKEND_FAILED',
  'deadline-exceeded': 'STREAM_DEADLINE_EXCEEDED',
};

/** What a finished stream leaves for the capture record. */
export interface StreamOutcome {
  readonly end: StreamEnd;
  /** The answer as received by the caller, assembled into one ChatCompletion-compatible object. */
  readonly body: string;
  /** From the backend call to the first event; null when none came. */
  readonly timeToFirstTokenMs: number | null;
  /** From the backend call to the end of the stream. */
  readonly durationMs: number;
}

/** An event's text on the wire. */
export const sseData = (data: string): string => `data: ${data}\n\n`;
/** The last event of an OpenAI stream. */
export const SSE_DONE = sseData('[DONE]');

interface ChoiceSoFar {
  index: number;
  role?: string;
  content: string;
  text: string;
  refusal?: string;
  /** Tool calls by index, their argument text joined. */
  toolCalls?: Map<number, { id?: unknown; type?: unknown; function: { name: string; arguments: string } }>;
  finish_reason: unknown;
}

/** Joins a stream's chunks into the object a non-streamed call would have answered. */
export class AnswerAssembler {
  private readonly choices = new Map<number, ChoiceSoFar>();
  private head: StreamChunk = {};
  private usage: unknown;
  private chunks = 0;

  public add(chunk: StreamChunk): void {
    this.chunks++;
    // From the first chunk that has them: a provider may open with one of its own (Azure's prompt filter results).
    for (const key of ['id', 'created', 'model', 'object'] as const) {
      if ((this.head[key] === undefined || this.head[key] === '') && chunk[key] !== undefined && chunk[key] !== '') this.head[key] = chunk[key];
    }
    if (chunk.usage !== undefined && chunk.usage !== null) this.usage = chunk.usage;
    for (const c of Array.isArray(chunk.choices) ? chunk.choices : []) {
      if (!isObject(c)) continue;
      const index = typeof c.index === 'number' ? c.index : 0;
      const so = this.choices.get(index) ?? { index, content: '', text: '', finish_reason: null };
      this.choices.set(index, so);
      const delta = isObject(c.delta) ? c.delta : {};
      if (typeof delta.role === 'string') so.role = delta.role;
      if (typeof delta.content === 'string') so.content += delta.content;
      if (typeof delta.refusal === 'string') so.refusal = (so.refusal ?? '') + delta.refusal;
      for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
        if (!isObject(call)) continue;
        const calls = (so.toolCalls ??= new Map());
        const at = typeof call.index === 'number' ? call.index : calls.size;
        const soFar = calls.get(at) ?? { function: { name: '', arguments: '' } };
        calls.set(at, soFar);
        if (call.id !== undefined) soFar.id = call.id;
        if (call.type !== undefined) soFar.type = call.type;
        const fn = isObject(call.function) ? call.function : {};
        if (typeof fn.name === 'string') soFar.function.name += fn.name;
        if (typeof fn.arguments === 'string') soFar.function.arguments += fn.arguments;
      }
      if (typeof c.text === 'string') so.text += c.text;
      if (c.finish_reason !== undefined && c.finish_reason !== null) so.finish_reason = c.finish_reason;
    }
  }

  /** The whole answer as JSON text: a `chat.completion` or a `text_completion`. */
  public text(): string {
    const chat = this.head.object !== 'text_completion';
    const choices = [...this.choices.values()]
      .sort((a, b) => a.index - b.index)
      .map((c) =>
        chat
          ? {
              index: c.index,
              message: {
                role: c.role ?? 'assistant',
                content: c.content,
                ...(c.refusal !== undefined ? { refusal: c.refusal } : {}),
                ...(c.toolCalls ? { tool_calls: [...c.toolCalls.entries()].sort(([a], [b]) => a - b).map(([, t]) => t) } : {}),
              },
              finish_reason: c.finish_reason,
            }
          : { index: c.index, text: c.text, finish_reason: c.finish_reason },
      );
    const object = chat ? 'chat.completion' : 'text_completion';
    return JSON.stringify({ ...this.head, object, choices, ...(this.usage !== undefined ? { usage: this.usage } : {}) });
  }
}

/**
 * A backend's chunks as the caller's Server-Sent Events, one at a time, ended by `[DONE]`. It
 * times the first event and assembles the answer; when iteration ends (the stream's end, the
 * caller leaving, or the backend failing), `ended` resolves with what the caller received,
 * and the consumer is never kept waiting for it. {@link cancel} (the caller left) aborts
 * `controller`, which the backend's call listens to.
 */
export class AnswerStream implements AsyncIterable<string> {
  private readonly assembler = new AnswerAssembler();
  private firstAtMs: number | null = null;
  private cancelled: 'client' | 'deadline' | null = null;
  private started = false;
  private resolveEnded!: (outcome: StreamOutcome) => void;
  /** Resolves once the stream is over, with what it sent. */
  public readonly ended: Promise<StreamOutcome>;

  public constructor(
    private readonly chunks: AsyncIterable<StreamChunk>,
    private readonly controller: AbortController,
    private readonly startedAtMs: number,
    private readonly now: () => number = () => performance.now(),
    /**
     * Whether the caller asked for the usage (`stream_options.include_usage`). The proxy asks
     * every backend for it, to capture it; a caller that did not ask gets it in no event.
     */
    private readonly forwardUsage = true,
  ) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  /**
   * Stops the stream: the caller left (`client`), or the time to answer is running out
   * (`deadline`, the caller then gets an error event). The backend's call is aborted, and the
   * stream ends with what was sent, also when it was never read.
   */
  public cancel(reason: 'client' | 'deadline' = 'client'): void {
    if (this.cancelled) return;
    this.cancelled = reason;
    this.controller.abort(new Error(reason === 'client' ? 'the caller disconnected' : 'the time to answer ran out'));
    if (!this.started) this.finish(reason === 'client' ? 'client-disconnected' : 'deadline-exceeded');
  }

  public async *[Symbol.asyncIterator](): AsyncIterator<string> {
    this.started = true;
    let end: StreamEnd = 'client-disconnected';
    try {
      try {
        for await (const chunk of this.chunks) {
          if (this.cancelled) break;
          this.firstAtMs ??= this.now();
          this.assembler.add(chunk);
          const sent = this.forwardUsage ? chunk : withoutUsage(chunk);
          if (sent) yield sseData(JSON.stringify(sent));
          if (this.cancelled) break;
        }
      } catch (error) {
        if (!this.cancelled) {
          end = 'backend-failed';
          // OpenAI's SDKs raise an error event as an APIError: the caller learns the stream broke.
          yield errorEvent(`The model backend broke the stream: ${(error as Error).message}`, 'stream_backend_failed');
          return;
        }
      }
      if (this.cancelled === 'deadline') {
        end = 'deadline-exceeded';
        yield errorEvent('The answer was cut: the time to answer ran out before the model finished.', 'stream_deadline_exceeded');
        return;
      }
      if (this.cancelled) return;
      end = 'complete';
      yield SSE_DONE;
    } finally {
      this.finish(end);
    }
  }

  private finish(end: StreamEnd): void {
    this.resolveEnded({
      end,
      body: this.assembler.text(),
      timeToFirstTokenMs: this.firstAtMs === null ? null : Math.round(this.firstAtMs - this.startedAtMs),
      durationMs: Math.round(this.now() - this.startedAtMs),
    });
  }
}

/** A chunk as a caller that did not ask for the usage gets it: none for the usage's own chunk. */
function withoutUsage(chunk: StreamChunk): StreamChunk | null {
  if (!('usage' in chunk)) return chunk;
  const { usage: _usage, ...rest } = chunk;
  return Array.isArray(rest.choices) && rest.choices.length === 0 ? null : rest;
}

/** An error event in OpenAI's shape, which its SDKs raise. */
function errorEvent(message: string, code: string): string {
  return sseData(JSON.stringify({ error: { message: message.slice(0, 500), type: 'server_error', param: null, code } }));
}
