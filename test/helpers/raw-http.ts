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

/** A connection that declares a body and sends it a byte at a time, as a slow-body attacker does. */
export interface Trickle {
  /** The first bytes of the answer (its status line), or null if the server closed without one. */
  readonly status: Promise<number | null>;
  /** Stops sending and closes the connection. */
  close(): void;
}

/**
 * Opens a connection that sends `method path` with `Content-Length: declared` and then one body
 * byte every `everyMs`, until the server answers or closes, or `close` is called.
 */
export function trickle(base: string, request: { method?: string; path: string; headers?: Readonly<Record<string, string>>; declared: number; everyMs: number }): Trickle {
  const url = new URL(base);
  const socket = connect(Number(url.port), url.hostname);
  const headers = { host: url.host, 'content-type': 'application/json', 'content-length': String(request.declared), ...request.headers };
  socket.write(`${request.method ?? 'POST'} ${request.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n{`);
  const timer = setInterval(() => socket.writable && socket.write(' '), request.everyMs);
  let head = '';
  const status = new Promise<number | null>((resolve) => {
    socket.on('data', (c: Buffer) => {
      head += c.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (m) resolve(Number(m[1]));
    });
    socket.on('error', () => resolve(null));
    socket.on('close', () => {
      clearInterval(timer);
      resolve(null);
    });
  });
  return {
    status,
    close: () => {
      clearInterval(timer);
      socket.destroy();
    },
  };
}
