/**
 * Text metrics of an LLM endpoint, as a user gets them: calls made with the `openai` SDK
 * (whole and streamed, one with an empty prompt), a refresh, then the unpacked rows and the
 * profile metrics of the token counts, lengths, finish reasons, empty answers, time to first
 * token and output tokens per second, each like any other column.
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
const rows = (sql: string) => queryRows(dir, config, sql);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-llm-metrics-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
  const client = new OpenAI({ baseURL: `${stack.server.url}/serving-endpoints`, apiKey: 'unused-locally', maxRetries: 0 });
  for (const content of ['one two three', 'four five', '']) {
    await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content }], client_request_id: `whole-${content.length}` } as never);
  }
  const stream = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'six seven eight nine' }], stream: true, client_request_id: 'streamed' } as never);
  for await (const _ of stream as unknown as AsyncIterable<unknown>) void _;
  await stack.stream.flush();
  await runLocalRefresh({ config, dataDir: dir, endpoints: ['chat'] });
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the text metrics of an LLM endpoint', () => {
  it('puts them on each unpacked row', async () => {
    const unpacked = await rows(
      `SELECT client_request_id AS id, prompt_tokens, completion_tokens, prompt_chars, answer_chars, finish_reason, empty_answer, refusal, time_to_first_token_ms IS NOT NULL AS timed FROM chat_unpacked ORDER BY client_request_id`,
    );
    expect(unpacked).toEqual([
      { id: 'streamed', prompt_tokens: 4, completion_tokens: 4, prompt_chars: 20, answer_chars: 20, finish_reason: 'stop', empty_answer: 0, refusal: 0, timed: true },
      { id: 'whole-0', prompt_tokens: 0, completion_tokens: 0, prompt_chars: 0, answer_chars: 0, finish_reason: 'stop', empty_answer: 1, refusal: 0, timed: false },
      { id: 'whole-13', prompt_tokens: 3, completion_tokens: 3, prompt_chars: 13, answer_chars: 13, finish_reason: 'stop', empty_answer: 0, refusal: 0, timed: false },
      { id: 'whole-9', prompt_tokens: 2, completion_tokens: 2, prompt_chars: 9, answer_chars: 9, finish_reason: 'stop', empty_answer: 0, refusal: 0, timed: false },
    ]);
  });

  it('profiles them like any column: token means, the empty-answer rate, finish reasons, time to first token', async () => {
    const profile = await rows(
      `SELECT column_name, "count", avg, frequent_items FROM chat_profile_metrics
       WHERE granularity = '1 hour' AND model_id = '*' AND slice_key IS NULL
         AND column_name IN ('completion_tokens', 'empty_answer', 'finish_reason', 'time_to_first_token_ms', 'output_tokens_per_second')
       ORDER BY column_name`,
    );
    const by = Object.fromEntries(profile.map((r) => [r.column_name, r]));
    expect(by.completion_tokens).toMatchObject({ count: 4, avg: 2.25 });
    expect(by.empty_answer).toMatchObject({ count: 4, avg: 0.25 });
    const finishes = by.finish_reason?.frequent_items as { item: string; count: unknown }[];
    expect(finishes.map((f) => [f.item, Number(f.count)])).toEqual([['stop', 4]]);
    expect(by.time_to_first_token_ms).toMatchObject({ count: 4 });
    expect(Number(by.time_to_first_token_ms?.avg)).toBeGreaterThanOrEqual(0);
    expect(by.output_tokens_per_second).toBeDefined();
  });
});
