import { UnsupportedMediaTypeError, InvalidRequestError } from './errors.js';
import { isObject } from './json-value.js';
import { jsonStructureProblem, removeTopLevelKey } from './json-text.js';
import { CLIENT_REQUEST_ID, type ScoringRequest, parseScoringRequest } from './protocol.js';

/**
 * The scoring protocol of models logged with MLflow 1.x (`scoring_protocol: mlflow1` on a
 * version), which the seed presents as the way to call them and Power BI's script sends: a
 * pandas frame as a bare JSON list of records (`format=pandas-records`, and the default for a
 * list) or in `split` orient without a wrapping field (`format=pandas-split`, the default for an
 * object), the tensor forms `{"instances": …}` and `{"inputs": …}`, or CSV; answered with a bare
 * list of predictions. The request is checked by the same rules as MLflow 2's forms it maps to,
 * and reaches an HTTP backend (an MLflow 1.x server) as it was sent.
 */

/**
 * The capture record's `request_format` of each 1.x body form: names of their own, so the
 * refresh unpacks them with the 1.x reading (their answers are bare lists).
 */
export const MLFLOW1_FORMATS = { records: 'pandas_records', split: 'pandas_split', instances: 'mlflow1_instances', inputs: 'mlflow1_inputs' } as const;

/** A 1.x request: the MLflow 2 request it maps to, sent on as it came, and its format. */
export interface Mlflow1Request {
  readonly request: ScoringRequest;
  readonly format: string;
}

const FORMATS = ['pandas-split', 'pandas-records'] as const;

/**
 * Reads a 1.x scoring request.
 * @throws UnsupportedMediaTypeError (415) or InvalidRequestError (400) naming the problem
 */
export function parseMlflow1Request(contentTypeHeader: string | undefined, body: string): Mlflow1Request {
  const [mime = '', ...params] = (contentTypeHeader ?? '').split(';').map((p) => p.trim());
  const format = params.find((p) => p.startsWith('format='))?.slice('format='.length);
  const others = params.filter((p) => !p.startsWith('format=') && !/^charset=utf-8$/i.test(p));
  if (others.length > 0) throw new UnsupportedMediaTypeError(`Unrecognized content type parameters: ${others.join(', ')}.`);
  if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) {
    throw new UnsupportedMediaTypeError(`Unknown format '${format}': this model takes format=pandas-split or format=pandas-records (MLflow 1.x).`);
  }
  if (mime === 'text/csv') {
    const request = parseScoringRequest('text/csv', body);
    return { request, format: 'csv' };
  }
  if (mime !== 'application/json') throw new UnsupportedMediaTypeError(`This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got '${contentTypeHeader ?? 'None'}'.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new InvalidRequestError(`Invalid input. Ensure that input is a valid JSON formatted string. Error: '${(error as Error).message.slice(0, 200)}'`, 'BAD_REQUEST', { cause: error });
  }
  // The checks MLflow 2 bodies get (duplicate keys, depth, numbers past a double), on the body as sent:
  // the wrapped form below is serialized again, and would have lost a duplicate key.
  const structure = jsonStructureProblem(body);
  if (structure) throw new InvalidRequestError(`Invalid input. The JSON body is refused: ${structure}.`);
  const as = (wrapped: Record<string, unknown>, f: string): Mlflow1Request => {
    const request = parseScoringRequest('application/json', JSON.stringify(wrapped));
    // Sent on as it came: an MLflow 1.x server reads the 1.x body, not its MLflow 2 form.
    const forwardBody = request.clientRequestId === null ? body : removeTopLevelKey(body, CLIENT_REQUEST_ID);
    return { request: { ...request, forwardBody } as ScoringRequest, format: f };
  };
  if (Array.isArray(parsed) || format === 'pandas-records') {
    if (!Array.isArray(parsed) || !parsed.every(isObject)) throw new InvalidRequestError('Invalid input. format=pandas-records takes a JSON list of records (one object per row).');
    return as({ dataframe_records: parsed }, MLFLOW1_FORMATS.records);
  }
  if (!isObject(parsed)) throw new InvalidRequestError(`Invalid input. The body must be a JSON list of records or an object; got ${typeof parsed}.`);
  if (format !== 'pandas-split' && ('instances' in parsed || 'inputs' in parsed)) return as(parsed, 'instances' in parsed ? MLFLOW1_FORMATS.instances : MLFLOW1_FORMATS.inputs);
  const { client_request_id: id, ...frame } = parsed;
  return as({ dataframe_split: frame, ...(id === undefined ? {} : { client_request_id: id }) }, MLFLOW1_FORMATS.split);
}

/**
 * The answer a 1.x model gives: the bare list of predictions. A backend that answered MLflow
 * 2's `{"predictions": …}` (the built-in models) is unwrapped; a 1.x server's list passes as it is.
 */
export function mlflow1Answer(body: string): string {
  try {
    const json: unknown = JSON.parse(body);
    if (isObject(json) && Object.keys(json).length === 1 && 'predictions' in json) return JSON.stringify(json.predictions);
  } catch {
    // not JSON: passed on as it is
  }
  return body;
}
