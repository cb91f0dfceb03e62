/**
 * The values the protocol checks before any model sees them: column names, numbers past a
 * double, and unified LLM input. Each refusal is a 400 that names the field.
 */
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../lambdas/core/errors.js';
import { toFrame } from '../../lambdas/core/frame.js';
import { jsonStructureProblem } from '../../lambdas/core/json-text.js';
import { parseScoringRequest } from '../../lambdas/core/protocol.js';

const parse = (body: unknown) => parseScoringRequest('application/json', typeof body === 'string' ? body : JSON.stringify(body));

function refusal(body: unknown): string {
  try {
    parse(body);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).status).toBe(400);
    return (error as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(body)}`);
}

describe('dataframe_split column names', () => {
  it.each([null, true, 1.5, [], {}])('refuses %j as a column name, naming its position', (name) => {
    expect(refusal({ dataframe_split: { columns: ['a', name], data: [[1, 2]] } })).toMatch(/^Invalid input\. 'dataframe_split\.columns\[1\]' must be a string/);
  });

  it('accepts integers, as pandas writes a default column index, and names the columns as text', () => {
    const request = parse({ dataframe_split: { columns: [0, 1], data: [[5, 6]] } });
    expect(toFrame(request)).toEqual({ columns: ['0', '1'], rows: [[5, 6]] });
  });

  it('refuses a column named twice (the unpacked table would have to pick one)', () => {
    expect(refusal({ dataframe_split: { columns: ['a', 'b', 'a'], data: [[1, 2, 3]] } })).toBe("Invalid input. 'dataframe_split.columns' names the column 'a' twice.");
    expect(refusal({ dataframe_split: { columns: [1, '1'], data: [[1, 2]] } })).toMatch(/names the column '1' twice/);
  });

  it('refuses a scalar row when more than one column is named, as pandas does', () => {
    expect(refusal({ dataframe_split: { columns: ['a', 'b'], data: [1] } })).toMatch(/'2 columns passed, passed data had 1 columns'/);
    expect(parse({ dataframe_split: { columns: ['a'], data: [1, 2] } }).kind).toBe('standard');
  });
});

describe('numbers past a double', () => {
  it.each(['1e309', '-1e309', '1E400', '0.1e+310', '9'.repeat(400)])('refuses %s wherever it stands', (n) => {
    expect(jsonStructureProblem(`{"inputs":[[${n}]]}`)).toMatch(/is too large for a double/);
    expect(refusal(`{"input":[${n}]}`)).toMatch(/^Invalid input\. The JSON body is refused: the number -?\d/);
  });

  it.each(['1e308', '-1.7976931348623157e308', '1e-400', '-0', '123456789012345678901234567890', '0.5e-3'])('accepts %s', (n) => {
    expect(jsonStructureProblem(`{"inputs":[[${n}]]}`)).toBeNull();
  });

  it('reads digits inside strings as text', () => {
    expect(jsonStructureProblem('{"inputs":["1e999"],"client_request_id":"9e9999"}')).toBeNull();
  });
});

describe('unified LLM input', () => {
  it.each([
    [{ input: ['a', { toString: 1 }] }, "Invalid input. 'input[1]' must be a string, like element 0; got dict."],
    [{ input: [1, 'a'] }, "Invalid input. 'input[1]' must be a token id (an integer ≥ 0), like element 0; got str."],
    [{ input: [[1, 2], [-1]] }, "Invalid input. 'input[1]' must be a non-empty list of token ids, like element 0; got list."],
    [{ input: [] }, "Invalid input. 'input' must not be an empty list."],
    [{ input: { a: 1 } }, "Invalid input. 'input' must be a string, a list of strings or a list of token ids; got dict."],
    [{ prompt: [null] }, "Invalid input. 'prompt[0]' must be a string, a token id or a list of token ids; got null."],
    [{ messages: 'hi' }, "Invalid input. 'messages' must be a list of messages; got str."],
    [{ messages: [] }, "Invalid input. 'messages' must hold at least one message."],
    [{ messages: [1] }, "Invalid input. 'messages[0]' must be a message (a dict with a role); got int."],
    [{ messages: [{ role: 1 }] }, "Invalid input. 'messages[0].role' must be a string; got int."],
    [{ messages: [{ role: 'user', content: { toString: 1 } }] }, "Invalid input. 'messages[0].content' must be a string, null or a list of content parts; got dict."],
    [{ prompt: 'a', temperature: 3 }, "Invalid input. 'temperature' must be at most 2."],
    [{ prompt: 'a', temperature: '1' }, "Invalid input. 'temperature' must be a number; got str."],
    [{ prompt: 'a', max_tokens: 0 }, "Invalid input. 'max_tokens' must be at least 1."],
    [{ prompt: 'a', n: 1.5 }, "Invalid input. 'n' must be an integer; got float."],
    [{ prompt: 'a', stop: ['a', 'b', 'c', 'd', 'e'] }, "Invalid input. 'stop' must be a string or a list of at most 4 strings; got list."],
    [{ prompt: 'a', stream: 'yes' }, "Invalid input. 'stream' must be true or false; got str."],
    [{ prompt: 'a', input: 'b' }, "Invalid input. A request has exactly one of 'messages', 'prompt', 'input'; got 'prompt' and 'input'."],
  ])('refuses %j', (body, message) => {
    expect(refusal(body)).toBe(message);
  });

  it.each([
    { messages: [{ role: 'user', content: 'hi' }], temperature: 0.2, max_tokens: 10, stop: ['\n'], stream: false },
    { messages: [{ role: 'assistant', content: null, tool_calls: [] }, { role: 'user', content: [{ type: 'text', text: 'a' }] }] },
    { prompt: ['a', 'b'], temperature: null, n: 2 },
    { prompt: [1, 2, 3] },
    { input: [[1, 2], [3]] },
    { input: 'one text', encoding_format: 'float', dimensions: 8 },
  ])('accepts %j, with parameters it does not know passed through', (body) => {
    expect(parse(body).kind).toBe('llm');
  });
});
