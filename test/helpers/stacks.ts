import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { type InferenceTablesStack, createApp } from '../../lib/app.js';
import type { Config } from '../../lambdas/core/config/index.js';
import { loadConfig } from '../../lambdas/wiring/config-file.js';
import { ROOT } from './config.js';

/**
 * Builds an environment's stack as `cdk synth` does, without bundling the function (the
 * bundle itself is tested by the synth test). Synthesis runs cdk-nag: a finding throws.
 */
export function synthesize(config: Config): { stack: InferenceTablesStack; template: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stage = createApp(app, config);
  return { stack: stage.stack, template: Template.fromStack(stage.stack) };
}

const cache = new Map<string, { stack: InferenceTablesStack; template: Template }>();

/** The synthesized stack of `config/<env>.json`, built once per test file. */
export function environment(env: 'local' | 'dev' | 'prod'): { stack: InferenceTablesStack; template: Template; config: Config } {
  const config = loadConfig(env, ROOT);
  let built = cache.get(env);
  if (!built) {
    built = synthesize(config);
    cache.set(env, built);
  }
  return { ...built, config };
}

/** The one resource of a type whose properties match, failing when there is not exactly one. */
export function only(template: Template, type: string, props: Record<string, unknown> = {}): { logicalId: string; Properties: any } {
  const found = Object.entries(template.findResources(type, { Properties: props }));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  const [logicalId, resource] = found[0] as [string, { Properties: any }];
  return { logicalId, Properties: resource.Properties };
}

/** The scoring function (the refresh steps are functions too, with other handlers; the management function has its description). */
export function scoringFunction(template: Template): { logicalId: string; Properties: any } {
  return only(template, 'AWS::Lambda::Function', { Handler: 'index.handler', Description: Match.stringLikeRegexp('scoring proxy') });
}

/** The management function: the scoring code behind the management routes, under its own role. */
export function managementFunction(template: Template): { logicalId: string; Properties: any } {
  return only(template, 'AWS::Lambda::Function', { Handler: 'index.handler', Description: Match.stringLikeRegexp('management routes') });
}

/** The statements of the policies attached to a function's role. */
export function roleStatements(template: Template, fn: { Properties: any }): any[] {
  const role = fn.Properties.Role['Fn::GetAtt'][0] as string;
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}
