import { describe, expect, it } from 'vitest';
import { AnswerAssembler, AnswerStream, SSE_DONE, type StreamChunk } from '../../lambdas/core/llm-stream.js';
import { encodeEmbeddings, openAiEncoding, openAiErrorBody, readOpenAiCall } from '../../lambdas/core/openai-api.js';
import { parseRoute } from '../../lambdas/core/routes.js';

describe('the OpenAI-compatible routes', () => {
  it('are recognised by path, and a wrong method keeps the API for its error shape', () => {
    expect(parseRoute('POST', '/serving-endpoints/chat/completions')).toEqual({ kind: 'openai', api: 'chat' });
    expect(parseRoute('POST', '/serving-endpoints/completions')).toEqual({ kind: 'openai', api: 'completions' });
    expect(parseRoute('POST', '/serving-endpoints/embeddings')).toEqual({ kind: 'openai', api: 'embeddings' });
    expect(parseRoute('GET', '/serving-endpoints/embeddings')).toEqual({ kind: 'method-not-allowed', allowed: 'POST', openai: 'embeddings' });
    // An endpoint named like a segment of them keeps its own routes.
    expect(parseRoute('POST', '/serving-endpoints/chat/invocations')).toEqual({ kind: 'invoke-endpoint', endpoint: 'chat' });
  });

  it('read the endpoint from `model`, and check the API’s field and the encoding', () => {
    expect(readOpenAiCall('{"model": "chat", "input": "x"}').model).toBe('chat');
    expect(() => readOpenAiCall('{"input": "x"}')).toThrow("'model' is a required property");
    expect(() => readOpenAiCall('[1]')).toThrow('must be a JSON object');
    expect(() => readOpenAiCall('{')).toThrow('could not parse the JSON body');
    expect(() => openAiEncoding('chat', readOpenAiCall('{"model": "m", "prompt": "x"}'))).toThrow("'messages' is a required property of /serving-endpoints/chat/completions");
    expect(openAiEncoding('embeddings', readOpenAiCall('{"model": "m", "input": "x", "encoding_format": "base64"}'))).toBe('base64');
    expect(openAiEncoding('embeddings', readOpenAiCall('{"model": "m", "input": "x"}'))).toBe('float');
    expect(() => openAiEncoding('embeddings', readOpenAiCall('{"model": "m", "input": "x", "encoding_format": 1}'))).toThrow("'encoding_format' must be one of 'float', 'base64'; got 1");
  });

  it('answer errors in OpenAI’s shape, an unknown endpoint as model_not_found', () => {
    expect(JSON.parse(openAiErrorBody({ status: 404, errorCode: 'ENDPOINT_NOT_FOUND', message: 'gone' }))).toEqual({ error: { message: 'gone', type: 'invalid_request_error', param: null, code: 'model_not_found' } });
    expect(JSON.parse(openAiErrorBody({ status: 502, errorCode: 'BAD_GATEWAY', message: 'x' })).error.type).toBe('server_error');
    expect(JSON.parse(openAiErrorBody({ status: 429, errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'x' })).error.type).toBe('rate_limit_error');
  });

  it('encode embeddings as float32 little-endian base64, leaving other answers as they are', () => {
    const body = JSON.stringify({ object: 'list', data: [{ index: 0, embedding: [0.5, -2, 1e-3] }, { index: 1, embedding: 'already' }] });
    const encoded = JSON.parse(encodeEmbeddings(body, 'base64')) as { data: { embedding: string }[] };
    const bytes = Buffer.from(encoded.data[0]?.embedding ?? '', 'base64');
    expect([0, 1, 2].map((i) => bytes.readFloatLE(i * 4))).toEqual([0.5, -2, Math.fround(1e-3)]);
    expect(encoded.data[1]?.embedding).toBe('already');
    expect(encodeEmbeddings(body, 'float')).toBe(body);
    expect(encodeEmbeddings('not json', 'base64')).toBe('not json');
  });
});

describe('a streamed answer', () => {
  it('assembles chunks of several choices, refusals and the usage into the whole object', () => {
    const a = new AnswerAssembler();
    const head = { id: 'c1', created: 1, model: 'm', object: 'chat.completion.chunk' };
    a.add({ ...head, choices: [{ index: 1, delta: { role: 'assistant', content: 'B' } }, { index: 0, delta: { role: 'assistant', content: 'A' } }] });
    a.add({ ...head, choices: [{ index: 0, delta: { content: 'a' } }, { index: 1, delta: { refusal: 'no' }, finish_reason: 'stop' }] });
    a.add({ ...head, choices: [{ index: 0, delta: {}, finish_reason: 'length' }] });
    a.add({ ...head, choices: [], usage: { total_tokens: 3 } });
    expect(JSON.parse(a.text())).toEqual({
      id: 'c1',
      created: 1,
      model: 'm',
      object: 'chat.completion',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'Aa' }, finish_reason: 'length' },
        { index: 1, message: { role: 'assistant', content: 'B', refusal: 'no' }, finish_reason: 'stop' },
      ],
      usage: { total_tokens: 3 },
    });
    const c = new AnswerAssembler();
    c.add({ id: 'x', object: 'text_completion', choices: [{ index: 0, text: 'he' }] });
    c.add({ id: 'x', object: 'text_completion', choices: [{ index: 0, text: 'llo', finish_reason: 'stop' }] });
    expect(JSON.parse(c.text())).toMatchObject({ object: 'text_completion', choices: [{ text: 'hello', finish_reason: 'stop' }] });
  });

  it('ends with [DONE], or with an error event when the backend breaks it, and says how it ended', async () => {
    async function* chunks(fail: boolean): AsyncGenerator<StreamChunk> {
      yield { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'hi' } }] };
      if (fail) throw new Error('connection reset');
    }
    let clock = 0;
    const whole = new AnswerStream(chunks(false), new AbortController(), 0, () => (clock += 5));
    const events: string[] = [];
    for await (const e of whole) events.push(e);
    expect(events.at(-1)).toBe(SSE_DONE);
    expect(await whole.ended).toMatchObject({ end: 'complete', timeToFirstTokenMs: 5 });

    const broken = new AnswerStream(chunks(true), new AbortController(), 0);
    const sent: string[] = [];
    for await (const e of broken) sent.push(e);
    expect(JSON.parse(sent.at(-1)?.slice(6) ?? '{}')).toMatchObject({ error: { code: 'stream_backend_failed' } });
    expect((await broken.ended).end).toBe('backend-failed');
    expect(JSON.parse((await broken.ended).body)).toMatchObject({ choices: [{ message: { content: 'hi' } }] });
  });

  it("passes the usage on only to a caller that asked for it, and captures it either way", async () => {
    async function* chunks(): AsyncGenerator<StreamChunk> {
      yield { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'hi' } }], usage: null };
      yield { object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } };
    }
    for (const asked of [true, false]) {
      const stream = new AnswerStream(chunks(), new AbortController(), 0, undefined, asked);
      const events: string[] = [];
      for await (const e of stream) events.push(e);
      expect(events.length, String(asked)).toBe(asked ? 3 : 2);
      expect(events.some((e) => e.includes('usage')), String(asked)).toBe(asked);
      expect(JSON.parse((await stream.ended).body)).toMatchObject({ usage: { prompt_tokens: 1, completion_tokens: 1 } });
    }
  });

  it('ends when cancelled before it was read, and cut at its deadline with an error event the caller can read', async () => {
    async function* slow(signal: AbortSignal): AsyncGenerator<StreamChunk> {
      yield { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'partial' } }] };
      if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      throw signal.reason as Error;
    }
    const never = new AbortController();
    const unread = new AnswerStream(slow(never.signal), never, 0);
    unread.cancel('client');
    expect((await unread.ended).end).toBe('client-disconnected');
    expect(never.signal.aborted).toBe(true);

    const controller = new AbortController();
    const cut = new AnswerStream(slow(controller.signal), controller, 0);
    const events: string[] = [];
    for await (const e of cut) {
      events.push(e);
      if (events.length === 1) cut.cancel('deadline');
    }
    expect(JSON.parse(events.at(-1)?.slice(6) ?? '{}')).toMatchObject({ error: { code: 'stream_deadline_exceeded' } });
    expect(await cut.ended).toMatchObject({ end: 'deadline-exceeded' });
    expect(JSON.parse((await cut.ended).body)).toMatchObject({ choices: [{ message: { content: 'partial' } }] });
  });

  it('assembles tool calls by index, and takes the head from the first chunk that has it', () => {
    const a = new AnswerAssembler();
    a.add({ id: '', object: '', choices: [], prompt_filter_results: [] });
    a.add({ id: 'c2', model: 'gpt', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', tool_calls: [{ index: 0, id: 't1', type: 'function', function: { name: 'get_', arguments: '{"ci' } }] } }] });
    a.add({ id: 'c2', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { name: 'weather', arguments: 'ty":"Oslo"}' } }] }, finish_reason: 'tool_calls' }] });
    expect(JSON.parse(a.text())).toMatchObject({
      id: 'c2',
      model: 'gpt',
      choices: [{ message: { tool_calls: [{ id: 't1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] }, finish_reason: 'tool_calls' }],
    });
  });
});
