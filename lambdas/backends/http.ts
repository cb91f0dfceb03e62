import { BackendError, BackendTimeoutError } from '../core/errors.js';
import type { BackendRequest, BackendResponse, ModelBackend } from '../core/ports.js';

const MAX_ERROR_EXCERPT = 500;

/**
 * Any HTTP server that speaks the MLflow scoring protocol (`mlflow models serve`, a
 * container, another proxy). The model's own 4xx answers pass through unchanged; a 5xx, an
 * unreachable server or a timeout is the backend failing.
 */
export class HttpBackend implements ModelBackend {
  private readonly url: string;

  public constructor(
    baseUrl: string,
    private readonly timeoutMs: number,
  ) {
    this.url = `${baseUrl.replace(/\/+$/, '')}/invocations`;
  }

  public async invoke(request: BackendRequest): Promise<BackendResponse> {
    let response: Response;
    let body: string;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': request.contentType },
        body: request.body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      body = await response.text();
    } catch (error) {
      if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
        throw new BackendTimeoutError(this.timeoutMs, { cause: error });
      }
      throw new BackendError(`Model backend could not be reached: ${(error as Error).message}`, { cause: error });
    }
    if (response.status >= 500) {
      throw new BackendError(`Model backend answered ${response.status}: ${body.slice(0, MAX_ERROR_EXCERPT)}`);
    }
    return { status: response.status, body, contentType: response.headers.get('content-type') ?? 'application/json' };
  }
}
