import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Backend } from '../core/config/index.js';
import { BedrockBackend } from '../adapters/aws/bedrock-backend.js';
import { LambdaBackend } from '../adapters/aws/lambda-backend.js';
import { SageMakerBackend } from '../adapters/aws/sagemaker-backend.js';
import { secretApiKey } from '../adapters/aws/secret-api-key.js';
import type { BackendFactory, ModelBackend } from '../core/ports.js';
import { BuiltinBackend } from './builtin.js';
import { HttpBackend } from './http.js';
import { OpenAiBackend, envApiKey } from './openai.js';

/** SDK clients for the AWS backends; created on first use when not given. */
export interface BackendClients {
  lambda?: LambdaClient;
  secrets?: SecretsManagerClient;
  bedrock?: (region: string | undefined) => BedrockRuntimeClient;
  sagemaker?: (region: string | undefined) => SageMakerRuntimeClient;
}

/** Builds model backends from configuration, the same way on AWS and locally. */
export function createBackendFactory(clients: BackendClients = {}): BackendFactory {
  let lambda = clients.lambda;
  let secrets = clients.secrets;
  const bedrock = new Map<string, BedrockRuntimeClient>();
  const sagemaker = new Map<string, SageMakerRuntimeClient>();
  return (backend: Backend): ModelBackend => {
    switch (backend.type) {
      case 'builtin':
        return new BuiltinBackend(backend.model);
      case 'http':
        return new HttpBackend(backend.url, backend.timeout_ms);
      case 'openai': {
        const key = backend.api_key;
        const apiKey = !key ? async () => null : 'env' in key ? envApiKey(key.env) : secretApiKey((secrets ??= new SecretsManagerClient({})), key.secret);
        return new OpenAiBackend({ baseUrl: backend.base_url, model: backend.model, apiKey, timeoutMs: backend.timeout_ms, streamUsage: backend.stream_usage });
      }
      case 'bedrock': {
        const region = backend.region ?? '';
        let client = bedrock.get(region);
        if (!client) bedrock.set(region, (client = clients.bedrock?.(backend.region) ?? new BedrockRuntimeClient(backend.region ? { region: backend.region } : {})));
        return new BedrockBackend(client, backend.model_id, backend.timeout_ms);
      }
      case 'lambda':
        lambda ??= new LambdaClient({});
        return new LambdaBackend(lambda, backend.function_name, backend.timeout_ms);
      case 'sagemaker': {
        const key = backend.region ?? '';
        let client = sagemaker.get(key);
        if (!client) {
          client = clients.sagemaker?.(backend.region) ?? new SageMakerRuntimeClient(backend.region ? { region: backend.region } : {});
          sagemaker.set(key, client);
        }
        return new SageMakerBackend(client, backend.endpoint_name, backend.timeout_ms);
      }
    }
  };
}
