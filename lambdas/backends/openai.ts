import { EventSourceParserStream } from 'eventsource-parser/stream';
import { BackendError, BackendTimeoutError, InvalidRequestError } from '../core/errors.js';
import type { StreamChunk } from '../core/llm-stream.js';
import type { BackendProbe, BackendRequest, BackendResponse, BackendStreamAnswer, ModelBackend } from '../core/ports.js';
import { isObject } from '../core/json-value.js';
import { displayUrl } from '../core/backend-health.js';
import { MAX_ERROR_EXCERPT, PROBE_TIMEOUT_MS, reachFailure } from './http.js';


/** The path of each unified LLM input field's API. */
const PATHS: Readonly<Record<string, string>> = { messages: '/chat/completions', prompt: '/completions', input: '/embeddings' };

/** The API key of an external model, read when needed (from a secret or the environment); null for a server that takes none. */
export type ApiKeySource = () => Promise<string | null>;

/** An API key read from an environment variable at each call (local runs). */
export function envApiKey(name: string): () => Promise<string> {
  return async () => {
    const key = process.env[name];
    if (!key) throw new BackendError(`The environment variable ${name}, which holds the external model's API key, is not set: export it before starting the server.`);
    return checkedKey(key, `the environment variable ${name}`);
  };
}

/**
 * A key that a header can carry. Anything else would make the HTTP client's error quote it, so
 * it is refused here, named by where it came from and never shown.
 */
export function checkedKey(key: string, source: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  if (/[\u0000-\u001f\u007f]|\s/.test(key)) throw new BackendError(`The API key in ${source} holds spaces, line breaks or control characters: store the key alone.`);
  return key;
}

/** What the backend needs to call an OpenAI-compatible API. */
export interface OpenAiBackendOptions {
  /** Base URL of the API, e.g. `https://api.openai.com/v1` or a vLLM server's `http://host:8000/v1`. */
  readonly baseUrl: string;
  /** The upstream model name, sent as `model` in place of the endpoint's name. */
  readonly model: string;
  readonly apiKey: ApiKeySource;
  readonly timeoutMs: number;
  /** Ask for the usage in every stream (`stream_options.include_usage`). */
  readonly streamUsage?: boolean;
}

/**
 * An external model behind an OpenAI-compatible API (OpenAI, Azure OpenAI, vLLM, TGI,
 * Ollama…), the AI Gateway's first case. Chat, completions and embeddings bodies are sent to
 * their API with the upstream model's name; a streamed call is read as Server-Sent Events and
 * passed on as it comes. The key is sent as a bearer token and never appears in an answer,
 * an error or a log. The API's own 4xx answers pass through; a 5xx, an unreachable server or
 * a timeout is the backend failing.
 */
export class OpenAiBackend implements ModelBackend {
  private readonly base: string;
  /** The key last read, to take it out of any text that leaves the backend. */
  private key: string | null = null;

  public constructor(private readonly options: OpenAiBackendOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
  }

  public async invoke(request: BackendRequest): Promise<BackendResponse> {
    const response = await this.call(request, false, AbortSignal.timeout(this.options.timeoutMs));
    const body = this.scrub(await this.read(() => response.text()));
    refused(response.status, body);
    return { status: response.status, body, contentType: response.headers.get('content-type') ?? 'application/json' };
  }

  public async stream(request: BackendRequest, signal: AbortSignal): Promise<BackendStreamAnswer> {
    // The timeout runs until the answer starts: a stream may then last as long as the model writes.
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(new DOMException(`no answer within ${this.options.timeoutMs} ms`, 'TimeoutError')), this.options.timeoutMs);
    let response: Response;
    try {
      response = await this.call(request, true, AbortSignal.any([signal, timer.signal]));
    } finally {
      clearTimeout(timeout);
    }
    if (response.status >= 300) {
      const body = this.scrub(await this.read(() => response.text()));
      refused(response.status, body);
      return { whole: { status: response.status, body, contentType: response.headers.get('content-type') ?? 'application/json' } };
    }
    const type = response.headers.get('content-type') ?? '';
    if (!type.startsWith('text/event-stream') || !response.body) {
      await response.body?.cancel();
      throw new BackendError(`Model backend answered a streamed call with '${type.slice(0, 80)}', not Server-Sent Events: it does not stream this API.`);
    }
    return { chunks: chunksOf(response.body, this.scrub) };
  }

  /** `GET /models`, which every OpenAI-compatible API answers: 2xx is ready, 401 or 403 a key to fix. */
  public async probe(signal: AbortSignal): Promise<BackendProbe> {
    const shown = `The external model API ${displayUrl(this.base)}`;
    try {
      const response = await fetch(`${this.base}/models`, { headers: await this.headers(), signal: AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]) });
      await response.arrayBuffer();
      if (response.ok) return { ready: true, message: `${shown} answered GET /models with ${response.status}.` };
      if (response.status === 401 || response.status === 403) {
        return { ready: false, message: `${shown} refused the API key (${response.status}): fix the key in its secret or environment variable.` };
      }
      return { ready: false, message: `${shown} answered GET /models with ${response.status}: check backend.base_url in the configuration.` };
    } catch (error) {
      return { ready: false, message: this.scrub(`${shown} could not be reached (${reachFailure(error)}): check backend.base_url and that the server runs.`) };
    }
  }

  /**
   * A text without the key last read (every answer's request read it first): an API that echoes
   * the key in an error must not put it in a table, a log or an answer.
   */
  private readonly scrub = (text: string): string => (this.key && text.includes(this.key) ? text.replaceAll(this.key, '[REDACTED]') : text);

  private async headers(): Promise<Record<string, string>> {
    const key = await this.options.apiKey();
    this.key = key;
    return { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) };
  }

  private async call(request: BackendRequest, stream: boolean, signal: AbortSignal): Promise<Response> {
    const format = request.parsed.kind === 'llm' ? request.parsed.format : null;
    const path = format ? PATHS[format] : undefined;
    if (!path) throw new InvalidRequestError('Invalid input. This served entity is an external model behind the OpenAI API: send a chat (messages), completions (prompt) or embeddings (input) body.');
    const json = JSON.parse(request.body) as Record<string, unknown>;
    // Embeddings are never streamed, and strict servers refuse a `stream` there.
    const usage = stream && this.options.streamUsage !== false ? { stream_options: { ...(isObject(json.stream_options) ? json.stream_options : {}), include_usage: true } } : {};
    const body = JSON.stringify({ ...json, model: this.options.model, ...(format === 'input' ? {} : { stream }), ...usage });
    return this.read(async () => fetch(`${this.base}${path}`, { method: 'POST', headers: await this.headers(), body, signal }));
  }

  /** Runs a network step, turning its failures into the backend's errors. */
  private async read<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      if (error instanceof BackendError || error instanceof InvalidRequestError) throw error;
      if (error instanceof DOMException && error.name === 'TimeoutError') throw new BackendTimeoutError(this.options.timeoutMs, { cause: error });
      // Not kept as the cause: an HTTP client's error may quote the request's headers.
      throw new BackendError(this.scrub(`Model backend could not be reached: ${reachFailure(error)}`));
    }
  }
}

/**
 * Throws when the API's answer is the backend failing: a 5xx, or its refusal of the configured
 * key (401, 403), which is the operator's to fix and must not read as the caller's credentials.
 */
function refused(status: number, body: string): void {
  if (status === 401 || status === 403) throw new BackendError(`The external model API refused the configured API key (${status}): fix the key in its secret or environment variable: ${body.slice(0, MAX_ERROR_EXCERPT)}`);
  if (status >= 500) throw new BackendError(`Model backend answered ${status}: ${body.slice(0, MAX_ERROR_EXCERPT)}`);
}

/** The chunks of an OpenAI stream, up to `[DONE]`; an `error` event is the backend failing. */
async function* chunksOf(body: ReadableStream<Uint8Array>, scrub: (text: string) => string): AsyncGenerator<StreamChunk> {
  const events = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
  for await (const event of events) {
    if (event.data === '[DONE]') return;
    let chunk: unknown;
    try {
      chunk = JSON.parse(event.data);
    } catch {
      throw new BackendError(scrub(`Model backend sent an event that is not JSON: ${event.data.slice(0, 120)}`));
    }
    if (!isObject(chunk)) throw new BackendError('Model backend sent an event that is not a JSON object.');
    if (isObject(chunk.error)) throw new BackendError(scrub(`Model backend sent an error event: ${String(chunk.error.message ?? '').slice(0, MAX_ERROR_EXCERPT)}`));
    yield chunk;
  }
}

