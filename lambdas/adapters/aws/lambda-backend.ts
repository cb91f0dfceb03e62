import { GetFunctionConfigurationCommand, InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { BACKEND_FIX } from '../../core/backend-health.js';
import { BackendError, BackendTimeoutError } from '../../core/errors.js';
import type { BackendProbe, BackendRequest, BackendResponse, ModelBackend } from '../../core/ports.js';

/** What to do about a function that is not Active, by its state. */
const STATE_FIX: Readonly<Record<string, string>> = {
  Pending: 'wait until it is Active (it is being created or updated)',
  Inactive: 'it was idle long enough to be deactivated; the next call reactivates it, then wait until it is Active',
  Failed: 'fix the function and deploy it again',
};

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

  /** The function's state (GetFunctionConfiguration): ready when Active and its last update did not fail. */
  public async probe(signal: AbortSignal): Promise<BackendProbe> {
    const shown = `The Lambda backend ${this.functionName}`;
    let config;
    try {
      config = await this.client.send(new GetFunctionConfigurationCommand({ FunctionName: this.functionName }), { abortSignal: signal });
    } catch (error) {
      const name = (error as Error).name;
      const fix =
        name === 'ResourceNotFoundException'
          ? 'deploy the function or fix backend.function_name in the configuration'
          : name === 'AccessDeniedException'
            ? 'the credentials need lambda:GetFunctionConfiguration on it (the stack grants it to the scoring function)'
            : BACKEND_FIX.lambda;
      return { ready: false, message: `${shown} could not be read (${name}): ${fix}.` };
    }
    const reason = (code: string | undefined, text: string | undefined) => [code, text].filter(Boolean).join(': ').slice(0, 200);
    if (config.State !== 'Active') {
      const state = config.State ?? 'in no known state';
      const why = reason(config.StateReasonCode, config.StateReason);
      return { ready: false, message: `${shown} is ${state}${why ? ` (${why})` : ''}: ${STATE_FIX[state] ?? BACKEND_FIX.lambda}.` };
    }
    if (config.LastUpdateStatus === 'Failed') {
      const why = reason(config.LastUpdateStatusReasonCode, config.LastUpdateStatusReason);
      return { ready: false, message: `${shown}'s last update failed${why ? ` (${why})` : ''}: fix the function and deploy it again.` };
    }
    return { ready: true, message: `${shown} is Active.` };
  }
}
