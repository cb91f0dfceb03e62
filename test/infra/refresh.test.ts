import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { LOCAL_PSEUDO, localFunctionArn, localRefreshDefinition } from '../../lib/refresh-definition.js';
import { REFRESH_STEPS } from '../../lambdas/core/refresh-steps.js';
import { demoConfig } from '../helpers/config.js';
import { synthesize } from '../helpers/stacks.js';

const config = demoConfig();
const { template } = synthesize(config);

function deployedDefinition(): Record<string, unknown> {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as { Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } } }[];
  // Each function's ARN token stands where the local definition has the step's local ARN.
  const parts = machine?.Properties.DefinitionString['Fn::Join'][1] ?? [];
  const text = parts
    .map((p) => {
      if (typeof p === 'string') return p;
      const ref = (p as { Ref?: string }).Ref;
      if (ref && ref in LOCAL_PSEUDO) return LOCAL_PSEUDO[ref];
      const id = ((p as { 'Fn::GetAtt'?: [string] })['Fn::GetAtt']?.[0] ?? '') as string;
      const step = REFRESH_STEPS.find((s) => id.startsWith(`Refresh${s}Function`));
      return step ? localFunctionArn(config.environment, step) : JSON.stringify(p);
    })
    .join('');
  return JSON.parse(text) as Record<string, unknown>;
}

describe('refresh workflow', () => {
  it('runs locally exactly the definition CDK deploys', () => {
    expect(localRefreshDefinition(config)).toEqual(deployedDefinition());
  });

  it('retries every task with exponential backoff and jitter', () => {
    const states = (deployedDefinition().States ?? {}) as Record<string, { Type: string; Retry?: unknown[]; ItemProcessor?: { States: Record<string, { Type: string; Retry?: unknown[] }> } }>;
    const tasks: { Type: string; Retry?: unknown[] }[] = [];
    const walk = (s: Record<string, { Type: string; Retry?: unknown[]; ItemProcessor?: { States: Record<string, never> } }>) => {
      for (const state of Object.values(s)) {
        if (state.Type === 'Task') tasks.push(state);
        if (state.ItemProcessor) walk(state.ItemProcessor.States);
      }
    };
    walk(states as never);
    // The Lambda steps of the registry and the two SQL steps.
    expect(tasks.length).toBe(REFRESH_STEPS.length + 2);
    for (const t of tasks) expect(t.Retry).toEqual([expect.objectContaining({ BackoffRate: 2, JitterStrategy: 'FULL' })]);
  });

  it('gives every task a timeout, each Lambda step a little longer than its function may run', () => {
    const tasks: { Resource: string; TimeoutSeconds?: number }[] = [];
    const walk = (states: Record<string, any>) => {
      for (const state of Object.values(states)) {
        if (state.Type === 'Task') tasks.push(state);
        if (state.ItemProcessor) walk(state.ItemProcessor.States);
      }
    };
    walk(deployedDefinition().States as Record<string, any>);
    expect(tasks).toHaveLength(REFRESH_STEPS.length + 2);
    for (const t of tasks) expect(t.TimeoutSeconds, t.Resource).toBeGreaterThan(0);
    const functions = template.findResources('AWS::Lambda::Function');
    for (const step of REFRESH_STEPS) {
      const fn = Object.entries(functions).find(([id]) => id.startsWith(`Refresh${step}Function`))?.[1] as { Properties: { Timeout: number } };
      const task = tasks.find((t) => t.Resource === localFunctionArn(config.environment, step));
      expect(task?.TimeoutSeconds, step).toBeGreaterThan(fn.Properties.Timeout);
    }
  });

  it('records a failure of plan, unpack or commit before failing the run', () => {
    const states = deployedDefinition().States as Record<string, { Catch?: { Next: string }[] }>;
    for (const name of ['Plan', 'Unpack', 'Commit']) expect(states[name]?.Catch?.[0]?.Next).toBe('RecordFailure');
  });

  it('logs every event and traces with X-Ray', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: { Level: 'ALL', Destinations: [Match.anyValue()] },
      TracingConfiguration: { Enabled: true },
    });
  });

  it('starts on the configured schedule', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: `rate(${config.refresh.schedule_minutes} minute)`, State: 'ENABLED' });
  });

  it('registers a labels table per endpoint, partitioned by upload date', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({ Name: 'iris_labels', PartitionKeys: [{ Name: 'uploaded', Type: 'string' }] }),
    });
  });

  it('lets the steps write only under the staging prefix', () => {
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('RefreshFunctionRole') }] } });
    const writes = Object.values(policies)
      .flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement)
      .filter((s) => [s.Action].flat().some((a) => a === 's3:PutObject'));
    expect(JSON.stringify(writes.map((s) => s.Resource))).toMatch(/_refresh\/\*/);
    expect(JSON.stringify(writes.map((s) => s.Resource))).not.toMatch(/_payload|_unpacked/);
  });

  it('lets the state machine run SQL only in its workgroup and touch only its own bucket', () => {
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('RefreshStateMachineRole') }] } });
    const statements = Object.values(policies).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement,
    );
    const athena = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('athena:')));
    expect(athena).toHaveLength(1);
    expect(JSON.stringify(athena[0]!.Resource)).toContain(`:workgroup/inference-tables-${config.environment}`);
    for (const s of statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')))) {
      expect(s.Resource, JSON.stringify(s.Action)).not.toBe('*');
      expect(JSON.stringify(s.Resource)).toMatch(/StorageData\w+/);
    }
  });

  it('lets the state machine rewrite and vacuum the Iceberg tables it writes (the daily upkeep), and the metrics step read their columns', () => {
    const statementsOf = (role: string) =>
      Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp(role) }] } })).flatMap(
        (p) => (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement,
      );
    const machine = statementsOf('RefreshStateMachineRole');
    // OPTIMIZE writes new files and VACUUM deletes unreferenced ones, under the tables' own prefixes only.
    const deletes = machine.filter((s) => [s.Action].flat().includes('s3:DeleteObject'));
    expect(JSON.stringify(deletes.map((s) => s.Resource))).toMatch(/_unpacked\/\*/);
    expect(JSON.stringify(deletes.map((s) => s.Resource))).toMatch(/_profile_metrics\/\*/);
    expect(JSON.stringify(deletes.map((s) => s.Resource))).not.toMatch(/_payload|_labels/);
    expect(machine.some((s) => [s.Action].flat().includes('glue:UpdateTable'))).toBe(true);
    expect(statementsOf('RefreshMetricsRole').some((s) => [s.Action].flat().includes('glue:GetDatabases'))).toBe(true);
  });

  it('gives the commit step what the unpack in the engine needs: the workgroup, the querying role, time and memory', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const [id, prepare] = Object.entries(functions).find(([k]) => k.startsWith('RefreshPrepareCommitFunction')) as [string, { Properties: Record<string, unknown> }];
    expect(id).toBeDefined();
    const props = prepare.Properties as { Environment: { Variables: Record<string, unknown> }; Role: { 'Fn::GetAtt': [string] }; Timeout: number; MemorySize: number };
    expect(Object.keys(props.Environment.Variables)).toContain('INFERENCE_TABLES_WORKGROUP');
    expect(props.Role['Fn::GetAtt'][0]).toMatch(/^RefreshMetricsRole/);
    expect(props.Timeout).toBe(15 * 60);
    expect(props.MemorySize).toBe(2048);
    const statements = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('RefreshMetricsRole') }] } })).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement,
    );
    // It stores a run's rows as a table of the database (CTAS under _refresh/) and reads the payload files.
    expect(statements.some((s) => [s.Action].flat().includes('glue:CreateTable'))).toBe(true);
    const reads = statements.filter((s) => [s.Action].flat().includes('s3:GetObject'));
    expect(JSON.stringify(reads.map((s) => s.Resource))).toMatch(/_payload\/\*/);
    const writes = statements.filter((s) => [s.Action].flat().includes('s3:PutObject'));
    expect(JSON.stringify(writes.map((s) => s.Resource))).toMatch(/_refresh\/\*/);
  });
});
