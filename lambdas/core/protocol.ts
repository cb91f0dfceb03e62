import { InvalidRequestError, UnsupportedMediaTypeError } from './errors.js';
import { jsonStructureProblem, removeTopLevelKey } from './json-text.js';
import { LLM_FIELDS, checkLlmRequest } from './llm-input.js';

/**
 * The MLflow 2.x scoring protocol (`mlflow/pyfunc/scoring_server`), checked at the proxy so
 * every backend answers bad input the same way MLflow does: same status, same error code,
 * same message prefix, and the same plain-text 415 bodies.
 */

/** The four standard input fields; exactly one must be present. */
export const INPUT_FIELDS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;
export type InputField = (typeof INPUT_FIELDS)[number];

/** Keys that make a body unified LLM input (MLflow ≥ 2.10), checked by `llm-input.ts`. */
export { LLM_FIELDS } from './llm-input.js';

const INPUT_SET_TEXT = "{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}";

/** Appended by MLflow ≥ 2.0 to errors an outdated 1.x client would see. */
export const SCORING_PROTOCOL_CHANGE_INFO =
  "IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you are seeing this error, you are likely using an outdated scoring request format. To resolve the error, either update your request format or adjust your MLflow Model's requirements file to specify an older version of MLflow (for example, change the 'mlflow' requirement specifier to 'mlflow==1.30.0'). If you are making a request using the MLflow client (e.g. via `mlflow.pyfunc.spark_udf()`), upgrade your MLflow client to a version >= 2.0 in order to use the new request format. For more information about the updated MLflow Model scoring protocol in MLflow 2.0, see https://mlflow.org/docs/latest/models.html#deploy-mlflow-models.";

/** Key a caller may add at the top level of a JSON body to tag its request. */
export const CLIENT_REQUEST_ID = 'client_request_id';

/** A request that follows the protocol. */
export type ScoringRequest =
  | {
      kind: 'standard';
      format: InputField;
      /** Parsed body without `client_request_id`. */
      json: Record<string, unknown>;
      /** Body to forward to the model: the text as received, minus `client_request_id`. */
      forwardBody: string;
      contentType: 'application/json';
      clientRequestId: string | null;
    }
  | {
      kind: 'llm';
      json: Record<string, unknown>;
      forwardBody: string;
      contentType: 'application/json';
      clientRequestId: string | null;
    }
  | { kind: 'csv'; forwardBody: string; contentType: 'text/csv'; clientRequestId: null };

/**
 * Checks the `Content-Type` header like MLflow's `invocations()`: charset first, then
 * unknown parameters, then the exact MIME type. Returns the MIME type.
 * @throws UnsupportedMediaTypeError with MLflow's plain-text 415 message
 */
export function checkContentType(header: string | undefined): 'application/json' | 'text/csv' {
  const raw = header ?? '';
  const [mimePart = '', ...paramParts] = raw.split(';');
  const mime = mimePart.trim();
  const params = new Map<string, string>();
  for (const part of paramParts) {
    const [k = '', ...rest] = part.split('=');
    params.set(k.trim(), rest.join('=').trim());
  }
  const charset = params.get('charset');
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8') {
    throw new UnsupportedMediaTypeError('The scoring server only supports UTF-8');
  }
  const unknown = [...params.keys()].filter((k) => k !== 'charset');
  if (unknown.length > 0) {
    throw new UnsupportedMediaTypeError(`Unrecognized content type parameters: ${unknown.join(', ')}. ${SCORING_PROTOCOL_CHANGE_INFO}`);
  }
  if (mime !== 'application/json' && mime !== 'text/csv') {
    throw new UnsupportedMediaTypeError(
      `This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got '${header ?? 'None'}'.`,
    );
  }
  return mime;
}

function describeType(value: unknown): string {
  if (value === null) return "<class 'NoneType'>";
  if (typeof value === 'string') return "<class 'str'>";
  if (typeof value === 'boolean') return "<class 'bool'>";
  if (typeof value === 'number') return Number.isInteger(value) ? "<class 'int'>" : "<class 'float'>";
  if (Array.isArray(value)) return "<class 'list'>";
  return "<class 'dict'>";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Longest `client_request_id` accepted: it is a join key, not a payload. */
export const MAX_CLIENT_REQUEST_ID_LENGTH = 1024;

function readClientRequestId(json: Record<string, unknown>): string | null {
  const value = json[CLIENT_REQUEST_ID];
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') {
    // A join key must compare equal wherever it is stored: no lone surrogates (not storable
    // as UTF-8) and no control characters.
    if (value.length > MAX_CLIENT_REQUEST_ID_LENGTH) {
      throw new InvalidRequestError(`Invalid input. '${CLIENT_REQUEST_ID}' is ${value.length} characters long; at most ${MAX_CLIENT_REQUEST_ID_LENGTH} are accepted.`, 'INVALID_PARAMETER_VALUE');
    }
    if (!value.isWellFormed() || /[\u0000-\u001f\u007f]/.test(value)) {
      throw new InvalidRequestError(`Invalid input. '${CLIENT_REQUEST_ID}' holds control characters or unpaired surrogates.`, 'INVALID_PARAMETER_VALUE');
    }
    return value;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new InvalidRequestError(`Invalid input. '${CLIENT_REQUEST_ID}' must be a string. Got ${describeType(value)}.`, 'INVALID_PARAMETER_VALUE');
}

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

function checkStandardInput(format: InputField, value: unknown): void {
  if (format === 'dataframe_split') {
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
    const { data, columns } = value as { data: unknown; columns?: unknown };
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
  } else if (format === 'dataframe_records') {
    if (!Array.isArray(value)) {
      throw new InvalidRequestError(
        `Invalid input. Dataframe records format must be a list of records. Got ${isObject(value) ? 'dictionary' : `type ${describeType(value)}`}.`,
      );
    }
    if (value.some((row) => !isObject(row))) {
      throw new InvalidRequestError(
        "Invalid input. Provided dataframe_records field is not a valid dataframe representation in 'records' format. Error: 'each record must be a dictionary'",
      );
    }
  } else if (format === 'inputs' && isObject(value)) {
    const lengths = new Set(Object.values(value).map((v) => (Array.isArray(v) ? v.length : 1)));
    if (lengths.size > 1) throw new InvalidRequestError('The length of values for each input/column name are not the same');
  } else if (format === 'instances' && Array.isArray(value) && value.length > 0 && value.every(isObject)) {
    const first = Object.keys(value[0] as object).sort().join('\u0000');
    if (value.some((row) => Object.keys(row as object).sort().join('\u0000') !== first)) {
      throw new InvalidRequestError('The length of values for each input/column name are not the same');
    }
  }
}

/**
 * Parses a scoring request body following MLflow's rules.
 * @throws UnsupportedMediaTypeError (415) or InvalidRequestError (400)
 */
export function parseScoringRequest(contentTypeHeader: string | undefined, body: string): ScoringRequest {
  const mime = checkContentType(contentTypeHeader);
  if (mime === 'text/csv') {
    if (body.trim() === '') {
      throw new InvalidRequestError(
        "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted Pandas DataFrame produced using the `pandas.DataFrame.to_csv()` method. Error: 'No columns to parse from file'",
      );
    }
    return { kind: 'csv', forwardBody: body, contentType: 'text/csv', clientRequestId: null };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    // MLflow echoes the whole input here; it is not echoed, so a body that could not be
    // parsed (and so not redacted) never reaches the captured response.
    throw new InvalidRequestError(
      `Invalid input. Ensure that input is a valid JSON formatted string. Error: '${(error as Error).message.slice(0, 200)}'`,
      'BAD_REQUEST',
      { cause: error },
    );
  }
  const structure = jsonStructureProblem(body);
  if (structure) throw new InvalidRequestError(`Invalid input. The JSON body is refused: ${structure}.`);
  if (Array.isArray(parsed)) {
    throw new InvalidRequestError(`Invalid input. The input must be a JSON dictionary with exactly one of the input fields ${INPUT_SET_TEXT}. Received a list. ${SCORING_PROTOCOL_CHANGE_INFO}`);
  }
  if (!isObject(parsed)) {
    throw new InvalidRequestError(
      `Invalid input. The input must be a JSON dictionary with exactly one of the input fields ${INPUT_SET_TEXT}. Received unexpected input type '${describeType(parsed)}'.`,
    );
  }
  const clientRequestId = readClientRequestId(parsed);
  const tagged = CLIENT_REQUEST_ID in parsed;
  let forward: string | undefined;
  // Computed when read: the unpack step parses captured bodies and never forwards them.
  const forwardBody = () => (forward ??= tagged ? removeTopLevelKey(body, CLIENT_REQUEST_ID) : body);
  const { [CLIENT_REQUEST_ID]: _dropped, ...json } = parsed;

  if (LLM_FIELDS.some((k) => k in json)) {
    checkLlmRequest(json);
    return {
      kind: 'llm',
      json,
      get forwardBody() {
        return forwardBody();
      },
      contentType: 'application/json',
      clientRequestId,
    };
  }
  const found = INPUT_FIELDS.filter((k) => k in json);
  if (found.length !== 1) {
    throw new InvalidRequestError(
      `The input must be a JSON dictionary with exactly one of the input fields ${INPUT_SET_TEXT}. Received dictionary with input fields: [${found.map((k) => `'${k}'`).join(', ')}]. ${SCORING_PROTOCOL_CHANGE_INFO}`,
    );
  }
  const format = found[0] as InputField;
  checkStandardInput(format, json[format]);
  if ('params' in json && !isObject(json.params)) {
    throw new InvalidRequestError(`Invalid input. 'params' must be a dictionary. Got ${describeType(json.params)}.`, 'INVALID_PARAMETER_VALUE');
  }
  return {
    kind: 'standard',
    format,
    json,
    get forwardBody() {
      return forwardBody();
    },
    contentType: 'application/json',
    clientRequestId,
  };
}
