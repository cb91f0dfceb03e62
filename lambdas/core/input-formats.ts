import { parse as parseCsv } from 'csv-parse/sync';
import { InvalidRequestError } from './errors.js';
import type { Frame } from './frame.js';
import { describeType, isObject, pythonList, pythonSet } from './json-value.js';
import { chatMessagesSchema, llmFieldCheck, textOrTokensSchema } from './llm-input.js';

/**
 * The input-format registry: every request shape the scoring protocol accepts, once. Each
 * entry says how a request in that format is recognised (a top-level key of a JSON body, or
 * the body's content type), what its value must hold (MLflow's checks and messages), and how
 * it becomes rows. The field lists, the messages that list the formats, the dispatch of
 * `parseScoringRequest` (`protocol.ts`) and of `toFrame` (`frame.ts`) are derived from it, so
 * a new format is one entry here (plus its example in `test/unit/input-formats.test.ts`).
 */

/** A format recognised by a top-level key of a JSON body. */
export interface KeyedFormat {
  /**
   * Its family, which sets the protocol's rules around it: exactly one `standard` key per
   * body (MLflow's four input fields), or unified LLM input, which takes precedence and is
   * sent to the model unwrapped.
   */
  readonly kind: 'standard' | 'llm';
  /** The top-level key that holds its value. */
  readonly key: string;
  /**
   * Checks the key's value before any model sees it.
   * @throws InvalidRequestError with MLflow's message
   */
  readonly check: (value: unknown) => void;
  /** The rows of a value that passed `check`; null when the request has none before the model answers (LLM input). */
  readonly toFrame: ((value: unknown) => Frame) | null;
}

/** A format recognised by the body's content type; the value is the body's text. */
export interface BodyFormat {
  /** The request kind of a format read from the whole body (MLflow has one: CSV). */
  readonly kind: 'csv';
  /** The exact MIME type of the `Content-Type` header (MLflow matches it case-sensitively). */
  readonly contentType: string;
  /** @throws InvalidRequestError with MLflow's message */
  readonly check: (body: string) => void;
  /** @throws InvalidRequestError when the body cannot be read as rows */
  readonly toFrame: (body: string) => Frame;
}

/** One input format of the scoring protocol. */
export type InputFormat = KeyedFormat | BodyFormat;

/**
 * Every input format, in the order MLflow lists them: the order of the standard keys is the
 * order of `{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}` in its messages.
 */
export const INPUT_FORMATS = [
  { kind: 'standard', key: 'dataframe_split', check: checkDataframeSplit, toFrame: splitFrame },
  { kind: 'standard', key: 'dataframe_records', check: checkDataframeRecords, toFrame: recordsFrame },
  // Row-oriented tensors (TF Serving's `instances`): objects are rows with named columns.
  { kind: 'standard', key: 'instances', check: checkInstances, toFrame: tensorFrame },
  // Columnar tensors: a name → values object, or a tensor like `instances`.
  { kind: 'standard', key: 'inputs', check: checkInputs, toFrame: (value: unknown) => (isObject(value) ? columnsFrame(value) : tensorFrame(value)) },
  { kind: 'csv', contentType: 'text/csv', check: checkCsv, toFrame: csvFrame },
  // Unified LLM input (OpenAI's chat, completions and embeddings): rows come from the answer.
  { kind: 'llm', key: 'messages', check: llmFieldCheck('messages', chatMessagesSchema), toFrame: null },
  { kind: 'llm', key: 'prompt', check: llmFieldCheck('prompt', textOrTokensSchema), toFrame: null },
  { kind: 'llm', key: 'input', check: llmFieldCheck('input', textOrTokensSchema), toFrame: null },
] as const satisfies readonly InputFormat[];

type Entry = (typeof INPUT_FORMATS)[number];
type OfKind<K extends Entry['kind']> = Extract<Entry, { kind: K }>;

/** The standard input fields (MLflow's four); exactly one must be present. */
export type InputField = OfKind<'standard'>['key'];
/** The fields that make a body unified LLM input (MLflow ≥ 2.10); exactly one is present. */
export type LlmField = OfKind<'llm'>['key'];
/** The content types of formats read from the whole body. */
export type BodyContentType = OfKind<'csv'>['contentType'];
/** What names an entry: its key, or its content type. */
export type InputFormatName = InputField | LlmField | BodyContentType;

const ofKind = <K extends Entry['kind']>(kind: K): OfKind<K>[] => INPUT_FORMATS.filter((f): f is OfKind<K> => f.kind === kind);

/** The standard input fields, in MLflow's order. */
export const INPUT_FIELDS: readonly InputField[] = ofKind('standard').map((f) => f.key);
/** The unified LLM input fields. */
export const LLM_FIELDS: readonly LlmField[] = ofKind('llm').map((f) => f.key);
/** Whether a request format names unified LLM input. */
export const isLlmField = (format: string | null | undefined): format is LlmField => (LLM_FIELDS as readonly (string | null | undefined)[]).includes(format);
/** The content type of JSON bodies, which carry every keyed format. */
export const JSON_CONTENT_TYPE = 'application/json';
/** The content types a scoring request may have, in MLflow's order (body formats, then JSON). */
export const CONTENT_TYPES: readonly (BodyContentType | typeof JSON_CONTENT_TYPE)[] = [...ofKind('csv').map((f) => f.contentType), JSON_CONTENT_TYPE];

/** The standard fields as MLflow's messages list them: `{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}`. */
export const INPUT_FIELD_SET_TEXT = pythonSet(INPUT_FIELDS);
/** The content types as MLflow's 415 message lists them: `['text/csv', 'application/json']`. */
export const CONTENT_TYPE_LIST_TEXT = pythonList(CONTENT_TYPES);

/** The name of an entry: its key, or its content type. */
export function inputFormatName(format: InputFormat): string {
  return format.kind === 'csv' ? format.contentType : format.key;
}

// Built from the table, so each name maps to exactly its own entry.
const KEYED = Object.fromEntries(INPUT_FORMATS.filter((f) => f.kind !== 'csv').map((f) => [f.key, f])) as Record<InputField | LlmField, KeyedFormat>;
const BY_CONTENT_TYPE = Object.fromEntries(ofKind('csv').map((f) => [f.contentType, f])) as Record<BodyContentType, BodyFormat>;

/** The entry of a JSON body's key. */
export function keyedFormat(key: InputField | LlmField): KeyedFormat {
  return KEYED[key];
}

/** The entry of a body content type. */
export function bodyFormat(contentType: BodyContentType): BodyFormat {
  return BY_CONTENT_TYPE[contentType];
}

/** True when a MIME type names a body format. */
export function isBodyContentType(mime: string): mime is BodyContentType {
  return Object.hasOwn(BY_CONTENT_TYPE, mime);
}

// ── dataframe_split ──────────────────────────────────────────────────────────

/**
 * Column names of `dataframe_split`: strings, or integers (pandas writes a default column
 * index as 0, 1, …), each once. Anything else would reach a model as a name it cannot use.
 */
function checkColumnNames(columns: readonly unknown[]): void {
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    if (typeof c !== 'string' && !(typeof c === 'number' && Number.isSafeInteger(c))) {
      throw new InvalidRequestError(`Invalid input. 'dataframe_split.columns[${i}]' must be a string (or an integer, as pandas writes a default index). Got ${describeType(c)}.`, 'INVALID_PARAMETER_VALUE');
    }
    const name = String(c);
    if (seen.has(name)) throw new InvalidRequestError(`Invalid input. 'dataframe_split.columns' names the column '${name.slice(0, 64)}' twice.`, 'INVALID_PARAMETER_VALUE');
    seen.add(name);
  });
}

function checkDataframeSplit(value: unknown): void {
  if (!isObject(value)) {
    throw new InvalidRequestError(
      Array.isArray(value)
        ? 'Invalid input. Dataframe split format must be a dictionary. Got list.'
        : `Invalid input. Dataframe split format must be a dictionary. Got type ${describeType(value)}.`,
    );
  }
  const keys = Object.keys(value);
  if (!('data' in value) || keys.some((k) => k !== 'data' && k !== 'columns' && k !== 'index')) {
    throw new InvalidRequestError(
      `Invalid input. Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields. Got {${keys.map((k) => `'${k}'`).join(', ')}}.'`,
    );
  }
  const { data, columns, index } = value as { data: unknown; columns?: unknown; index?: unknown };
  const split = "Invalid input. Provided dataframe_split field is not a valid dataframe representation in 'split' format.";
  if (Array.isArray(data) && index !== undefined && (!Array.isArray(index) || index.length !== data.length)) {
    // pandas' own words when the index and the rows disagree.
    const width = Array.isArray(data[0]) ? data[0].length : 1;
    throw new InvalidRequestError(`${split} Error: '${Array.isArray(index) ? `Shape of passed values is (${data.length}, ${width}), indices imply (${index.length}, ${width})` : 'index must be a list'}'`);
  }
  if (!Array.isArray(data) || (columns !== undefined && !Array.isArray(columns))) {
    throw new InvalidRequestError(
      "Invalid input. Provided dataframe_split field is not a valid dataframe representation in 'split' format. Error: 'data and columns must be lists'",
    );
  }
  if (Array.isArray(columns)) {
    checkColumnNames(columns);
    for (const row of data) {
      if (Array.isArray(row) ? row.length !== columns.length : columns.length !== 1) {
        const width = Array.isArray(row) ? row.length : 1;
        throw new InvalidRequestError(
          `Invalid input. Provided dataframe_split field is not a valid dataframe representation in 'split' format. Error: '${columns.length} columns passed, passed data had ${width} columns'`,
        );
      }
    }
  }
}

function splitFrame(value: unknown): Frame {
  // Column names are strings or integers (checked above); a frame names them as text.
  const split = value as { columns?: (string | number)[]; data: unknown[] };
  const rows = split.data.map((row) => (Array.isArray(row) ? row : [row]));
  return { columns: split.columns?.map(String) ?? rows[0]?.map((_, i) => String(i)) ?? [], rows };
}

// ── dataframe_records ────────────────────────────────────────────────────────

function checkDataframeRecords(value: unknown): void {
  if (!Array.isArray(value)) {
    throw new InvalidRequestError(`Invalid input. Dataframe records format must be a list of records. Got ${isObject(value) ? 'dictionary' : `type ${describeType(value)}`}.`);
  }
  if (value.some((row) => !isObject(row))) {
    throw new InvalidRequestError(
      "Invalid input. Provided dataframe_records field is not a valid dataframe representation in 'records' format. Error: 'each record must be a dictionary'",
    );
  }
}

function recordsFrame(value: unknown): Frame {
  return fromRecords(value as Record<string, unknown>[]);
}

/** Rows of objects: the columns are every key seen, in order of first appearance; a missing one is null. */
function fromRecords(records: readonly Record<string, unknown>[]): Frame {
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    for (const k of Object.keys(r)) {
      if (!seen.has(k)) {
        seen.add(k);
        columns.push(k);
      }
    }
  }
  return { columns, rows: records.map((r) => columns.map((c) => (c in r ? r[c] : null))) };
}

// ── instances and inputs (tensors) ───────────────────────────────────────────

const UNEQUAL_LENGTHS = 'The length of values for each input/column name are not the same';

function checkInstances(value: unknown): void {
  if (Array.isArray(value) && value.length > 0 && value.every(isObject)) {
    const first = Object.keys(value[0] as object).sort().join('\u0000');
    if (value.some((row) => Object.keys(row as object).sort().join('\u0000') !== first)) throw new InvalidRequestError(UNEQUAL_LENGTHS);
  }
}

function checkInputs(value: unknown): void {
  if (isObject(value)) {
    const lengths = new Set(Object.values(value).map((v) => (Array.isArray(v) ? v.length : 1)));
    if (lengths.size > 1) throw new InvalidRequestError(UNEQUAL_LENGTHS);
  }
}

/** A tensor: a list of objects is rows with named columns; anything else is unnamed, a scalar one row of one value. */
function tensorFrame(value: unknown): Frame {
  if (!Array.isArray(value)) return { columns: null, rows: [[value]] };
  if (value.length > 0 && value.every(isObject)) return fromRecords(value as Record<string, unknown>[]);
  return { columns: null, rows: value.map((row) => (Array.isArray(row) ? row : [row])) };
}

/** Named columns of equal length (checked above); a value that is not a list is a column of one. */
function columnsFrame(obj: Record<string, unknown>): Frame {
  const columns = Object.keys(obj);
  const cols = columns.map((c) => (Array.isArray(obj[c]) ? (obj[c] as unknown[]) : [obj[c]]));
  const n = cols[0]?.length ?? 0;
  return { columns, rows: Array.from({ length: n }, (_, i) => cols.map((col) => col[i])) };
}

// ── CSV ──────────────────────────────────────────────────────────────────────

const CSV_PARSE_FAILED =
  'Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted Pandas DataFrame produced using the `pandas.DataFrame.to_csv()` method.';

function checkCsv(body: string): void {
  // The rest of pandas' refusals come from parsing, done when the rows are needed.
  if (body.trim() === '') throw new InvalidRequestError(`${CSV_PARSE_FAILED} Error: 'No columns to parse from file'`);
}

/** A header row then data rows; a cell that reads as a finite number becomes one. */
function csvFrame(body: string): Frame {
  let table: string[][];
  try {
    table = parseCsv(body, { skip_empty_lines: true, relax_column_count: false }) as string[][];
  } catch (error) {
    throw new InvalidRequestError(`${CSV_PARSE_FAILED} Error: '${(error as Error).message}'`, 'BAD_REQUEST', { cause: error });
  }
  const [header = [], ...rows] = table;
  return { columns: header, rows: rows.map((row) => row.map((cell) => (cell !== '' && Number.isFinite(Number(cell)) ? Number(cell) : cell))) };
}
