/**
 * The LLM backends at the AWS edge (mocked): Bedrock's Converse and ConverseStream answering
 * OpenAI's shapes, the caller's errors passed on and the backend's reported; the external
 * model's key read from Secrets Manager once, cached, never in a message.
 */
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { BedrockBackend } from '../../lambdas/adapters/aws/bedrock-backend.js';
import { SECRET_TTL_MS, secretApiKey } from '../../lambdas/adapters/aws/secret-api-key.js';
import { streamingHandler } from '../../lambdas/adapters/aws/response-stream.js';
import { envApiKey } from '../../lambdas/backends/openai.js';
import { Writable } from 'node:stream';
import { AnswerStream } from '../../lambdas/core/llm-stream.js';
import { toConverse } from '../../lambdas/core/converse.js';
import { AnswerAssembler } from '../../lambdas/core/llm-stream.js';
import type { BackendRequest } from '../../lambdas/core/ports.js';
import { parseScoringRequest } from '../../lambdas/core/protocol.js';

const bedrock = mockClient(BedrockRuntimeClient);
const secrets = mockClient(SecretsManagerClient);
afterEach(() => {
  bedrock.reset();
  secrets.reset();
});

const request = (json: unknown): BackendRequest => {
  const body = JSON.stringify(json);
  return { body, contentType: 'application/json', parsed: parseScoringRequest('application/json', body), requestId: 'r1' };
};
const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const backend = () => new BedrockBackend(new BedrockRuntimeClient({ region: 'eu-west-1' }), MODEL, 5_000);

describe('toConverse', () => {
  it('makes system prompts of system messages, joins turns of one role, and maps the sampling parameters', () => {
    const input = toConverse({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'user', content: [{ type: 'text', text: 'there' }] },
        { role: 'assistant', content: 'Hello' },
        { role: 'user', content: 'Bye' },
      ],
      max_tokens: 64,
      temperature: 0.2,
      top_p: 0.9,
      stop: 'END',
    });
    expect(input).toEqual({
      system: [{ text: 'Be brief.' }],
      messages: [
        { role: 'user', content: [{ text: 'Hi' }, { text: 'there' }] },
        { role: 'assistant', content: [{ text: 'Hello' }] },
        { role: 'user', content: [{ text: 'Bye' }] },
      ],
      inferenceConfig: { maxTokens: 64, temperature: 0.2, topP: 0.9, stopSequences: ['END'] },
    });
  });

  it('refuses what Converse with text cannot take, naming it', () => {
    expect(() => toConverse({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] })).toThrow("'messages[0].content[0]' is a 'image_url' part");
    expect(() => toConverse({ messages: [{ role: 'tool', content: 'x' }] })).toThrow("'messages[0].role' is 'tool'");
    expect(() => toConverse({ prompt: ['a', 'b'] })).toThrow("'prompt' must be one string");
    expect(() => toConverse({ messages: [{ role: 'user', content: 'x' }], tools: [] })).toThrow("'tools' is not supported");
  });
});

describe('BedrockBackend', () => {
  it('answers a chat as a chat.completion with the usage, and a prompt as a text_completion', async () => {
    bedrock.on(ConverseCommand).resolves({ output: { message: { role: 'assistant', content: [{ text: 'Hello' }, { text: ' you' }] } }, stopReason: 'max_tokens', usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 }, metrics: { latencyMs: 1 } });
    const chat = await backend().invoke(request({ messages: [{ role: 'user', content: 'hi' }] }));
    expect(JSON.parse(chat.body)).toMatchObject({ object: 'chat.completion', model: MODEL, choices: [{ message: { role: 'assistant', content: 'Hello you' }, finish_reason: 'length' }], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });
    expect(bedrock.commandCalls(ConverseCommand)[0]?.args[0].input).toMatchObject({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
    const completion = await backend().invoke(request({ prompt: 'hi' }));
    expect(JSON.parse(completion.body)).toMatchObject({ object: 'text_completion', choices: [{ text: 'Hello you', finish_reason: 'length' }] });
  });

  it('streams ConverseStream events as chat.completion chunks that assemble into the whole answer', async () => {
    async function* events() {
      yield { messageStart: { role: 'assistant' as const } };
      yield { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Hel' } } };
      yield { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'lo' } } };
      yield { messageStop: { stopReason: 'end_turn' as const } };
      yield { metadata: { usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 }, metrics: { latencyMs: 1 } } };
    }
    bedrock.on(ConverseStreamCommand).resolves({ stream: events() });
    const answer = await backend().stream(request({ messages: [{ role: 'user', content: 'hi' }], stream: true }), new AbortController().signal);
    if (!('chunks' in answer)) throw new Error('expected chunks');
    const assembler = new AnswerAssembler();
    const contents: string[] = [];
    for await (const chunk of answer.chunks) {
      assembler.add(chunk);
      contents.push(String((chunk.choices as { delta?: { content?: string } }[])[0]?.delta?.content ?? ''));
    }
    expect(contents.filter(Boolean)).toEqual(['Hel', 'lo']);
    expect(JSON.parse(assembler.text())).toMatchObject({ object: 'chat.completion', choices: [{ message: { content: 'Hello' }, finish_reason: 'stop' }], usage: { total_tokens: 3 } });
  });

  it("passes the caller's errors on with their status, and reports the backend's with the fix", async () => {
    bedrock.on(ConverseCommand).rejects(Object.assign(new Error('Input is too long'), { name: 'ValidationException' }));
    const refused = await backend().invoke(request({ messages: [{ role: 'user', content: 'hi' }] }));
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toEqual({ error: { message: 'Input is too long', type: 'invalid_request_error', param: null, code: 'ValidationException' } });
    bedrock.reset();
    bedrock.on(ConverseCommand).rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));
    await expect(backend().invoke(request({ messages: [{ role: 'user', content: 'hi' }] }))).rejects.toThrow(/failed \(AccessDeniedException\): the function may not invoke this model/);
    await expect(backend().invoke(request({ input: 'x' }))).rejects.toThrow('send a chat (messages) or completions (prompt) body');
  });
});

describe('secretApiKey', () => {
  it('reads the secret once per TTL, and names the secret, not the key, when it cannot', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: ' sk-from-secret \n' });
    let now = 0;
    const key = secretApiKey(new SecretsManagerClient({ region: 'eu-west-1' }), 'inference-tables/openai', () => now);
    expect(await Promise.all([key(), key()])).toEqual(['sk-from-secret', 'sk-from-secret']);
    now += SECRET_TTL_MS - 1;
    await key();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    now += 2;
    await key();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);

    secrets.reset();
    secrets.on(GetSecretValueCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const failing = secretApiKey(new SecretsManagerClient({ region: 'eu-west-1' }), 'inference-tables/openai');
    await expect(failing()).rejects.toThrow('The API key could not be read from the secret inference-tables/openai (AccessDeniedException)');
  });
});

describe('API keys', () => {
  it('refuses a key a header cannot carry, naming where it is and never the key', async () => {
    process.env.IT_KEY_WITH_NEWLINE = 'sk-abc\nsk-def';
    const error = (await envApiKey('IT_KEY_WITH_NEWLINE')().then(() => null, (e: unknown) => e)) as Error;
    expect(error.message).toBe('The API key in the environment variable IT_KEY_WITH_NEWLINE holds spaces, line breaks or control characters: store the key alone.');
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"api_key": "sk-abc"}' });
    const json = (await secretApiKey(new SecretsManagerClient({ region: 'eu-west-1' }), 'inference-tables/openai')().then(() => null, (e: unknown) => e)) as Error;
    expect(json.message).toContain('The API key in the secret inference-tables/openai holds spaces');
    expect(json.message).not.toContain('sk-abc');
    delete process.env.IT_KEY_WITH_NEWLINE;
  });
});

describe('the streaming Lambda handler', () => {
  it('captures and returns even when the response stream is gone before the answer starts', async () => {
    const controller = new AbortController();
    // A backend whose first chunk never comes until the call is aborted.
    async function* never(): AsyncGenerator<Record<string, unknown>> {
      await new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve()));
      yield* [];
    }
    const stream = new AnswerStream(never(), controller, 0);
    let captured = false;
    const result = { statusCode: 200, headers: {}, body: '', stream, captured: stream.ended.then(() => void (captured = true)) };
    const runtime = {
      streamifyResponse: (fn: unknown) => fn,
      HttpResponseStream: {
        from: (s: Writable) => {
          s.destroy(new Error('the caller left'));
          return s;
        },
      },
    };
    const handler = streamingHandler(async () => result, runtime) as (event: unknown, out: Writable, context: unknown) => Promise<void>;
    await handler({}, new Writable({ write: (_c, _e, done) => done() }), { getRemainingTimeInMillis: () => 60_000 });
    expect(captured).toBe(true);
    expect((await stream.ended).end).toBe('client-disconnected');
  });
});
