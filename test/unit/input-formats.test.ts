/**
 * The input-format registry is the one place a format is declared: these tests tie it to
 * what is derived from it (the field lists, the messages that list the formats, the dispatch
 * of `parseScoringRequest` and `toFrame`), so that adding an entry, with its example below,
 * is enough for a format to be recognised, checked and framed.
 */
import { describe, expect, it } from 'vitest';
import { InvalidRequestError, UnsupportedMediaTypeError } from '../../lambdas/core/errors.js';
import { type Frame, toFrame } from '../../lambdas/core/frame.js';
import {
  CONTENT_TYPES,
  CONTENT_TYPE_LIST_TEXT,
  INPUT_FIELDS,
  INPUT_FIELD_SET_TEXT,
  INPUT_FORMATS,
  type InputFormat,
  type InputFormatName,
  JSON_CONTENT_TYPE,
  LLM_FIELDS,
  inputFormatName,
} from '../../lambdas/core/input-formats.js';
import { predictIris } from '../../lambdas/core/models/iris.js';
import { CLIENT_REQUEST_ID, parseScoringRequest } from '../../lambdas/core/protocol.js';

/** One accepted value of a format with the frame it makes, and one value it refuses. */
interface Example {
  readonly accepted: unknown;
  readonly frame: Frame;
  readonly refused: unknown;
}

const NO_ROWS: Frame = { columns: null, rows: [] };

/** An example per entry: typed by the registry's names, so a new entry without one does not compile. */
const EXAMPLES: Record<InputFormatName, Example> = {
  dataframe_split: { accepted: { columns: ['a', 'b'], data: [[1, 2]] }, frame: { columns: ['a', 'b'], rows: [[1, 2]] }, refused: [1] },
  dataframe_records: { accepted: [{ a: 1 }, { b: 2 }], frame: { columns: ['a', 'b'], rows: [[1, null], [null, 2]] }, refused: { a: [1] } },
  instances: { accepted: [[1, 2], [3, 4]], frame: { columns: null, rows: [[1, 2], [3, 4]] }, refused: [{ a: 1 }, { b: 1 }] },
  inputs: { accepted: { a: [1, 2], b: [3, 4] }, frame: { columns: ['a', 'b'], rows: [[1, 3], [2, 4]] }, refused: { a: [1, 2], b: [1] } },
  'text/csv': { accepted: 'a,b\n1,x\n', frame: { columns: ['a', 'b'], rows: [[1, 'x']] }, refused: '  ' },
  messages: { accepted: [{ role: 'user', content: 'hi' }], frame: NO_ROWS, refused: [] },
  prompt: { accepted: 'hi', frame: NO_ROWS, refused: [null] },
  input: { accepted: ['a', 'b'], frame: NO_ROWS, refused: [] },
};

// A body format's value is the body's text; a keyed format's, the key's value.
const check = (format: InputFormat, value: unknown) => (format.kind === 'csv' ? format.check(value as string) : format.check(value));
const convert = (format: InputFormat, value: unknown) => (format.kind === 'csv' ? format.toFrame(value as string) : (format.toFrame?.(value) ?? NO_ROWS));

/** A request in a format, holding the value: the body of a body format, the key's value otherwise. */
function requestOf(format: InputFormat, value: unknown): [contentType: string, body: string] {
  return format.kind === 'csv' ? [format.contentType, value as string] : [JSON_CONTENT_TYPE, JSON.stringify({ [format.key]: value })];
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('Input formats: the registry', () => {
  it('has one example per entry, and each name once', () => {
    // Prepare
    const names = INPUT_FORMATS.map(inputFormatName);
    // Assess
    expect(new Set(names).size).toBe(names.length);
    expect(names.toSorted()).toEqual(Object.keys(EXAMPLES).toSorted());
  });

  it('keeps format keys apart from the other top-level keys and body types apart from JSON', () => {
    // Prepare
    const keys = INPUT_FORMATS.flatMap((f) => (f.kind === 'csv' ? [] : [f.key]));
    const bodyTypes = INPUT_FORMATS.flatMap((f) => (f.kind === 'csv' ? [f.contentType] : []));
    // Assess
    expect(keys).not.toContain(CLIENT_REQUEST_ID);
    expect(keys).not.toContain('params');
    expect(bodyTypes).not.toContain(JSON_CONTENT_TYPE);
  });
});

describe('Input formats: what is derived from the registry', () => {
  it('derives the field lists and content types, in MLflow order', () => {
    // Assess
    expect(INPUT_FIELDS).toEqual(['dataframe_split', 'dataframe_records', 'instances', 'inputs']);
    expect(LLM_FIELDS).toEqual(['messages', 'prompt', 'input']);
    expect(CONTENT_TYPES).toEqual(['text/csv', 'application/json']);
    expect(INPUT_FORMATS.filter((f) => f.kind === 'standard').map(inputFormatName)).toEqual(INPUT_FIELDS);
    expect(INPUT_FORMATS.filter((f) => f.kind === 'llm').map(inputFormatName)).toEqual(LLM_FIELDS);
  });

  it("writes the lists as MLflow's messages do", () => {
    // Assess
    expect(INPUT_FIELD_SET_TEXT).toBe("{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}");
    expect(CONTENT_TYPE_LIST_TEXT).toBe("['text/csv', 'application/json']");
  });

  it('lists the formats in every message that names them', () => {
    // Act
    const list = thrown(() => parseScoringRequest(JSON_CONTENT_TYPE, '[1]'));
    const scalar = thrown(() => parseScoringRequest(JSON_CONTENT_TYPE, '1'));
    const none = thrown(() => parseScoringRequest(JSON_CONTENT_TYPE, '{"other": 1}'));
    const two = thrown(() => parseScoringRequest(JSON_CONTENT_TYPE, '{"inputs": [1], "dataframe_records": []}'));
    const twoLlm = thrown(() => parseScoringRequest(JSON_CONTENT_TYPE, '{"messages": [], "input": "a"}'));
    const mediaType = thrown(() => parseScoringRequest('text/plain', 'a'));
    const iris = thrown(() => predictIris(parseScoringRequest(JSON_CONTENT_TYPE, '{"prompt": "a"}')));
    // Assess
    expect(list.message).toMatch(/^Invalid input\. The input must be a JSON dictionary with exactly one of the input fields \{'dataframe_split', 'dataframe_records', 'instances', 'inputs'\}\. Received a list\. IMPORTANT/);
    expect(scalar.message).toBe("Invalid input. The input must be a JSON dictionary with exactly one of the input fields {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}. Received unexpected input type '<class 'int'>'.");
    expect(none.message).toMatch(/^The input must be a JSON dictionary with exactly one of the input fields \{'dataframe_split', 'dataframe_records', 'instances', 'inputs'\}\. Received dictionary with input fields: \[\]\. IMPORTANT/);
    expect(two.message).toContain("Received dictionary with input fields: ['dataframe_records', 'inputs']. IMPORTANT");
    expect(twoLlm.message).toBe("Invalid input. A request has exactly one of 'messages', 'prompt', 'input'; got 'messages' and 'input'.");
    expect(mediaType).toBeInstanceOf(UnsupportedMediaTypeError);
    expect(mediaType.message).toBe("This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got 'text/plain'.");
    expect(iris.message).toBe("Invalid input. The iris model expects one of the input fields {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}.");
  });
});

describe.each(INPUT_FORMATS.map((f) => [inputFormatName(f), f] as const))('Input format %s', (name, format) => {
  const example = EXAMPLES[name as InputFormatName];

  it('is recognised by parseScoringRequest and framed by toFrame with its own conversion', () => {
    // Prepare
    const [contentType, body] = requestOf(format, example.accepted);
    // Act
    const parsed = parseScoringRequest(contentType, body);
    const frame = toFrame(parsed);
    // Assess
    expect(parsed.kind).toBe(format.kind);
    expect(parsed.format).toBe(name);
    expect(frame).toEqual(example.frame);
    expect(frame).toEqual(convert(format, example.accepted));
  });

  it('is refused by parseScoringRequest with the error of its own check', () => {
    // Prepare
    const [contentType, body] = requestOf(format, example.refused);
    const expected = thrown(() => check(format, example.refused));
    // Act
    const error = thrown(() => parseScoringRequest(contentType, body));
    // Assess
    expect(expected).toBeInstanceOf(InvalidRequestError);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toBe(expected.message);
    expect((error as InvalidRequestError).errorCode).toBe((expected as InvalidRequestError).errorCode);
  });
});
