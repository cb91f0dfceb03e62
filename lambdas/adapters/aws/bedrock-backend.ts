import { type BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { type ConverseInput, chunksFromConverse, fromConverse, toConverse } from '../../core/converse.js';
import { BackendError, BackendTimeoutError, InvalidRequestError } from '../../core/errors.js';
import type { BackendRequest, BackendResponse, BackendStreamAnswer, ModelBackend } from '../../core/ports.js';

/** Bedrock's errors that are the caller's request, answered with their status as the model's own 4xx. */
const CALLER_ERRORS: Readonly<Record<string, number>> = { ValidationException: 400, ThrottlingException: 429, ServiceQuotaExceededException: 429 };

/** What to do about an error that is the backend's, by its name. */
const FIXES: Readonly<Record<string, string>> = {
  AccessDeniedException: "the function may not invoke this model: deploy again (the template grants the configured model ids), and enable the model's access in the Bedrock console",
  ResourceNotFoundException: 'the model id does not exist in this region: fix backend.model_id or backend.region in the configuration',
  ModelNotReadyException: 'the model is not ready: try again shortly',
  ModelTimeoutException: 'the model took too long: lower max_tokens or raise backend.timeout_ms',
};

/**
 * A model of Amazon Bedrock, called with the Converse API (ConverseStream for `"stream": true`)
 * and answering chat and completions bodies as OpenAI's objects. Embeddings are refused (400):
 * Converse has none.
 */
export class BedrockBackend implements ModelBackend {
  public constructor(
    private readonly client: BedrockRuntimeClient,
    private readonly modelId: string,
    private readonly timeoutMs: number,
  ) {}

  public async invoke(request: BackendRequest): Promise<BackendResponse> {
    const { chat, input } = this.converseOf(request);
    try {
      const out = await this.client.send(new ConverseCommand({ modelId: this.modelId, ...input }), { abortSignal: AbortSignal.timeout(this.timeoutMs) });
      const text = (out.output?.message?.content ?? []).map((b) => b.text ?? '').join('');
      const body = fromConverse(chat, { text, stopReason: out.stopReason, usage: out.usage }, this.head(request));
      return { status: 200, body: JSON.stringify(body), contentType: 'application/json' };
    } catch (error) {
      return this.failed(error);
    }
  }

  public async stream(request: BackendRequest, signal: AbortSignal): Promise<BackendStreamAnswer> {
    const { chat, input } = this.converseOf(request);
    // The timeout runs until the stream starts: a stream may then last as long as the model writes.
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { name: 'TimeoutError' })), this.timeoutMs);
    try {
      const out = await this.client.send(new ConverseStreamCommand({ modelId: this.modelId, ...input }), { abortSignal: AbortSignal.any([signal, timer.signal]) }).finally(() => clearTimeout(timeout));
      if (!out.stream) throw new BackendError(`Bedrock model ${this.modelId} answered a stream without events.`);
      return { chunks: chunksFromConverse(chat, out.stream, this.head(request)) };
    } catch (error) {
      return { whole: this.failed(error) };
    }
  }

  private converseOf(request: BackendRequest): { chat: boolean; input: ConverseInput } {
    const parsed = request.parsed;
    if (parsed.kind !== 'llm' || parsed.format === 'input') {
      throw new InvalidRequestError('Invalid input. This served entity is a Bedrock model behind the Converse API: send a chat (messages) or completions (prompt) body.');
    }
    return { chat: parsed.format === 'messages', input: toConverse(parsed.json) };
  }

  private head(request: BackendRequest) {
    return { id: `chatcmpl-${request.requestId}`, model: this.modelId, created: Math.floor(Date.now() / 1000) };
  }

  /** The caller's errors as answers (their status and OpenAI's error shape); the backend's thrown. */
  private failed(error: unknown): BackendResponse {
    const e = error as Error;
    if (e instanceof InvalidRequestError || e instanceof BackendError) throw e;
    if (e.name === 'AbortError' || e.name === 'TimeoutError') throw new BackendTimeoutError(this.timeoutMs, { cause: error });
    const status = CALLER_ERRORS[e.name];
    if (status) {
      const type = status === 429 ? 'rate_limit_error' : 'invalid_request_error';
      return { status, body: JSON.stringify({ error: { message: String(e.message).slice(0, 500), type, param: null, code: e.name } }), contentType: 'application/json' };
    }
    const fix = FIXES[e.name] ?? "check the model's availability in this region and the function's log";
    throw new BackendError(`Bedrock model ${this.modelId} failed (${e.name}): ${fix}.`, { cause: error });
  }
}
