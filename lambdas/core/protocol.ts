import { InvalidRequestError, UnsupportedMediaTypeError } from './errors.js';
import {
  type BodyContentType,
  CONTENT_TYPES,
  CONTENT_TYPE_LIST_TEXT,
  INPUT_FIELDS,
  INPUT_FIELD_SET_TEXT,
  type InputField,
  JSON_CONTENT_TYPE,
  LLM_FIELDS,
  type LlmField,
  bodyFormat,
  isBodyContentType,
  keyedFormat,
} from './input-formats.js';
import { jsonStructureProblem, removeTopLevelKey } from './json-text.js';
import { describeType, isObject, pythonList } from './json-value.js';
import { checkLlmParameters } from './llm-input.js';

/**
 * The MLflow 2.x scoring protocol (`mlflow/pyfunc/scoring_server`), checked at the proxy so
 * every backend answers bad input the same way MLflow does: same status, same error code,
 * same message prefix, and the same plain-text 415 bodies. The input formats themselves
 * (how each is recognised, checked and read as rows) are the registry in `input-formats.ts`;
 * this module applies the rules around them.
 */

/** Appended by MLflow ≥ 2.0 to errors an outdated 1.x client would see. */
export const SCORING_PROTOCOL_CHANGE_INFO =
  "IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you are seeing this error, you are likely using an outdated scoring request format. To resolve the error, either update your request format or adjust your MLflow Model's requirements file to specify an older version of MLflow (for example, change the 'mlflow' requirement specifier to 'mlflow==1.30.0'). If you are making a request using the MLflow client (e.g. via `mlflow.pyfunc.spark_udf()`), upgrade your MLflow client to a version >= 2.0 in order to use the new request format. For more information about the updated MLflow Model scoring protocol in MLflow 2.0, see https://mlflow.org/docs/latest/models.html#deploy-mlflow-models.";

/** Key a caller may add at the top level of a JSON body to tag its request. */
export const CLIENT_REQUEST_ID = 'client_request_id';

/** A request that follows the protocol; `format` names its entry in the input-format registry. */
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
      format: LlmField;
      json: Record<string, unknown>;
      forwardBody: string;
      contentType: 'application/json';
      clientRequestId: string | null;
    }
  | { kind: 'csv'; format: BodyContentType; forwardBody: string; contentType: BodyContentType; clientRequestId: null };

/**
 * Checks the `Content-Type` header like MLflow's `invocations()`: charset first, then
 * unknown parameters, then the exact MIME type. Returns the MIME type.
 * @throws UnsupportedMediaTypeError with MLflow's plain-text 415 message
 */
export function checkContentType(header: string | undefined): (typeof CONTENT_TYPES)[number] {
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
  if (mime !== JSON_CONTENT_TYPE && !isBodyContentType(mime)) {
    throw new UnsupportedMediaTypeError(`This predictor only supports the following content types: Types: ${CONTENT_TYPE_LIST_TEXT}. Got '${header ?? 'None'}'.`);
  }
  return mime;
}

/** Longest `client_request_id` accepted: it is a join key, not a payload. */
export const MAX_CLIENT_REQUEST_ID_LENGTH = 1024;

/** A control character (C0 or DEL): what a join key must not hold. */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

function readClientRequestId(json: Record<string, unknown>): string | null {
  const value = json[CLIENT_REQUEST_ID];
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') {
    // A join key must compare equal wherever it is stored: no lone surrogates (not storable
    // as UTF-8) and no control characters.
    if (value.length > MAX_CLIENT_REQUEST_ID_LENGTH) {
      throw new InvalidRequestError(`Invalid input. '${CLIENT_REQUEST_ID}' is ${value.length} characters long; at most ${MAX_CLIENT_REQUEST_ID_LENGTH} are accepted.`, 'INVALID_PARAMETER_VALUE');
    }
    if (!value.isWellFormed() || CONTROL_CHARACTER.test(value)) {
      throw new InvalidRequestError(`Invalid input. '${CLIENT_REQUEST_ID}' holds control characters or unpaired surrogates.`, 'INVALID_PARAMETER_VALUE');
    }
    return value;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new InvalidRequestError(`Invalid input. '${CLIENT_REQUEST_ID}' must be a string. Got ${describeType(value)}.`, 'INVALID_PARAMETER_VALUE');
}

/**
 * Parses a scoring request body following MLflow's rules.
 * @throws UnsupportedMediaTypeError (415) or InvalidRequestError (400)
 */
export function parseScoringRequest(contentTypeHeader: string | undefined, body: string): ScoringRequest {
  const mime = checkContentType(contentTypeHeader);
  if (mime !== JSON_CONTENT_TYPE) {
    // A body format: the whole body is its value, and it has no top-level keys to read.
    bodyFormat(mime).check(body);
    return { kind: 'csv', format: mime, forwardBody: body, contentType: mime, clientRequestId: null };
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
  // A body serialized twice (`json=json.dumps(data)` in Python) arrives as a string of JSON.
  if (typeof parsed === 'string' && /^\s*[[{]/.test(parsed)) {
    let inner: unknown;
    try {
      inner = JSON.parse(parsed);
    } catch {
      inner = undefined;
    }
    if (typeof inner === 'object' && inner !== null) {
      throw new InvalidRequestError(
        "Invalid input. The body is a JSON string that holds JSON: it was serialized twice. Send the JSON itself (in Python, requests.post(url, json=data), not json=json.dumps(data)).",
      );
    }
  }
  const structure = jsonStructureProblem(body);
  if (structure) throw new InvalidRequestError(`Invalid input. The JSON body is refused: ${structure}.`);
  if (Array.isArray(parsed)) {
    throw new InvalidRequestError(`Invalid input. The input must be a JSON dictionary with exactly one of the input fields ${INPUT_FIELD_SET_TEXT}. Received a list. ${SCORING_PROTOCOL_CHANGE_INFO}`);
  }
  if (!isObject(parsed)) {
    throw new InvalidRequestError(
      `Invalid input. The input must be a JSON dictionary with exactly one of the input fields ${INPUT_FIELD_SET_TEXT}. Received unexpected input type '${describeType(parsed)}'.`,
    );
  }
  const clientRequestId = readClientRequestId(parsed);
  const tagged = CLIENT_REQUEST_ID in parsed;
  let forward: string | undefined;
  // Computed when read: the unpack step parses captured bodies and never forwards them.
  const forwardBody = () => (forward ??= tagged ? removeTopLevelKey(body, CLIENT_REQUEST_ID) : body);
  const { [CLIENT_REQUEST_ID]: _dropped, ...json } = parsed;

  // Unified LLM input takes precedence over the standard fields, as in MLflow.
  const llm = LLM_FIELDS.filter((k) => k in json);
  if (llm.length > 0) {
    if (llm.length > 1) {
      throw new InvalidRequestError(`Invalid input. A request has exactly one of ${LLM_FIELDS.map((f) => `'${f}'`).join(', ')}; got ${llm.map((f) => `'${f}'`).join(' and ')}.`, 'INVALID_PARAMETER_VALUE');
    }
    const format = llm[0] as LlmField;
    // The field before the parameters: the order in which one schema of the body named them.
    keyedFormat(format).check(json[format]);
    checkLlmParameters(json);
    return {
      kind: 'llm',
      format,
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
      `The input must be a JSON dictionary with exactly one of the input fields ${INPUT_FIELD_SET_TEXT}. Received dictionary with input fields: ${pythonList(found)}. ${SCORING_PROTOCOL_CHANGE_INFO}`,
    );
  }
  const format = found[0] as InputField;
  keyedFormat(format).check(json[format]);
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
