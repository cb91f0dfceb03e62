import { connect } from 'node:net';

/** A response read off the wire. */
export interface RawResponse {
  readonly status: number;
  /** Header names in lowercase. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What to send, byte for byte: no normalisation of the path, headers or body. */
export interface RawRequest {
  readonly method?: string;
  readonly path: string;
  /** An empty value leaves the header out; `content-length` is set from the body unless given. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

/**
 * Sends one HTTP/1.1 request over a fresh socket and reads the answer until the server closes
 * it, so requests a client library would refuse to build (smuggling headers, raw bytes in the
 * body, odd paths) can be sent as they are.
 */
export function rawRequest(base: string, request: RawRequest): Promise<RawResponse> {
  const url = new URL(base);
  const body = request.body === undefined ? undefined : Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body, 'utf8');
  const headers: Record<string, string> = { host: url.host, connection: 'close', 'content-type': 'application/json' };
  if (body !== undefined) headers['content-length'] = String(body.length);
  for (const [k, v] of Object.entries(request.headers ?? {})) {
    if (v === '') delete headers[k.toLowerCase()];
    else headers[k.toLowerCase()] = v;
  }
  const head = `${request.method ?? 'POST'} ${request.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may close while the rest of a large body is still being sent.
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET') return;
      reject(error);
    });
    socket.on('close', () => {
      const raw = Buffer.concat(chunks);
      const split = raw.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error(`no HTTP response (${raw.length} bytes)`));
      const [statusLine = '', ...lines] = raw.subarray(0, split).toString('latin1').split('\r\n');
      const out: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        out[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      let rest = raw.subarray(split + 4);
      if (out['transfer-encoding'] === 'chunked') {
        const parts: Buffer[] = [];
        for (;;) {
          const eol = rest.indexOf('\r\n');
          const size = Number.parseInt(rest.subarray(0, eol).toString(), 16);
          if (!size) break;
          parts.push(rest.subarray(eol + 2, eol + 2 + size));
          rest = rest.subarray(eol + 2 + size + 2);
        }
        rest = Buffer.concat(parts);
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers: out, body: rest.toString('utf8') });
    });
    // No half-close: the server closes after its answer (connection: close), and a server may
    // drop a request whose client ended its side before the answer was ready.
    socket.write(head);
    if (body !== undefined) socket.write(body);
  });
}
