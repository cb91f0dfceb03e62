import { describe, expect, it } from 'vitest';
import { type UnpackedPrediction, rowFeatures, unpackRequest } from '../../lambdas/core/unpack.js';
import { demoConfig } from '../helpers/config.js';

const signature = demoConfig().models[0]!.versions[1]!.signature;
const two = '{"predictions": [0, 2]}';
const rows = (request: string, response = two) => {
  const r = unpackRequest(request, response, signature);
  if (!r.ok) throw new Error(r.reason);
  return r.rows.map(({ values: _, ...row }) => ({ ...row, features: rowFeatures(r.columns, { ...row, values: _ }) }));
};

describe('Unpack: one row per prediction', () => {
  it('unpacks dataframe_split', () => {
    expect(rows('{"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [3, 4]]}}')).toEqual([
      { row_index: 0, features: { a: 1, b: 2 }, prediction: 0, probabilities: null },
      { row_index: 1, features: { a: 3, b: 4 }, prediction: 2, probabilities: null },
    ]);
  });

  it('unpacks dataframe_records, ignoring client_request_id', () => {
    expect(rows('{"client_request_id": "x", "dataframe_records": [{"a": 1}, {"a": 3, "b": 4}]}').map((r) => r.features)).toEqual([
      { a: 1, b: null },
      { a: 3, b: 4 },
    ]);
  });

  it('unpacks row-oriented instances and inputs, naming tensor columns from the signature', () => {
    const expected = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
    expect(rows('{"instances": [[5.1, 3.5, 1.4, 0.2], [5.1, 3.5, 1.4, 0.2]]}')[0]!.features).toEqual(expected);
    expect(rows('{"inputs": [[5.1, 3.5, 1.4, 0.2], [5.1, 3.5, 1.4, 0.2]]}')[1]!.features).toEqual(expected);
  });

  it('names unnamed tensor columns f0… when no signature fits', () => {
    const r = unpackRequest('{"inputs": [[1, 2], [3, 4]]}', two);
    expect(r.ok && rowFeatures(r.columns, r.rows[1]!)).toEqual({ f0: 3, f1: 4 });
  });

  it('unpacks column-oriented inputs and instances of objects', () => {
    expect(rows('{"inputs": {"a": [1, 3], "b": [2, 4]}}').map((r) => r.features)).toEqual([{ a: 1, b: 2 }, { a: 3, b: 4 }]);
    expect(rows('{"instances": [{"a": 1}, {"a": 3}]}').map((r) => r.features)).toEqual([{ a: 1 }, { a: 3 }]);
  });

  it('unpacks CSV with a header, numbers typed', () => {
    expect(rows('a,b,name\n1,2,x\n3,4,y\n').map((r) => r.features)).toEqual([
      { a: 1, b: 2, name: 'x' },
      { a: 3, b: 4, name: 'y' },
    ]);
  });

  it('reads probability lists as probabilities with the argmax as prediction', () => {
    expect(rows('{"inputs": [[1], [2]]}', '{"predictions": [[0.1, 0.7, 0.2], [0.9, 0.05, 0.05]]}').map((r) => [r.prediction, r.probabilities])).toEqual([
      [1, [0.1, 0.7, 0.2]],
      [0, [0.9, 0.05, 0.05]],
    ]);
  });

  it('reads objects, one-column frames and column-oriented answers', () => {
    const request = '{"inputs": [[1], [2]]}';
    expect(rows(request, '{"predictions": [{"label": "setosa", "probabilities": [0.8, 0.2]}, {"label": "virginica", "probabilities": [0.3, 0.7]}]}')[1]).toMatchObject({
      prediction: 'virginica',
      probabilities: [0.3, 0.7],
    });
    expect(rows(request, '{"predictions": [{"0": 1}, {"0": 0}]}').map((r) => r.prediction)).toEqual([1, 0]);
    expect(rows(request, '{"predictions": {"y": [5, 6]}}').map((r) => r.prediction)).toEqual([5, 6]);
    expect(rows(request, '[7, 8]').map((r) => r.prediction)).toEqual([7, 8]);
  });

  it('says why a request cannot be unpacked, never throwing', () => {
    expect(unpackRequest(null, two)).toEqual({ ok: false, reason: 'request body not captured (see logging_error_codes)' });
    expect(unpackRequest('{"inputs": [[1]]}', null)).toMatchObject({ ok: false, reason: expect.stringContaining('response body not captured') });
    expect(unpackRequest('{"inputs": [[1], [2], [3]]}', two)).toEqual({ ok: false, reason: '3 input rows but 2 predictions' });
    expect(unpackRequest('{"inputs": [[1]', two)).toMatchObject({ ok: false, reason: expect.stringContaining('does not follow the scoring protocol') });
    expect(unpackRequest('{"messages": [{"role": "user", "content": "hi"}]}', '{}')).toEqual({ ok: false, reason: 'chat response has no choices' });
    expect(unpackRequest('{"prompt": ["a", "b", "c"]}', '{"choices": [{"text": "x"}, {"text": "y"}]}')).toEqual({ ok: false, reason: '3 prompts but 2 choices' });
    expect(unpackRequest('{"input": ["a", "b"]}', '{"data": [{"embedding": [1]}]}')).toEqual({ ok: false, reason: '2 inputs but 1 embeddings' });
    expect(unpackRequest('{"inputs": [[1], [2]]}', '<html>')).toEqual({ ok: false, reason: 'response is not JSON' });
    expect(unpackRequest('{"inputs": [[1], [2]]}', '{"error_code": "X"}')).toEqual({ ok: false, reason: 'response has no list of predictions' });
  });
});

describe('Unpack: chat, completions and embeddings', () => {
  const llm = (request: string, response: string) => {
    const r = unpackRequest(request, response);
    if (!r.ok) throw new Error(r.reason);
    return r.rows.map((row): Record<string, unknown> => ({ row_index: row.row_index, prediction: row.prediction, ...rowFeatures(r.columns, row) }));
  };

  it('makes a chat request one row: the last user message, the conversation, the answer and its token counts', () => {
    const request = '{"client_request_id": "chat-1", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}]}';
    const response = '{"id": "chatcmpl-1", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}}], "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}';
    expect(llm(request, response)).toEqual([
      {
        row_index: 0,
        input: 'Hi there',
        messages: '[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi there"}]',
        prediction: 'Hello',
        prompt_tokens: 5,
        completion_tokens: 1,
        total_tokens: 6,
        prompt_chars: 8,
        answer_chars: 5,
        finish_reason: null,
        refusal: 0,
        empty_answer: 0,
        time_to_first_token_ms: null,
        output_tokens_per_second: null,
      },
    ]);
  });

  it("takes the capture record's tokens and timing: counted tokens, time to first token, output tokens per second", () => {
    const request = '{"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]}]}';
    const response = '{"choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "length"}]}';
    const r = unpackRequest(request, response, undefined, { input_tokens: 9, output_tokens: 40n, time_to_first_token_ms: 200, execution_time_ms: 2200 });
    if (!r.ok) throw new Error(r.reason);
    // 40 tokens over the 2 s after the first: 20 per second.
    expect(rowFeatures(r.columns, r.rows[0] as UnpackedPrediction)).toMatchObject({ input: 'Hi there', prompt_tokens: 9, completion_tokens: 40, total_tokens: 49, finish_reason: 'length', time_to_first_token_ms: 200, output_tokens_per_second: 20 });
  });

  it('marks refusals and empty answers, and counts a tool call as an answer', () => {
    const choices = [
      { index: 0, message: { role: 'assistant', content: null, refusal: 'I cannot help with that.' }, finish_reason: 'stop' },
      { index: 1, message: { role: 'assistant', content: '' }, finish_reason: 'stop' },
      { index: 2, message: { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }, finish_reason: 'tool_calls' },
    ];
    const rows = llm('{"messages": [{"role": "user", "content": "?"}], "n": 3}', JSON.stringify({ choices }));
    expect(rows.map((r) => [r.refusal, r.empty_answer, r.finish_reason])).toEqual([
      [1, 0, 'stop'],
      [0, 1, 'stop'],
      [0, 0, 'tool_calls'],
    ]);
  });

  it('makes one row per completion, each with its prompt, n completions per prompt', () => {
    const response = '{"choices": [{"index": 0, "text": "a1"}, {"index": 1, "text": "a2"}, {"index": 2, "text": "b1"}, {"index": 3, "text": "b2"}]}';
    expect(llm('{"prompt": ["a", "b"], "n": 2}', response).map((r) => [r.row_index, r.input, r.prediction])).toEqual([
      [0, 'a', 'a1'],
      [1, 'a', 'a2'],
      [2, 'b', 'b1'],
      [3, 'b', 'b2'],
    ]);
  });

  it('makes one row per embedded input, the vector as JSON text, matched by index', () => {
    const response = '{"data": [{"index": 1, "embedding": [0.3, 0.4]}, {"index": 0, "embedding": [0.1, 0.2]}]}';
    expect(llm('{"input": ["first", "second"]}', response).map((r) => [r.input, r.prediction])).toEqual([
      ['first', '[0.1,0.2]'],
      ['second', '[0.3,0.4]'],
    ]);
  });

  it('unwraps the answer of an MLflow pyfunc model, {"predictions": [<answer>]}', () => {
    const response = '{"predictions": [{"choices": [{"message": {"content": "ok"}}]}]}';
    expect(llm('{"messages": [{"role": "user", "content": "?"}]}', response)[0]).toMatchObject({ input: '?', prediction: 'ok', prompt_tokens: null });
  });
});
