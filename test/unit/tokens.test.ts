import { describe, expect, it } from 'vitest';
import { callTokens } from '../../lambdas/core/tokens.js';

// Counts of o200k_base, the same with OpenAI's js-tiktoken port: 'hi' 1, 'user' 1, 'system' 1,
// 'assistant' 1, 'Hello from upstream' 3, 'get_weather{"city":"Paris"}' 7, 'Réponds en français, s’il te plaît.' 11, '東京は日本の首都です。' 8.
const chat = (messages: unknown[]) => JSON.stringify({ messages });
const answer = (content: string, usage?: unknown) => JSON.stringify({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], ...(usage ? { usage } : {}) });

describe('the tokens of an LLM call', () => {
  it("takes the backend's usage when it reported one, and loads no tokenizer for it", async () => {
    const never = () => Promise.reject(new Error('the tokenizer was loaded'));
    expect(await callTokens('messages', chat([{ role: 'user', content: 'hi' }]), answer('x', { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 }), true, never)).toEqual({
      inputTokens: 12,
      outputTokens: 5,
      counted: false,
    });
    // Embeddings report no completion tokens: they produce none.
    expect(await callTokens('input', JSON.stringify({ input: 'a' }), JSON.stringify({ data: [], usage: { prompt_tokens: 4, total_tokens: 4 } }), true, never)).toEqual({ inputTokens: 4, outputTokens: 0, counted: false });
  });

  it("counts chat tokens as OpenAI's chat models do: 3 per message, 1 per name, 3 to prime the reply", async () => {
    const messages = [
      { role: 'system', content: 'Réponds en français, s’il te plaît.' },
      { role: 'user', name: 'hi', content: [{ type: 'text', text: '東京は日本の首都です。' }] },
    ];
    // 3 + (3 + 1 + 11) + (3 + 1 + 8 + 1 + 1) = 32
    expect(await callTokens('messages', chat(messages), answer('Hello from upstream'), true)).toEqual({ inputTokens: 32, outputTokens: 3, counted: true });
    // A chat of one short message is 8 tokens, as OpenAI reports for `[{"role": "user", "content": "hi"}]`.
    expect((await callTokens('messages', chat([{ role: 'user', content: 'hi' }]), answer(''), true))?.inputTokens).toBe(8);
  });

  it('counts the tool calls and refusals of an answer, and every choice', async () => {
    const response = JSON.stringify({
      choices: [
        { index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] } },
        { index: 1, message: { role: 'assistant', content: 'hi', refusal: 'hi' } },
      ],
    });
    expect((await callTokens('messages', chat([{ role: 'user', content: 'hi' }]), response, true))?.outputTokens).toBe(9);
  });

  it('counts completions prompts as text or token ids, and embeddings as text with no output', async () => {
    const completion = JSON.stringify({ object: 'text_completion', choices: [{ index: 0, text: 'Hello from upstream' }] });
    expect(await callTokens('prompt', JSON.stringify({ prompt: ['hi', 'Hello from upstream'] }), completion, true)).toEqual({ inputTokens: 4, outputTokens: 3, counted: true });
    expect(await callTokens('prompt', JSON.stringify({ prompt: [[1, 2, 3], [4]] }), completion, true)).toEqual({ inputTokens: 4, outputTokens: 3, counted: true });
    expect(await callTokens('input', JSON.stringify({ input: [5, 6, 7] }), JSON.stringify({ data: [] }), true)).toEqual({ inputTokens: 3, outputTokens: 0, counted: true });
  });

  it('has none for a call the backend did not answer, and counts the prompt of an answer that is not JSON', async () => {
    expect(await callTokens('messages', chat([{ role: 'user', content: 'hi' }]), '{"error_code": "BAD_REQUEST"}', false)).toBeNull();
    expect(await callTokens('messages', 'not json', answer('hi'), true)).toBeNull();
    expect(await callTokens('messages', chat([{ role: 'user', content: 'hi' }]), null, true)).toEqual({ inputTokens: 8, outputTokens: null, counted: true });
  });
});
