import { describe, expect, it } from 'vitest';
import { InvalidRequestError, UnsupportedMediaTypeError } from '../../lambdas/core/errors.js';
import { removeTopLevelKey } from '../../lambdas/core/json-text.js';
import { SCORING_PROTOCOL_CHANGE_INFO, checkContentType, parseScoringRequest } from '../../lambdas/core/protocol.js';

const ERR_415_TYPES = "This predictor only supports the following content types: Types: ['text/csv', 'application/json'].";

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('MLflow content types', () => {
  it('accepts application/json and text/csv, with a utf-8 charset', () => {
    expect(checkContentType('application/json')).toBe('application/json');
    expect(checkContentType('text/csv; charset=UTF-8')).toBe('text/csv');
  });

  it('rejects a charset other than utf-8 before unknown parameters', () => {
    const error = thrown(() => checkContentType('application/json; charset=latin-1; format=pandas-split'));
    expect(error).toBeInstanceOf(UnsupportedMediaTypeError);
    expect(error.message).toBe('The scoring server only supports UTF-8');
  });

  it('rejects format=pandas-split with the MLflow 2.0 protocol text', () => {
    const error = thrown(() => checkContentType('application/json; format=pandas-split'));
    expect((error as UnsupportedMediaTypeError).status).toBe(415);
    expect(error.message).toBe(`Unrecognized content type parameters: format. ${SCORING_PROTOCOL_CHANGE_INFO}`);
  });

  it.each(['application/csv', 'Application/JSON', 'text/plain', 'application/x-www-form-urlencoded'])('rejects %s with 415', (type) => {
    expect(thrown(() => checkContentType(type)).message).toBe(`${ERR_415_TYPES} Got '${type}'.`);
  });

  it('rejects a missing content type with 415 instead of a server error', () => {
    expect((thrown(() => checkContentType(undefined)) as UnsupportedMediaTypeError).status).toBe(415);
  });
});

describe('MLflow JSON bodies', () => {
  it('parses each standard format', () => {
    for (const body of [
      { dataframe_split: { columns: ['a'], data: [[1]] } },
      { dataframe_records: [{ a: 1 }] },
      { instances: [[1, 2]] },
      { inputs: { a: [1, 2] } },
    ]) {
      const parsed = parseScoringRequest('application/json', JSON.stringify(body));
      expect(parsed.kind).toBe('standard');
    }
  });

  it('rejects malformed JSON with 400 BAD_REQUEST', () => {
    const error = thrown(() => parseScoringRequest('application/json', '{"inputs": [1,')) as InvalidRequestError;
    expect(error.status).toBe(400);
    expect(error.errorCode).toBe('BAD_REQUEST');
    expect(error.message).toMatch(/^Invalid input\. Ensure that input is a valid JSON formatted string\. Error: /);
  });

  it('rejects a list body like MLflow 2.x', () => {
    const error = thrown(() => parseScoringRequest('application/json', '[{"a": 1}]')) as InvalidRequestError;
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^Invalid input\. The input must be a JSON dictionary with exactly one of the input fields \{'dataframe_split', 'dataframe_records', 'instances', 'inputs'\}\. Received a list\./);
  });

  it('rejects a scalar body naming its Python type', () => {
    expect(thrown(() => parseScoringRequest('application/json', '3')).message).toContain("Received unexpected input type '<class 'int'>'");
  });

  it('rejects two format keys and lists only the format keys found', () => {
    const error = thrown(() => parseScoringRequest('application/json', '{"inputs": [1], "instances": [1], "other": 1}'));
    expect(error.message).toMatch(/^The input must be a JSON dictionary with exactly one of the input fields .*Received dictionary with input fields: \['instances', 'inputs'\]\. IMPORTANT/);
  });

  it('rejects a dictionary without a format key with an empty list', () => {
    expect(thrown(() => parseScoringRequest('application/json', '{"not": 1}')).message).toContain('Received dictionary with input fields: [].');
  });

  it('checks the dataframe_split shape', () => {
    expect(thrown(() => parseScoringRequest('application/json', '{"dataframe_split": [1]}')).message).toBe(
      'Invalid input. Dataframe split format must be a dictionary. Got list.',
    );
    expect(thrown(() => parseScoringRequest('application/json', '{"dataframe_split": {"columns": ["a"]}}')).message).toMatch(
      /^Invalid input\. Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields\./,
    );
    expect(thrown(() => parseScoringRequest('application/json', '{"dataframe_split": {"columns": ["a","b"], "data": [[1]]}}')).message).toContain(
      "not a valid dataframe representation in 'split' format",
    );
  });

  it('checks the dataframe_records shape', () => {
    expect(thrown(() => parseScoringRequest('application/json', '{"dataframe_records": {"a": [1]}}')).message).toBe(
      'Invalid input. Dataframe records format must be a list of records. Got dictionary.',
    );
  });

  it('rejects columnar inputs of unequal lengths', () => {
    expect(thrown(() => parseScoringRequest('application/json', '{"inputs": {"a": [1, 2], "b": [1]}}')).message).toBe(
      'The length of values for each input/column name are not the same',
    );
  });

  it('passes chat, completions and embeddings bodies through as LLM input', () => {
    for (const body of ['{"messages": [{"role": "user", "content": "hi"}]}', '{"prompt": "hi", "max_tokens": 3}', '{"input": ["a"]}']) {
      expect(parseScoringRequest('application/json', body).kind).toBe('llm');
    }
  });

  it('reads client_request_id and forwards the body without it, byte for byte otherwise', () => {
    const body = '{ "client_request_id" : "r-1", "inputs": [[12345678901234567890, 1.50]] }';
    const parsed = parseScoringRequest('application/json', body);
    expect(parsed.clientRequestId).toBe('r-1');
    expect(parsed.forwardBody).toBe('{"inputs": [[12345678901234567890, 1.50]]}');
  });

  it('rejects a client_request_id that is not a string', () => {
    const error = thrown(() => parseScoringRequest('application/json', '{"client_request_id": {"a": 1}, "inputs": [1]}')) as InvalidRequestError;
    expect(error.errorCode).toBe('INVALID_PARAMETER_VALUE');
  });

  it('accepts CSV and rejects an empty CSV body', () => {
    expect(parseScoringRequest('text/csv', 'a,b\n1,2\n').kind).toBe('csv');
    expect(thrown(() => parseScoringRequest('text/csv', '  ')).message).toMatch(/^Failed to parse input as a Pandas DataFrame/);
  });
});

describe('removeTopLevelKey', () => {
  it('removes only the top-level member, wherever it stands', () => {
    expect(removeTopLevelKey('{"a":1,"k":"x","b":{"k":2}}', 'k')).toBe('{"a":1,"b":{"k":2}}');
    expect(removeTopLevelKey('{"k":"x"}', 'k')).toBe('{}');
    expect(removeTopLevelKey('{"s":"a \\" } , \\"k\\": 1","k":[1,{"x":"}"}]}', 'k')).toBe('{"s":"a \\" } , \\"k\\": 1"}');
  });

  it('returns the text unchanged when the key is absent', () => {
    const text = '{ "a" : 1 }';
    expect(removeTopLevelKey(text, 'k')).toBe(text);
  });
});
