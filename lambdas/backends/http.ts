import { BACKEND_FIX, displayUrl } from '../core/backend-health.js';
import { BackendError, BackendTimeoutError } from '../core/errors.js';
import type { BackendProbe, BackendRequest, BackendResponse, ModelBackend } from '../core/ports.js';

/** How much of a backend's failing answer an error message quotes. */
export const MAX_ERROR_EXCERPT = 500;
/** A readiness check is a health check: short, whatever the model's `timeout_ms`. */
export const PROBE_TIMEOUT_MS = 2_000;

/**
 * Any HTTP server that speaks the MLflow scoring protocol (`mlflow models serve`, a
 * container, another proxy). The model's own 4xx answers pass through unchanged; a 5xx, an
 * unreachable server or a timeout is the backend failing.
 */
export class HttpBackend implements ModelBackend {
  private readonly url: string;
  private readonly pingUrl: string;

  public constructor(
    baseUrl: string,
    private readonly timeoutMs: number,
  ) {
    const base = baseUrl.replace(/\/+$/, '');
    this.url = `${base}/invocations`;
    this.pingUrl = `${base}/ping`;
  }

  /** `GET /ping`, which MLflow's scoring server answers 200 once its model is loaded: 2xx is ready. */
  public async probe(signal: AbortSignal): Promise<BackendProbe> {
    const shown = `The backend ${displayUrl(this.url)}`;
    let status: number;
    try {
      const response = await fetch(this.pingUrl, { signal: AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]) });
      status = response.status;
      // Read to the end so the connection goes back to the pool.
      await response.arrayBuffer();
    } catch (error) {
      if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
        return { ready: false, message: `${shown} did not answer GET /ping within ${PROBE_TIMEOUT_MS} ms: check that the model server is running and not overloaded, or fix backend.url in the configuration.` };
      }
      return { ready: false, message: `${shown} could not be reached (${reachFailure(error)}): ${BACKEND_FIX.http}.` };
    }
    if (status >= 200 && status < 300) return { ready: true, message: `${shown} answered GET /ping with ${status}.` };
    if (status === 404) return { ready: false, message: `${shown} answered GET /ping with 404: it is not an MLflow scoring server (which answers /ping); fix backend.url in the configuration.` };
    return { ready: false, message: `${shown} answered GET /ping with ${status}, not ready: wait for the model server to load its model (its log says why not), or fix backend.url in the configuration.` };
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

/** Why fetch could not reach a server: its cause (`connect ECONNREFUSED 127.0.0.1:5000`) rather than `fetch failed`. */
export function reachFailure(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const message = cause instanceof Error ? cause.message : (error as Error).message;
  return String(message).slice(0, 160);
}
