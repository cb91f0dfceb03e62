import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Config } from '../core/config/index.js';
import { InvalidRequestError, ScoringError } from '../core/errors.js';
import type { ManagementRoute } from '../core/routes.js';
import {
  aiGatewayRequest,
  aiGatewayView,
  createVersion,
  createVersionRequest,
  deleteAlias,
  deleteAliasRequest,
  endpointConfigRequest,
  modelOf,
  modelVersionView,
  putAiGateway,
  putEndpointConfig,
  readRequest,
  registeredModelView,
  setAlias,
  setAliasRequest,
  transitionRequest,
  transitionStage,
  versionOf,
} from '../core/serving-changes.js';
import type { ServingControl, ServingState } from '../core/serving-state.js';
import { bodyText, jsonResult, requesterOf } from './event.js';

/** A call's parameters: its query string, then its JSON body (MLflow's clients send GET parameters in the query, the rest as JSON). */
function paramsOf(event: APIGatewayProxyEvent): Record<string, unknown> {
  const query = Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).filter(([, v]) => v !== undefined));
  const text = bodyText(event).trim();
  if (!text) return query;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new InvalidRequestError('The request body is not JSON.', 'MALFORMED_REQUEST');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidRequestError('The request body must be a JSON object.', 'MALFORMED_REQUEST');
  return { ...query, ...body };
}

/**
 * Answers a management call: the MLflow registry's calls and Databricks' endpoint changes,
 * each change applied to the serving state by `control` (checked whole, versioned, recorded
 * and logged with the caller). `describe` answers an endpoint as `GET` does.
 */
export async function answerManagement(
  route: ManagementRoute,
  event: APIGatewayProxyEvent,
  control: ServingControl | undefined,
  describe: (config: Config, endpoint: string, version: number) => Promise<unknown>,
): Promise<APIGatewayProxyResult> {
  if (!control) throw new ScoringError('NOT_IMPLEMENTED', `${event.httpMethod} ${event.path.slice(0, 128)}: this server keeps no serving state, so the serving configuration cannot change at runtime.`);
  const params = paramsOf(event);
  const caller = requesterOf(event) ?? 'anonymous';
  const apply = (change: Parameters<ServingControl['apply']>[0], action: string) => control.apply(change, caller, action);
  switch (route.kind) {
    case 'endpoint-config': {
      const request = readRequest(endpointConfigRequest, params);
      const { state, config } = await apply(putEndpointConfig(route.name, request), `endpoint config ${route.name}`);
      return jsonResult(200, await describe(config, route.name, state.config_version));
    }
    case 'endpoint-ai-gateway': {
      const request = readRequest(aiGatewayRequest, params);
      const { config } = await apply(putAiGateway(route.name, request), `ai-gateway ${route.name}`);
      return jsonResult(200, aiGatewayView(config.endpoints.find((e) => e.name === route.name) as Config['endpoints'][number]));
    }
    case 'registry':
      switch (route.op) {
        case 'create-version': {
          const request = readRequest(createVersionRequest, params);
          const { state } = await apply(createVersion(request), `create version of ${request.name}`);
          const model = state.models.find((m) => m.name === request.name) as ServingState['models'][number];
          return jsonResult(200, { model_version: modelVersionView(model, model.versions.at(-1) as ServingState['models'][number]['versions'][number], state) });
        }
        case 'transition-stage': {
          const request = readRequest(transitionRequest, params);
          const { state } = await apply(transitionStage(request), `transition-stage ${request.name} ${request.version} ${request.stage}`);
          const model = modelOf(state.models, request.name);
          return jsonResult(200, { model_version: modelVersionView(model, versionOf(model, request.version), state) });
        }
        case 'set-alias': {
          const request = readRequest(setAliasRequest, params);
          await apply(setAlias(request), `alias ${request.name}@${request.alias} ${request.version}`);
          return jsonResult(200, {});
        }
        case 'delete-alias': {
          const request = readRequest(deleteAliasRequest, params);
          await apply(deleteAlias(request), `delete alias ${request.name}@${request.alias}`);
          return jsonResult(200, {});
        }
        case 'get-model': {
          const { name } = readRequest(createVersionRequest.pick({ name: true }), params);
          const state = await control.state();
          return jsonResult(200, { registered_model: registeredModelView(modelOf(state.models, name), state) });
        }
        case 'get-version': {
          const request = readRequest(transitionRequest.pick({ name: true, version: true }), params);
          const state = await control.state();
          const model = modelOf(state.models, request.name);
          return jsonResult(200, { model_version: modelVersionView(model, versionOf(model, request.version), state) });
        }
      }
  }
}
