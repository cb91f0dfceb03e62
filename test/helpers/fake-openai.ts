import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake API received: each call's path, authorization and body. */
export interface FakeCall {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: Record<string, unknown>;
}

/** How the next streamed answer behaves. */
export interface StreamScript {
  /** Resolves when the rest of the stream may be sent, after its first chunk. */
  hold?: Promise<void>;
  /** Cut the connection after the first chunk, as a crashed server would. */
  breakAfterFirst?: boolean;
}

/**
 * A local OpenAI-compatible API (`/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`,
 * `/v1/models`) that checks its bearer key and streams as OpenAI does (the usage last, when
 * `stream_options.include_usage` asks for it), for the external-model
 * backend's tests: a stream can be held after its first chunk or broken there.
 */
export class FakeOpenAi {
  public readonly calls: FakeCall[] = [];
  public script: StreamScript = {};
  private constructor(
    private readonly server: Server,
    public readonly url: string,
  ) {}

  public static async start(key: string): Promise<FakeOpenAi> {
    const handlers: ((req: IncomingMessage, res: ServerResponse) => void)[] = [];
    const server = createServer((req, res) => handlers[0]?.(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const fake = new FakeOpenAi(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`);
    handlers.push((req, res) => void fake.handle(req, res, key));
    return fake;
  }

  public close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse, key: string): Promise<void> {
    let text = '';
    for await (const c of req) text += String(c);
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    const path = (req.url ?? '').replace(/^\/v1/, '');
    this.calls.push({ path, authorization: req.headers.authorization, body });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (req.headers.authorization !== `Bearer ${key}`) return json(401, { error: { message: `Incorrect API key provided: ${String(req.headers.authorization).slice(7)}`, type: 'invalid_request_error', code: 'invalid_api_key' } });
    if (path === '/models') return json(200, { object: 'list', data: [{ id: String(body.model ?? 'upstream'), object: 'model' }] });
    const head = { id: 'up-1', created: 1, model: body.model };
    if (path === '/embeddings') {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      return json(200, { object: 'list', model: body.model, data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: [0.5, -1.25, index] })), usage: { prompt_tokens: inputs.length, total_tokens: inputs.length } });
    }
    const words = ['Hello', ' from', ' upstream'];
    if (!body.stream) {
      // As some servers answer: no usage, which the proxy then counts.
      if (path === '/completions') return json(200, { ...head, object: 'text_completion', choices: [{ index: 0, text: words.join(''), finish_reason: 'stop' }] });
      return json(200, { ...head, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: words.join('') }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 } });
    }
    const script = this.script;
    this.script = {};
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const send = (chunk: unknown) => new Promise<void>((resolve) => res.write(`data: ${JSON.stringify(chunk)}\n\n`, () => resolve()));
    const delta = (content: string) => ({ ...head, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] });
    await send(delta(words[0] as string));
    if (script.breakAfterFirst) {
      // Once the first chunk is on its way, as a server that crashes mid-answer.
      setTimeout(() => res.socket?.destroy(), 50);
      return;
    }
    await script.hold;
    for (const w of words.slice(1)) await send(delta(w));
    await send({ ...head, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    const options = body.stream_options as { include_usage?: boolean } | undefined;
    if (options?.include_usage) await send({ ...head, object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 } });
    res.end('data: [DONE]\n\n');
  }
}
