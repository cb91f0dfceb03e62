import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { BackendError, BackendTimeoutError } from '../../core/errors.js';
import type { BackendRequest, BackendResponse, ModelBackend } from '../../core/ports.js';

/**
 * A model served by an AWS Lambda function, invoked synchronously (6 MB request and
 * response limit). The function receives the scoring body as its event: the parsed JSON
 * for JSON requests, `{"body": "<csv>", "contentType": "text/csv"}` for CSV. It answers
 * either the response JSON itself or an API Gateway-style `{statusCode, body}`.
 */
export class LambdaBackend implements ModelBackend {
  public constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
    private readonly timeoutMs: number,
  ) {}

  public async invoke(request: BackendRequest): Promise<BackendResponse> {
    const payload = request.contentType === 'text/csv' ? JSON.stringify({ body: request.body, contentType: 'text/csv' }) : request.body;
    let result;
    try {
      result = await this.client.send(
        new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(payload) }),
        { abortSignal: AbortSignal.timeout(this.timeoutMs) },
      );
    } catch (error) {
      if ((error as Error).name === 'AbortError' || (error as Error).name === 'TimeoutError') throw new BackendTimeoutError(this.timeoutMs, { cause: error });
      throw new BackendError(`Lambda backend ${this.functionName} could not be invoked: ${(error as Error).name}`, { cause: error });
    }
    const text = result.Payload ? new TextDecoder().decode(result.Payload) : '';
    if (result.FunctionError) {
      throw new BackendError(`Lambda backend ${this.functionName} failed (${result.FunctionError}): ${text.slice(0, 500)}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new BackendError(`Lambda backend ${this.functionName} answered something that is not JSON.`, { cause: error });
    }
    if (typeof parsed === 'object' && parsed !== null && 'statusCode' in parsed && 'body' in parsed) {
      const { statusCode, body, headers } = parsed as { statusCode: number; body: unknown; headers?: Record<string, string> };
      if (statusCode >= 500) throw new BackendError(`Lambda backend ${this.functionName} answered ${statusCode}.`);
      const contentType = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? 'application/json';
      return { status: statusCode, body: typeof body === 'string' ? body : JSON.stringify(body), contentType };
    }
    return { status: 200, body: text, contentType: 'application/json' };
  }
}
