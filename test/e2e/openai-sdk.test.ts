/**
 * The OpenAI-compatible routes, called with the official `openai` SDK as users call Databricks
 * (base URL `…/serving-endpoints`, `model` naming the endpoint): chat, completions and
 * embeddings with the SDK's default options, each captured in the endpoint's table; an
 * unknown model is the SDK's NotFoundError and a row of `unrouted_payload`; a streamed call
 * the backend cannot stream is refused loudly, never answered whole.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../lambdas/wiring/local.js';
import { configWith } from '../helpers/config.js';
import { runLocalRefresh, startLocalStack } from '../helpers/local.js';
import { queryRows } from '../helpers/query.js';

const config = configWith(() => undefined);
let dir: string;
let stack: LocalStack;
let client: OpenAI;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-openai-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
  client = new OpenAI({ baseURL: `${stack.server.url}/serving-endpoints`, apiKey: 'unused-locally', maxRetries: 0 });
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the OpenAI SDK against the local stack', () => {
  it('chats, completes and embeds (base64 by default), each call a row of the endpoint’s table', async () => {
    const chat = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello there' }] });
    expect(chat.choices[0]?.message.content).toBe('hello there');
    expect(chat.usage?.prompt_tokens).toBe(2);

    const completion = await client.completions.create({ model: 'chat', prompt: 'once upon a time' });
    expect(completion.choices[0]?.text).toBe('once upon a time');

    // The SDK asks for base64 and decodes it: the vector must be the model's floats.
    const floats = await client.embeddings.create({ model: 'chat', input: ['a', 'b'], encoding_format: 'float' });
    const base64 = await client.embeddings.create({ model: 'chat', input: ['a', 'b'] });
    expect(floats.data[0]?.embedding).toHaveLength(8);
    for (const [i, item] of base64.data.entries()) {
      const expected = (floats.data[i]?.embedding ?? []).map((v) => Math.fround(v));
      expect(item.embedding).toEqual(expected);
    }

    await stack.stream.flush();
    const rows = await queryRows(dir, config, `SELECT status_code, request_format, json_extract_scalar(request, '$.model') AS model FROM chat_payload ORDER BY timestamp_ms`);
    expect(rows).toEqual([
      { status_code: 200, request_format: 'messages', model: 'chat' },
      { status_code: 200, request_format: 'prompt', model: 'chat' },
      { status_code: 200, request_format: 'input', model: 'chat' },
      { status_code: 200, request_format: 'input', model: 'chat' },
    ]);
    // The usage table: a row per call, with the tokens the model reported (a word each, for echo).
    const usage = await queryRows(dir, config, 'SELECT api, status_code, input_tokens, output_tokens, tokens_counted, streamed, requester FROM endpoint_usage WHERE endpoint = \'chat\' ORDER BY request_time');
    expect(usage).toEqual([
      { api: 'chat', status_code: 200, input_tokens: 2, output_tokens: 2, tokens_counted: false, streamed: false, requester: 'local:anonymous' },
      { api: 'completions', status_code: 200, input_tokens: 4, output_tokens: 4, tokens_counted: false, streamed: false, requester: 'local:anonymous' },
      { api: 'embeddings', status_code: 200, input_tokens: 2, output_tokens: 0, tokens_counted: false, streamed: false, requester: 'local:anonymous' },
      { api: 'embeddings', status_code: 200, input_tokens: 2, output_tokens: 0, tokens_counted: false, streamed: false, requester: 'local:anonymous' },
    ]);
    // Every row names what served it, as the seed's join does.
    const served = await queryRows(dir, config, 'SELECT s.endpoint, s.entity_name, s.entity_version, s.backend_type, s.active, count(*) AS n FROM chat_payload p JOIN served_entities s USING (served_entity_id) GROUP BY 1, 2, 3, 4, 5');
    expect(served).toEqual([{ endpoint: 'chat', entity_name: 'echo', entity_version: '1', backend_type: 'builtin', active: true, n: 4 }]);
  });

  it('answers an unknown model with the SDK’s NotFoundError, captured as unrouted', async () => {
    const error = await client.chat.completions.create({ model: 'no-such-endpoint', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    expect((error as Error).message).toContain("'no-such-endpoint' does not exist");
    // A wrong method: OpenAI's error shape, captured as unrouted (no body names an endpoint).
    const get = await fetch(`${stack.server.url}/serving-endpoints/chat/completions`);
    expect(get.status).toBe(405);
    expect(((await get.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
    await stack.stream.flush();
    const rows = await queryRows(dir, config, `SELECT status_code, request_metadata['endpoint_name'] AS name FROM unrouted_payload ORDER BY timestamp_ms`);
    expect(rows).toEqual([
      { status_code: 404, name: 'no-such-endpoint' },
      { status_code: 405, name: '/serving-endpoints/chat/completions' },
    ]);
  });

  it('streams a chat answer as it comes, and captures the answer the caller received, with its time to first token', async () => {
    const stream = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'one two three four' }], stream: true, stream_options: { include_usage: true } });
    const pieces: string[] = [];
    let usage: unknown = null;
    for await (const chunk of stream) {
      pieces.push(chunk.choices[0]?.delta.content ?? '');
      if (chunk.usage) usage = chunk.usage;
    }
    expect(pieces.filter(Boolean)).toEqual(['one ', 'two ', 'three ', 'four']);
    expect(usage).toEqual({ prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 });
    await stack.stream.flush();
    const [row] = await queryRows(dir, config, `SELECT status_code, streamed, time_to_first_token_ms AS ttft, response, logging_error_codes AS codes FROM chat_payload WHERE streamed`);
    expect(row).toMatchObject({ status_code: 200, streamed: true, codes: [] });
    expect(Number(row?.ttft)).toBeGreaterThanOrEqual(0);
    const answer = JSON.parse(String(row?.response));
    expect(answer).toMatchObject({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'one two three four' }, finish_reason: 'stop' }], usage });
    const [used] = await queryRows(dir, config, 'SELECT input_tokens, output_tokens, tokens_counted, streamed, time_to_first_token_ms AS ttft FROM endpoint_usage WHERE streamed');
    expect(used).toMatchObject({ input_tokens: 4, output_tokens: 4, tokens_counted: false, streamed: true });
  });

  it('captures a stream the caller left midway with what was sent and its error code', async () => {
    const words = Array.from({ length: 50_000 }, (_, i) => `w${i}`).join(' ');
    const controller = new AbortController();
    const response = await fetch(`${stack.server.url}/serving-endpoints/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: words }], stream: true, client_request_id: 'left-midway' }),
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toMatch(/^data: \{/);
    controller.abort();
    await expect.poll(async () => {
      await stack.stream.flush();
      return queryRows(dir, config, `SELECT logging_error_codes AS codes, length(json_extract_scalar(response, '$.choices[0].message.content')) AS sent FROM chat_payload WHERE client_request_id = 'left-midway'`);
    }, { timeout: 10_000 }).toEqual([{ codes: ['STREAM_CLIENT_DISCONNECTED'], sent: expect.any(Number) }]);
    const [row] = await queryRows(dir, config, `SELECT length(json_extract_scalar(response, '$.choices[0].message.content')) AS sent FROM chat_payload WHERE client_request_id = 'left-midway'`);
    expect(Number(row?.sent)).toBeLessThan(words.length);
  });

  it('refuses a stream its backend cannot send, and embeddings streamed, with a 400 naming the fix, captured', async () => {
    const error = await client.chat.completions.create({ model: 'iris', messages: [{ role: 'user', content: 'hi' }], stream: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toContain('"stream": false');
    const embeddings = await fetch(`${stack.server.url}/serving-endpoints/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'chat', input: 'x', stream: true }) });
    expect(embeddings.status).toBe(400);
    expect(((await embeddings.json()) as { error: { message: string } }).error.message).toContain('Embeddings are answered whole');
    const bad = await client.embeddings.create({ model: 'chat', input: 'x', encoding_format: 'hex' as never }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('invalid_parameter_value');
    await stack.stream.flush();
    expect(await queryRows(dir, config, `SELECT status_code FROM chat_payload WHERE status_code = 400`)).toHaveLength(2);
    expect(await queryRows(dir, config, `SELECT status_code FROM iris_payload WHERE status_code = 400`)).toHaveLength(1);
  });

  it('unpacks every call the SDK made into the unpacked table: chat, completions, embeddings, streams', async () => {
    await runLocalRefresh({ config, dataDir: dir, endpoints: ['chat'] });
    const rows = await queryRows(
      dir,
      config,
      `SELECT u.row_index, u.input, u.finish_reason, p.request_format AS api, COALESCE(p.streamed, false) AS streamed
       FROM chat_unpacked u JOIN chat_payload p USING (request_id) WHERE p.client_request_id IS DISTINCT FROM 'left-midway' ORDER BY p.timestamp_ms, u.row_index`,
    );
    expect(rows).toEqual([
      { row_index: 0, input: 'hello there', finish_reason: 'stop', api: 'messages', streamed: false },
      { row_index: 0, input: 'once upon a time', finish_reason: 'stop', api: 'prompt', streamed: false },
      { row_index: 0, input: 'a', finish_reason: null, api: 'input', streamed: false },
      { row_index: 1, input: 'b', finish_reason: null, api: 'input', streamed: false },
      { row_index: 0, input: 'a', finish_reason: null, api: 'input', streamed: false },
      { row_index: 1, input: 'b', finish_reason: null, api: 'input', streamed: false },
      { row_index: 0, input: 'one two three four', finish_reason: 'stop', api: 'messages', streamed: true },
    ]);
  });
});
