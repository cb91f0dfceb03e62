/**
 * Databricks' own provider for the Vercel AI SDK (`@databricks/ai-sdk-provider`), pointed at
 * the local stack as at a workspace's `…/serving-endpoints`: a generated and a streamed chat
 * answer reach the caller whole (the AI SDK read an empty string from an answer it asked to
 * stream when streams were ignored), and each call is a row of the payload and usage tables.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabricksProvider } from '@databricks/ai-sdk-provider';
import { generateText, streamText } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../lambdas/wiring/local.js';
import { configWith } from '../helpers/config.js';
import { startLocalStack } from '../helpers/local.js';
import { queryRows } from '../helpers/query.js';

const config = configWith(() => undefined);
let dir: string;
let stack: LocalStack;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-ai-sdk-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("Databricks' AI SDK provider against the local stack", () => {
  it('generates and streams chat answers, each a row of the payload and usage tables', async () => {
    const provider = createDatabricksProvider({ baseURL: `${stack.server.url}/serving-endpoints`, headers: { 'x-client': 'ai-sdk' } });
    const model = provider.chatCompletions('chat');

    const generated = await generateText({ model, prompt: 'red green blue', maxRetries: 0 });
    expect(generated.text).toBe('red green blue');

    const streamed = streamText({ model, prompt: 'one two three four five', maxRetries: 0 });
    const parts: string[] = [];
    for await (const part of streamed.textStream) parts.push(part);
    expect(parts.join('')).toBe('one two three four five');
    // Chunks, not one whole answer.
    expect(parts.length).toBeGreaterThan(1);

    await stack.stream.flush();
    const rows = await queryRows(
      dir,
      config,
      `SELECT COALESCE(streamed, false) AS streamed, json_extract_scalar(response, '$.choices[0].message.content') AS answer, logging_error_codes AS codes FROM chat_payload ORDER BY timestamp_ms`,
    );
    expect(rows).toEqual([
      { streamed: false, answer: 'red green blue', codes: [] },
      { streamed: true, answer: 'one two three four five', codes: [] },
    ]);
    const usage = await queryRows(dir, config, 'SELECT api, status_code, streamed, input_tokens, output_tokens, tokens_counted FROM endpoint_usage ORDER BY request_time');
    expect(usage).toEqual([
      { api: 'chat', status_code: 200, streamed: false, input_tokens: 3, output_tokens: 3, tokens_counted: false },
      { api: 'chat', status_code: 200, streamed: true, input_tokens: 5, output_tokens: 5, tokens_counted: false },
    ]);
  });
});
