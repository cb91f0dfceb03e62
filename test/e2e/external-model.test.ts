/**
 * An external model behind an endpoint (the AI Gateway's first case): a local OpenAI-compatible
 * API with a bearer key, called through the proxy with the official `openai` SDK. The key is
 * read from the environment and reaches no answer, table or file; a stream is passed on as it
 * comes (its first chunk reaches the caller while the API holds the rest); a stream the API
 * breaks, or a key it refuses, is reported as the backend failing.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../lambdas/core/config/index.js';
import type { LocalStack } from '../../lambdas/wiring/local.js';
import { configWith } from '../helpers/config.js';
import { FakeOpenAi } from '../helpers/fake-openai.js';
import { startLocalStack } from '../helpers/local.js';
import { queryRows } from '../helpers/query.js';

const KEY = 'sk-test-7f3a9c1e5b2d4f6a8c0e';
const KEY_ENV = 'IT_EXTERNAL_MODEL_KEY';
let fake: FakeOpenAi;
let config: Config;
let dir: string;
let stack: LocalStack;
let client: OpenAI;

beforeAll(async () => {
  process.env[KEY_ENV] = KEY;
  fake = await FakeOpenAi.start(KEY);
  config = configWith((c) => {
    c.models.push(
      { name: 'gpt', versions: [{ version: '1', stage: 'Production', backend: { type: 'openai', base_url: fake.url, model: 'upstream-model', api_key: { env: KEY_ENV } } }] },
      { name: 'gpt-badkey', versions: [{ version: '1', stage: 'Production', backend: { type: 'openai', base_url: fake.url, model: 'upstream-model', api_key: { env: 'IT_EXTERNAL_WRONG_KEY' } } }] },
    );
    c.endpoints.push(
      { name: 'external', served_entities: [{ entity_name: 'gpt', entity_version: '1', traffic_percentage: 100 }] },
      { name: 'badkey', served_entities: [{ entity_name: 'gpt-badkey', entity_version: '1', traffic_percentage: 100 }] },
    );
  });
  process.env.IT_EXTERNAL_WRONG_KEY = 'sk-wrong-key-0000';
  dir = await mkdtemp(join(tmpdir(), 'it-external-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
  client = new OpenAI({ baseURL: `${stack.server.url}/serving-endpoints`, apiKey: 'unused-locally', maxRetries: 0 });
});

afterAll(async () => {
  await stack?.close();
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
  delete process.env[KEY_ENV];
  delete process.env.IT_EXTERNAL_WRONG_KEY;
});

describe('an external model behind an endpoint', () => {
  it('answers chat, completions and embeddings through the API with the upstream model and the key', async () => {
    const chat = await client.chat.completions.create({ model: 'external', messages: [{ role: 'user', content: 'hi' }] });
    expect(chat.choices[0]?.message.content).toBe('Hello from upstream');
    const completion = await client.completions.create({ model: 'external', prompt: 'hi' });
    expect(completion.choices[0]?.text).toBe('Hello from upstream');
    const embedding = await client.embeddings.create({ model: 'external', input: ['a', 'b'] });
    expect(embedding.data.map((d) => d.embedding)).toEqual([
      [0.5, -1.25, 0],
      [0.5, -1.25, 1],
    ]);
    const upstream = fake.calls.slice(-3);
    expect(upstream.map((c) => [c.path, c.body.model, c.authorization])).toEqual([
      ['/chat/completions', 'upstream-model', `Bearer ${KEY}`],
      ['/completions', 'upstream-model', `Bearer ${KEY}`],
      ['/embeddings', 'upstream-model', `Bearer ${KEY}`],
    ]);
    // The API is asked for floats; the proxy encodes them as the SDK asked (base64).
    expect(upstream[2]?.body).not.toHaveProperty('encoding_format');
  });

  it('passes a stream on as it comes: the first chunk reaches the caller while the API holds the rest', async () => {
    let release!: () => void;
    fake.script = { hold: new Promise<void>((resolve) => (release = resolve)) };
    const stream = await client.chat.completions.create({ model: 'external', messages: [{ role: 'user', content: 'hi' }], stream: true, client_request_id: 'held' } as never);
    const pieces: string[] = [];
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream as unknown as AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
      chunks.push(chunk);
      pieces.push(chunk.choices[0]?.delta.content ?? '');
      // Only the first chunk was sent: the rest comes once the API is released.
      if (pieces.length === 1) release();
    }
    expect(pieces.join('')).toBe('Hello from upstream');
    // The proxy asked the API for its usage, to capture it; the caller, who did not ask, gets none.
    expect(fake.calls.at(-1)?.body.stream_options).toEqual({ include_usage: true });
    expect(chunks.filter((c) => 'usage' in c || c.choices.length === 0)).toEqual([]);
    await stack.stream.flush();
    const [row] = await queryRows(dir, config, `SELECT streamed, response, logging_error_codes AS codes FROM external_payload WHERE client_request_id = 'held'`);
    expect(row).toMatchObject({ streamed: true, codes: [] });
    expect(JSON.parse(String(row?.response))).toMatchObject({ choices: [{ message: { content: 'Hello from upstream' }, finish_reason: 'stop' }], usage: { total_tokens: 6 } });
    const usage = await queryRows(dir, config, `SELECT input_tokens, output_tokens, tokens_counted FROM endpoint_usage WHERE client_request_id = 'held'`);
    expect(usage).toEqual([{ input_tokens: 3, output_tokens: 3, tokens_counted: false }]);
  });

  it('counts the tokens of an answer the API sent without its usage, and says they were counted', async () => {
    await client.completions.create({ model: 'external', prompt: 'hi', client_request_id: 'no-usage' } as never);
    await stack.stream.flush();
    // o200k_base: 'hi' is 1 token, 'Hello from upstream' 3.
    const usage = await queryRows(dir, config, `SELECT api, input_tokens, output_tokens, tokens_counted FROM endpoint_usage WHERE client_request_id = 'no-usage'`);
    expect(usage).toEqual([{ api: 'completions', input_tokens: 1, output_tokens: 3, tokens_counted: true }]);
  });

  it('tells the caller when the API breaks a stream, and captures what was sent with its error code', async () => {
    fake.script = { breakAfterFirst: true };
    const stream = await client.chat.completions.create({ model: 'external', messages: [{ role: 'user', content: 'hi' }], stream: true, client_request_id: 'broken' } as never);
    const pieces: string[] = [];
    const error = await (async () => {
      for await (const chunk of stream as unknown as AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) pieces.push(chunk.choices[0]?.delta.content ?? '');
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toContain('broke the stream');
    expect(pieces).toEqual(['Hello']);
    await stack.stream.flush();
    const [row] = await queryRows(dir, config, `SELECT streamed, json_extract_scalar(response, '$.choices[0].message.content') AS sent, logging_error_codes AS codes FROM external_payload WHERE client_request_id = 'broken'`);
    expect(row).toEqual({ streamed: true, sent: 'Hello', codes: ['STREAM_BACKEND_FAILED'] });
    // A broken stream cost tokens too: the prompt (8 for one short message) and what was sent.
    const usage = await queryRows(dir, config, `SELECT input_tokens, output_tokens, tokens_counted FROM endpoint_usage WHERE client_request_id = 'broken'`);
    expect(usage).toEqual([{ input_tokens: 8, output_tokens: 1, tokens_counted: true }]);
  });

  it('answers a key the API refuses as the backend failing (502), naming the fix, never the key', async () => {
    const error = await client.chat.completions.create({ model: 'badkey', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((error as Error).message).toContain('refused the configured API key');
    expect((error as Error).message).not.toContain('sk-wrong-key-0000');
  });

  it('keeps the keys out of every file the capture writes', async () => {
    await stack.stream.flush();
    for (const f of await readdir(dir, { recursive: true })) {
      const bytes = await readFile(join(dir, f)).catch(() => Buffer.alloc(0));
      expect(bytes.includes(KEY), f).toBe(false);
      expect(bytes.includes('sk-wrong-key-0000'), f).toBe(false);
    }
  });
});
