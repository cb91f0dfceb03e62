import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../lambdas/core/config/index.js';
import { loadConfig } from '../../lambdas/wiring/config-file.js';
import { ROOT, demoConfig } from '../helpers/config.js';

function configError(raw: unknown): string {
  try {
    parseConfig(raw, 'test.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be rejected');
}

const model = { name: 'm', versions: [{ version: '1', backend: { type: 'builtin', model: 'echo' } }] };
const endpoint = (extra: Record<string, unknown> = {}) => ({
  name: 'e',
  served_entities: [{ entity_name: 'm', entity_version: '1', traffic_percentage: 100 }],
  ...extra,
});

describe('Configuration', () => {
  it('loads the demo with its defaults filled in', () => {
    const config = demoConfig();
    const iris = config.endpoints.find((e) => e.name === 'iris');
    expect(iris?.capture.max_payload_bytes).toBe(1_048_576);
    expect(iris?.capture.max_request_bytes).toBe(16 * 1024 * 1024);
    expect(config.models.find((m) => m.name === 'echo')?.capture.enabled).toBe(true);
  });

  it('names the field of an invalid endpoint name', () => {
    expect(configError({ environment: 'x', models: [model], endpoints: [endpoint({ name: 'Bad Name' })] })).toContain('endpoints[0].name: must match');
  });

  it('requires traffic to add up to 100', () => {
    const raw = { environment: 'x', models: [model], endpoints: [endpoint({ served_entities: [{ entity_name: 'm', entity_version: '1', traffic_percentage: 90 }] })] };
    expect(configError(raw)).toContain('endpoints[0].served_entities: traffic_percentage must add up to 100, got 90');
  });

  it('requires served entities to exist in the registry', () => {
    const raw = { environment: 'x', models: [model], endpoints: [endpoint({ served_entities: [{ entity_name: 'm', entity_version: '7', traffic_percentage: 100 }] })] };
    expect(configError(raw)).toContain("endpoints[0].served_entities[0].entity_version: model 'm' has no version 7");
  });

  it('rejects an alias to an unknown version', () => {
    expect(configError({ environment: 'x', models: [{ ...model, aliases: { champion: '9' } }] })).toContain('models[0].aliases.champion: alias points to unknown version 9');
  });

  it('rejects two names that would share a table', () => {
    const raw = { environment: 'x', models: [{ ...model, name: 'a-b' }, { ...model, name: 'a_b' }] };
    expect(configError(raw)).toContain('table a_b_payload would be shared');
  });

  it('reserves the name of the unrouted table', () => {
    expect(configError({ environment: 'x', models: [{ ...model, name: 'unrouted' }] })).toContain("'unrouted' is reserved");
  });

  it('bounds the payload cap by the 1 MiB the anchors log', () => {
    expect(configError({ environment: 'x', models: [model], endpoints: [endpoint({ capture: { max_payload_bytes: 2_000_000 } })] })).toContain(
      'endpoints[0].capture.max_payload_bytes',
    );
  });

  it('rejects unknown fields, naming them', () => {
    expect(configError({ environment: 'x', endpoint: [] })).toContain('endpoint');
  });

  it('says which file could not be read', () => {
    expect(() => loadConfig('missing-env', ROOT)).toThrow(/Cannot read configuration .*config\/missing-env\.json/);
  });

  it('loads every shipped environment', () => {
    for (const env of ['local', 'dev', 'prod']) expect(loadConfig(env, ROOT).environment).toBe(env);
  });

  it('never leaves the API open: authorization none needs an API key', () => {
    expect(configError({ environment: 'x', deployment: { api: { authorization: 'none' } } })).toContain('deployment.api.api_keys');
  });

  it('rejects two API keys of the same name', () => {
    const key = { name: 'k' };
    expect(configError({ environment: 'x', deployment: { api: { api_keys: [key, key] } } })).toContain('deployment.api.api_keys[1].name: duplicate');
  });

  it('keeps provisioned concurrency within reserved concurrency', () => {
    expect(configError({ environment: 'x', deployment: { scoring_function: { reserved_concurrency: 2, provisioned_concurrency: 3 } } })).toContain(
      'deployment.scoring_function.provisioned_concurrency',
    );
  });

  it('lets the function run as long as a stream may last on API Gateway (15 minutes), no longer', () => {
    expect(configError({ environment: 'x', deployment: { scoring_function: { timeout_seconds: 901 } } })).toContain('deployment.scoring_function.timeout_seconds');
    expect(parseConfig({ environment: 'x', deployment: { scoring_function: { timeout_seconds: 900 } } }, 'test.json').deployment.scoring_function.timeout_seconds).toBe(900);
  });

  it('makes a backend give up before the function does, leaving capture its whole budget', () => {
    const slow = (timeout_ms: number) => ({ ...model, versions: [{ version: '1', backend: { type: 'http', url: 'http://m:5000', timeout_ms } }] });
    // 28 s less the default retry budget (1 s) and spill timeout (2 s).
    expect(configError({ environment: 'x', models: [slow(25_001)] })).toContain('models[0].versions[0].backend.timeout_ms: must be at most 25000');
    expect(parseConfig({ environment: 'x', models: [slow(25_000)] }, 'test.json').models[0]?.versions[0]?.backend).toMatchObject({ timeout_ms: 25_000 });
    expect(configError({ environment: 'x', delivery: { retry_budget_ms: 3000 }, models: [slow(25_000)] })).toContain('must be at most 23000');
    // A function that streams for minutes still answers whole within API Gateway's 29 s: its backends keep the 28 s budget.
    expect(configError({ environment: 'x', deployment: { scoring_function: { timeout_seconds: 300 } }, models: [slow(25_001)] })).toContain('must be at most 25000');
  });

  it('accepts only retention periods CloudWatch Logs offers', () => {
    expect(configError({ environment: 'x', deployment: { log_retention_days: 45 } })).toContain('deployment.log_retention_days');
  });

  it('bounds the streams of an endpoint', () => {
    expect(configError({ environment: 'x', models: [model], endpoints: [endpoint({ capture: { streams: 0 } })] })).toContain('endpoints[0].capture.streams');
  });
});
