import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { OUTPUTS } from '../../lib/app.js';
import { namedQueries } from '../../lambdas/core/named-queries.js';
import { configWith } from '../helpers/config.js';
import { environment, only, synthesize } from '../helpers/stacks.js';

const { template } = environment('dev');
const keyArn = () => ({ 'Fn::GetAtt': [only(template, 'AWS::KMS::Key').logicalId, 'Arn'] });
/** The reader policy (the scoring API has a management policy of its own). */
const READER = { Description: Match.stringLikeRegexp('^Read the') };
const statements = () => only(template, 'AWS::IAM::ManagedPolicy', READER).Properties.PolicyDocument.Statement as any[];
const statement = (sid: string) => statements().find((s) => s.Sid === sid);

describe('Queries: the Athena workgroup', () => {
  it('enforces its configuration, with CloudWatch metrics and a scan cutoff per query', () => {
    const wg = only(template, 'AWS::Athena::WorkGroup', { Name: 'inference-tables-dev' }).Properties.WorkGroupConfiguration;
    expect(wg).toMatchObject({ EnforceWorkGroupConfiguration: true, PublishCloudWatchMetricsEnabled: true, BytesScannedCutoffPerQuery: 10_000_000_000 });
    expect(wg.EngineVersion).toEqual({ SelectedEngineVersion: 'Athena engine version 3' });
  });

  it('writes results to the data bucket, encrypted with the key', () => {
    const result = only(template, 'AWS::Athena::WorkGroup').Properties.WorkGroupConfiguration.ResultConfiguration;
    expect(result.EncryptionConfiguration).toEqual({ EncryptionOption: 'SSE_KMS', KmsKey: keyArn() });
    expect(JSON.stringify(result.OutputLocation)).toContain('/athena-results/');
  });

  it('saves the common questions for every endpoint', () => {
    const saved = Object.values(template.findResources('AWS::Athena::NamedQuery')).map((q) => q.Properties);
    // Three per endpoint, classic-route model and unrouted, and two over the environment's views.
    expect(saved).toHaveLength(7 * 3 + 2);
    expect(saved.map((q) => q.Name)).toEqual(expect.arrayContaining(['tokens by caller and endpoint', 'served entities']));
    expect(saved.find((q) => q.Name === 'iris: error rate and latency by model version')).toMatchObject({
      Database: 'inference_tables_dev',
      WorkGroup: 'inference-tables-dev',
      QueryString: namedQueries('iris')[1]!.sql,
    });
    expect(saved.map((q) => q.Name)).toContain('iris: request by client_request_id');
  });
});

describe('Readers: the managed policy that grants the tables', () => {
  it('runs queries in this workgroup only', () => {
    const wg = statement('RunQueriesInTheWorkgroup');
    expect(wg.Action).toContain('athena:StartQueryExecution');
    expect(JSON.stringify(wg.Resource)).toContain(':workgroup/inference-tables-dev');
  });

  it('reads the environment database and every table of each kind it holds', () => {
    const resources = JSON.stringify(statement('ReadTheCatalog').Resource);
    expect(resources).toContain(':database/inference_tables_dev');
    for (const k of ['payload', 'unpacked', 'unpack_errors', 'labels', 'recompute_windows']) expect(resources).toContain(`:table/inference_tables_dev/*_${k}"`);
    // The usage view's definition; its rows come from the payload tables.
    expect(resources).toContain(':table/inference_tables_dev/endpoint_usage"');
    expect(statement('ReadTheCatalog').Action.every((a: string) => /^glue:Get/.test(a))).toBe(true);
  });

  it('reads objects under the table prefixes only, and writes only query results', () => {
    expect(statement('ReadTheTableData').Action).toBe('s3:GetObject');
    expect(JSON.stringify(statement('ReadTheTableData').Resource)).toMatch(/\/\*_payload\/\*/);
    expect(JSON.stringify(statement('ReadTheTableData').Resource)).toMatch(/\/\*_unpacked\/\*/);
    expect(JSON.stringify(statement('WriteAndReadQueryResults').Resource)).toMatch(/\/athena-results\/\*/);
    const writers = statements().filter((s) => [s.Action].flat().includes('s3:PutObject'));
    expect(writers.map((s) => s.Sid)).toEqual(['WriteAndReadQueryResults']);
  });

  it('keeps one size, within the managed policy limit (6,144 characters), however many endpoints there are', () => {
    // A rough upper bound: CloudFormation references are longer here than the ARNs they become.
    const document = JSON.stringify(only(template, 'AWS::IAM::ManagedPolicy', READER).Properties.PolicyDocument);
    expect(document.length).toBeLessThan(6144);
    const policy = (change: (c: Record<string, any>) => void) => JSON.stringify(only(synthesize(configWith(change)).template, 'AWS::IAM::ManagedPolicy', READER).Properties.PolicyDocument);
    const more = (c: Record<string, any>) => c.endpoints.push(...Array.from({ length: 30 }, (_, i) => ({ ...c.endpoints[0], name: `more-${i}` })));
    expect(policy(more)).toBe(policy(() => {}));
  });

  it('decrypts with the environment key', () => {
    expect(statement('DecryptDataAndEncryptResults')).toMatchObject({ Action: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], Resource: keyArn() });
  });

  it('creates a reader role carrying the policy only when principals are trusted', () => {
    expect(template.findResources('AWS::IAM::Role', { Properties: { ManagedPolicyArns: [{ Ref: only(template, 'AWS::IAM::ManagedPolicy', READER).logicalId }] } })).toEqual({});
    const { template: withRole } = synthesize(configWith((c) => (c.deployment = { reader_role_trusted_principals: ['210987654321'] })));
    const policy = only(withRole, 'AWS::IAM::ManagedPolicy', READER).logicalId;
    const role = only(withRole, 'AWS::IAM::Role', { ManagedPolicyArns: [{ Ref: policy }] }).Properties;
    expect(JSON.stringify(role.AssumeRolePolicyDocument)).toContain(':iam::210987654321:root');
    withRole.hasOutput(OUTPUTS.readerRoleArn, {});
  });
});

describe('Outputs', () => {
  it('gives the API URL, tables, workgroup, bucket and reader policy', () => {
    const outputs = template.findOutputs('*');
    expect(Object.keys(outputs).sort()).toEqual(
      [OUTPUTS.apiUrl, OUTPUTS.database, OUTPUTS.payloadTables, OUTPUTS.workgroup, OUTPUTS.bucket, OUTPUTS.readerPolicyArn, OUTPUTS.managementPolicyArn, OUTPUTS.servingTable, OUTPUTS.apiKeyIds].sort(),
    );
    expect(outputs[OUTPUTS.payloadTables]!.Value).toBe('iris_payload,chat_payload,assistant_payload,iris_classifier_payload,echo_payload,claude_haiku_payload,unrouted_payload');
    expect(outputs[OUTPUTS.workgroup]!.Value).toBe('inference-tables-dev');
    expect(JSON.stringify(outputs[OUTPUTS.apiUrl]!.Value)).toContain('.execute-api.');
  });
});
