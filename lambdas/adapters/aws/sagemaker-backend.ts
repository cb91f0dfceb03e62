import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { BackendError, BackendTimeoutError } from '../../core/errors.js';
import type { BackendRequest, BackendResponse, ModelBackend } from '../../core/ports.js';

/**
 * A model on a SageMaker real-time endpoint (InvokeEndpoint, 25 MB payload, 60 s model
 * timeout by default). A `ModelError` with a 4xx original status is the model rejecting
 * its input and passes through; anything else is the backend failing.
 */
export class SageMakerBackend implements ModelBackend {
  public constructor(
    private readonly client: SageMakerRuntimeClient,
    private readonly endpointName: string,
    private readonly timeoutMs: number,
  ) {}

  public async invoke(request: BackendRequest): Promise<BackendResponse> {
    try {
      const result = await this.client.send(
        new InvokeEndpointCommand({
          EndpointName: this.endpointName,
          ContentType: request.contentType,
          Accept: 'application/json',
          Body: new TextEncoder().encode(request.body),
        }),
        { abortSignal: AbortSignal.timeout(this.timeoutMs) },
      );
      return {
        status: 200,
        body: result.Body ? new TextDecoder().decode(result.Body) : '',
        contentType: result.ContentType ?? 'application/json',
      };
    } catch (error) {
      const e = error as Error & { OriginalStatusCode?: number; OriginalMessage?: string };
      if (e.name === 'AbortError' || e.name === 'TimeoutError') throw new BackendTimeoutError(this.timeoutMs, { cause: error });
      if (e.name === 'ModelError' && e.OriginalStatusCode !== undefined && e.OriginalStatusCode >= 400 && e.OriginalStatusCode < 500) {
        return { status: e.OriginalStatusCode, body: e.OriginalMessage ?? '', contentType: 'application/json' };
      }
      if (e.name === 'ModelNotReadyException' || e.name === 'ServiceUnavailable') {
        throw new BackendError(`SageMaker endpoint ${this.endpointName} is not ready: ${e.name}`, { cause: error });
      }
      throw new BackendError(`SageMaker endpoint ${this.endpointName} failed: ${e.name}`, { cause: error });
    }
  }
}
