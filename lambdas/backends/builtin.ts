import { predictEcho, streamEcho } from '../core/models/echo.js';
import { predictIris } from '../core/models/iris.js';
import type { BackendProbe, BackendRequest, BackendResponse, BackendStreamAnswer, ModelBackend } from '../core/ports.js';

/** A model that runs inside the proxy, so the demo needs no other server. */
export class BuiltinBackend implements ModelBackend {
  /** The echo model streams its chat and completions answers; iris answers whole. */
  public readonly stream?: (request: BackendRequest, signal: AbortSignal) => Promise<BackendStreamAnswer>;

  public constructor(private readonly model: 'iris' | 'echo') {
    if (model === 'echo') this.stream = async (request, signal) => ({ chunks: streamEcho(request.parsed, request.requestId, signal) });
  }

  public async invoke(request: BackendRequest): Promise<BackendResponse> {
    const output = this.model === 'iris' ? predictIris(request.parsed) : predictEcho(request.parsed, request.requestId);
    return { status: 200, body: JSON.stringify(output), contentType: 'application/json' };
  }

  /** Always ready: the model is part of the proxy. */
  public async probe(): Promise<BackendProbe> {
    return { ready: true, message: `The builtin model ${this.model} runs inside the proxy.` };
  }
}
