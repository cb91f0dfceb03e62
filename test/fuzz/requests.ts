/**
 * Generated scoring requests for the fuzz tests: requests built from the protocol's grammar
 * (every MLflow input format, CSV, unified LLM input, every route), those requests mutated
 * (a subtree replaced, a key dropped or doubled, bytes inserted, cut or replaced), and plain
 * garbage. Each is sent byte for byte over a socket; see `test/e2e/fuzz.test.ts`.
 */
import fc from 'fast-check';

/** One request to send. */
export interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Omitted: no body. */
  readonly body?: Buffer;
}

/** Names the demo configuration serves, and near misses of them. */
const ENDPOINTS = { served: ['iris', 'chat'], near: ['nope', 'IRIS', 'iris-', '-x', 'a'.repeat(70)] };
const MODELS = { served: ['iris-classifier', 'echo'], near: ['missing', 'Echo'] };
const REFS = { served: ['1', '2', '3', 'Production', 'Staging', '@champion', '@challenger'], near: ['4', '0', '01', 'Archived', 'None', 'latest', '@none', '99999999999999999999'] };
const SERVED = { served: ['iris-classifier-2', 'iris-classifier-3', 'echo-1'], near: ['x', 'iris-classifier-9'] };
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)', 'Sepal_Length'];

/** A path segment: mostly a served name, else a near miss, any text percent-encoded, or raw characters HTTP allows. */
const segment = (names: { served: readonly string[]; near: readonly string[] }) =>
  fc.oneof(
    { weight: 30, arbitrary: fc.constantFrom(...names.served) },
    { weight: 2, arbitrary: fc.constantFrom(...names.near) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'aZ09-_.~!$&\'()*+,;=:@%/'.split('')), maxLength: 8 }) },
    { weight: 1, arbitrary: fc.constantFrom('..', '.', '%2e%2e', '%2F', '%00', '%zz', '%', '') },
  );

/** A request target: the routes of the grammar, mutated spellings of them, and odd targets. */
export const path: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(
      { weight: 8, arbitrary: segment(ENDPOINTS).map((e) => `/serving-endpoints/${e}/invocations`) },
      { weight: 2, arbitrary: fc.tuple(segment(ENDPOINTS), segment(SERVED)).map(([e, s]) => `/serving-endpoints/${e}/served-models/${s}/invocations`) },
      { weight: 3, arbitrary: fc.constantFrom('iris-classifier/2', 'iris-classifier/3', 'iris-classifier/Production', 'iris-classifier/@champion', 'echo/1', 'echo/Production').map((r) => `/model/${r}/invocations`) },
      { weight: 2, arbitrary: fc.tuple(segment(MODELS), segment(REFS)).map(([m, r]) => `/model/${m}/${r}/invocations`) },
      { weight: 2, arbitrary: fc.constantFrom('/ping', '/health', '/version', '/api/2.0/serving-endpoints', '/api/2.0/serving-endpoints/iris', '/invocations', '/dashboard', '/dashboard/uplot.css') },
      // The page's API, with its parameters mixed and mistyped.
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            fc.constantFrom('/', '/api/ui/overview', '/api/ui/endpoints', '/api/ui/requests', '/api/ui/request', '/api/ui/monitoring', '/api/ui/window', '/api/ui/column', '/api/ui/queries', '/api/sql', '/ui/app.js', '/favicon.ico', '/dashboard/api/series'),
            fc.array(
              fc.tuple(
                fc.constantFrom('endpoint', 'from', 'to', 'status', 'page', 'page_size', 'id', 'client_request_id', 'requester', 'served_entity', 'window', 'column', 'granularity', 'model', 'slice_key', 'slice_value', 'q'),
                fc.oneof(fc.constantFrom('iris', 'chat', 'nope', '2026-11-30T21:00', '2026-11-30 21:00:00', '5xx', '0', '-1', '1e9', 'prediction', 'sepal_length', '*', '1 hour', 'SELECT 1', "x'"), fc.string({ maxLength: 12 })),
              ),
              { maxLength: 5 },
            ),
          )
          .map(([p, params]) => `${p}?${params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`),
      },
      { weight: 1, arbitrary: fc.constantFrom('/', '//', '///', '//?x', '//:/invocations', 'http://', 'http://127.0.0.1/ping', '*', '/serving-endpoints//invocations', '/serving-endpoints/iris/invocations/') },
      { weight: 1, arbitrary: fc.array(segment({ served: ['serving-endpoints', 'model', 'invocations', 'iris', 'api', '2.0'], near: ['served-models'] }), { maxLength: 6 }).map((s) => `/${s.join('/')}`) },
    ),
    // A query string on one target in ten.
    fc.oneof({ weight: 9, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 10 }).map((q) => `?${encodeURIComponent(q)}`), fc.constantFrom('?__proto__=1', '?constructor', '?toString=x&toString=y', '?a=1&a=2', '?%zz', '?&&=')) }),
  )
  .map(([p, q]) => `${p}${q}`);

export const method: fc.Arbitrary<string> = fc.oneof({ weight: 20, arbitrary: fc.constant('POST') }, { weight: 3, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD') });

export const contentType: fc.Arbitrary<string> = fc.oneof(
  { weight: 24, arbitrary: fc.constant('application/json') },
  { weight: 3, arbitrary: fc.constant('text/csv') },
  { weight: 2, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/json; charset=UTF-16', 'application/json; format=pandas-split', 'text/csv; charset=latin-1', 'APPLICATION/JSON', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', ';', 'application/json;;', 'application/json; charset') },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'abc/;= -+.xjson'.split('')), maxLength: 24 }) },
);

/** Keys that mean something to JavaScript objects: a model that reads one as a method breaks. */
const hostileKey = fc.constantFrom('__proto__', 'toString', 'valueOf', 'constructor', 'toJSON', 'length');
const key = fc.oneof({ weight: 1, arbitrary: fc.string({ maxLength: 6 }) }, { weight: 1, arbitrary: hostileKey });
const leaf = fc.oneof(fc.boolean(), fc.constant(null), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 8 }));
const jsonByDepth: fc.Arbitrary<unknown>[] = [leaf];

/** Any JSON value nested at most `depth` levels, its object keys sometimes those of {@link hostileKey}. */
function json(depth: number): fc.Arbitrary<unknown> {
  for (let d = jsonByDepth.length; d <= depth; d++) {
    const inner = jsonByDepth[d - 1] as fc.Arbitrary<unknown>;
    jsonByDepth.push(fc.oneof({ weight: 3, arbitrary: leaf }, { weight: 1, arbitrary: fc.array(inner, { maxLength: 3 }) }, { weight: 1, arbitrary: fc.dictionary(key, inner, { maxKeys: 3 }) }));
  }
  return jsonByDepth[depth] as fc.Arbitrary<unknown>;
}

/** A cell of a data frame or tensor: mostly numbers, then strings, booleans, nulls and nested values. */
const cell: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }) },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, '5.1', '', 'NaN') },
  { weight: 1, arbitrary: json(2) },
);

const columnName: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...FEATURES) },
  { weight: 2, arbitrary: fc.string({ maxLength: 10 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, 0, 1, -1, 1.5, true, [], {}) },
);

const columns = fc.oneof(fc.constant(FEATURES.slice(0, 4)), fc.constant(FEATURES.slice(4, 8)), fc.uniqueArray(columnName, { maxLength: 6, selector: (c) => JSON.stringify(c) }), fc.array(columnName, { maxLength: 6 }));
const row = (width: fc.Arbitrary<number>) => width.chain((w) => fc.array(cell, { minLength: w, maxLength: w }));
const rows = fc.array(row(fc.oneof({ weight: 6, arbitrary: fc.constant(4) }, { weight: 1, arbitrary: fc.nat(6) })), { maxLength: 4 });

/** Four finite numbers: a row the iris model scores. */
const irisRow = fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -10, max: 10 }), { minLength: 4, maxLength: 4 });

const standardInput: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ inputs: fc.array(irisRow, { minLength: 1, maxLength: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ dataframe_split: fc.record({ columns: fc.constantFrom(FEATURES.slice(0, 4), FEATURES.slice(4, 8)), data: fc.array(irisRow, { minLength: 1, maxLength: 3 }) }) }) },
  columns.chain((cs) => fc.record({ dataframe_split: fc.record({ columns: fc.constant(cs), data: fc.array(row(fc.constant(cs.length)), { maxLength: 3 }) }) })),
  columns.chain((cs) => fc.record({ dataframe_records: fc.array(fc.tuple(...cs.map(() => cell)).map((vs) => Object.fromEntries(cs.map((c, i) => [String(c), vs[i]]))), { maxLength: 3 }) })),
  fc.record({ instances: fc.oneof(rows, fc.array(fc.dictionary(fc.constantFrom(...FEATURES), cell), { maxLength: 3 })) }),
  fc.record({ inputs: fc.oneof(rows, fc.dictionary(fc.constantFrom(...FEATURES), fc.array(cell, { maxLength: 3 })), cell) }),
);

const text = fc.string({ maxLength: 20 });
const tokens = fc.array(fc.nat(50_000), { minLength: 1, maxLength: 5 });
const textOrTokens = fc.oneof(text, fc.array(text, { maxLength: 3 }), tokens, fc.array(tokens, { maxLength: 2 }), json(2), fc.array(fc.oneof(text, json(2)), { minLength: 1, maxLength: 3 }), fc.array(fc.dictionary(key, json(1), { maxKeys: 2 }), { minLength: 1, maxLength: 2 }));
const message = fc.record(
  { role: fc.oneof(fc.constantFrom('user', 'system', 'assistant', 'tool'), json(1)), content: fc.oneof(text, fc.constant(null), fc.array(fc.record({ type: fc.constant('text'), text }), { maxLength: 2 }), json(2)) },
  { requiredKeys: ['role'] },
);
const llmParams = fc.record(
  { temperature: fc.oneof(fc.double({ min: -1, max: 3, noNaN: true }), json(1)), max_tokens: fc.oneof(fc.integer({ min: -2, max: 100 }), json(1)), n: fc.integer({ min: 0, max: 200 }), stop: fc.oneof(text, fc.array(text, { maxLength: 6 })), stream: fc.boolean() },
  { requiredKeys: [] },
);
const llmInput: fc.Arbitrary<Record<string, unknown>> = fc.tuple(
  fc.oneof(fc.record({ messages: fc.oneof(fc.array(message, { maxLength: 3 }), json(2)) }), fc.record({ prompt: textOrTokens }), fc.record({ input: textOrTokens })),
  llmParams,
).map(([a, b]) => ({ ...a, ...b }));

/** A request body as the protocol allows it, with the optional top-level keys. */
export const validJson: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.oneof({ weight: 3, arbitrary: standardInput }, { weight: 2, arbitrary: llmInput }),
    // A client request id on half the requests, of any type on a few; params on a quarter.
    fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: fc.string({ maxLength: 12 }) }, { weight: 1, arbitrary: fc.oneof(fc.integer(), json(1)) }),
    fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.record({ predict_proba: fc.boolean() }) }, { weight: 1, arbitrary: json(2) }),
  )
  .map(([input, id, params]) => ({ ...input, ...(id === undefined ? {} : { client_request_id: id }), ...(params === undefined ? {} : { params }) }));

type Json = unknown;

/** Every path to a value inside a JSON value. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function replaceAt(value: Json, path: readonly (string | number)[], replacement: Json): Json {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(value)) return value.map((v, i) => (i === head ? replaceAt(v, rest, replacement) : v));
  const obj = value as Record<string, Json>;
  return { ...obj, [head]: replaceAt(obj[head], rest, replacement) };
}

/** A valid body changed in its structure: a subtree replaced by any JSON value. */
const treeMutation: fc.Arbitrary<string> = fc
  .tuple(validJson, fc.nat(), json(3))
  .map(([json, pick, replacement]) => {
    const all = paths(json);
    return JSON.stringify(replaceAt(json, all[pick % all.length] as (string | number)[], replacement));
  });

/** A valid body changed in its text: bytes inserted, cut or replaced, a key doubled, the end cut. */
const textMutation: fc.Arbitrary<Buffer> = fc
  .tuple(validJson, fc.nat(), fc.nat(8), fc.oneof(fc.uint8Array({ maxLength: 6 }), fc.string({ maxLength: 6 }).map((s) => new Uint8Array(Buffer.from(s)))), fc.constantFrom('insert', 'delete', 'replace', 'truncate', 'double-key', 'number'))
  .map(([json, at, length, bytes, kind]) => {
    const text = Buffer.from(JSON.stringify(json));
    const i = at % (text.length + 1);
    switch (kind) {
      case 'insert':
        return Buffer.concat([text.subarray(0, i), bytes, text.subarray(i)]);
      case 'delete':
        return Buffer.concat([text.subarray(0, i), text.subarray(i + length)]);
      case 'replace':
        return Buffer.concat([text.subarray(0, i), bytes, text.subarray(i + bytes.length)]);
      case 'truncate':
        return text.subarray(0, i);
      case 'double-key': {
        const first = Object.keys(json)[0] ?? 'inputs';
        return Buffer.from(`{${JSON.stringify(first)}:1,${text.subarray(1).toString()}`);
      }
      case 'number':
        return Buffer.from(text.toString().replace(/\d+(\.\d+)?/, ['1e309', '-1e400', '9'.repeat(400), '1e-400', '-0', '0.1e+308'][length % 6] as string));
    }
  });

const csvBody = fc.oneof(
  fc.tuple(fc.constant(FEATURES.slice(0, 4).join(',')), fc.array(fc.array(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }).map(String), fc.string({ maxLength: 5 })), { minLength: 4, maxLength: 4 }), { maxLength: 3 })).map(([h, rs]) => [h, ...rs.map((r) => r.join(','))].join('\n')),
  fc.string({ unit: fc.constantFrom(...'ab1.,"\n\r;-e'.split('')), maxLength: 40 }),
);

/** Any body: grammar-valid, mutated in structure or in bytes, CSV, JSON of any shape, or random bytes. */
export const body: fc.Arbitrary<Buffer | undefined> = fc.oneof(
  { weight: 10, arbitrary: validJson.map((j) => Buffer.from(JSON.stringify(j))) },
  { weight: 3, arbitrary: treeMutation.map((s) => Buffer.from(s)) },
  { weight: 3, arbitrary: textMutation },
  { weight: 1, arbitrary: csvBody.map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: json(3).map((j) => Buffer.from(JSON.stringify(j) ?? 'null')) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** Extra headers a client may send, with names and values HTTP allows. */
const extraHeaders = fc.dictionary(
  fc.oneof(fc.constantFrom('x-request-id', 'served-model-name', 'x-forwarded-for', 'accept', 'accept-encoding', 'user-agent', 'x-api-key', 'cookie', 'expect', '__proto__', 'constructor', 'valueOf', 'hasOwnProperty'), fc.string({ unit: fc.constantFrom(...'abcxyz-_'.split('')), minLength: 1, maxLength: 8 }).map((s) => `x-${s}`)),
  fc.string({ unit: fc.constantFrom(...'abc 123=;,/*-'.split('')), maxLength: 20 }).map((s) => s.trim() || 'v'),
  { maxKeys: 3 },
);

/**
 * A whole request. `auth` is what the `Authorization` header holds when the generator keeps
 * the credentials (most requests), so the handler is reached; the rest are sent without them
 * or with broken ones.
 */
export function request(auth: string): fc.Arbitrary<FuzzRequest> {
  const authorization = fc.oneof({ weight: 8, arbitrary: fc.constant(auth) }, { weight: 1, arbitrary: fc.constantFrom('', 'Bearer', 'Bearer x', 'Basic !!!', `Basic ${Buffer.from(':').toString('base64')}`, `${auth}x`) });
  return fc.record({ method, path, contentType, authorization, extra: extraHeaders, body }).map(({ method: m, path: p, contentType: ct, authorization: a, extra, body: b }) => {
    const { expect: _expect, ...rest } = extra;
    const headers: Record<string, string> = { ...rest, 'content-type': ct, authorization: a };
    return { method: m, path: p, headers, ...(b === undefined ? {} : { body: b }) };
  });
}
