import { Stack, Validations } from 'aws-cdk-lib';
import { AccountPrincipal, ArnPrincipal, CompositePrincipal, type IPrincipal, ManagedPolicy, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { TableKind } from '../../lambdas/core/names.js';
import { ATHENA_RESULTS_PREFIX } from './capture-storage.js';
import { bucketObjectsFinding, stackArnFinding } from './findings.js';

/** Props of {@link TableReaders}. */
export interface TableReadersProps {
  readonly environment: string;
  readonly databaseName: string;
  /**
   * Kinds of table readable through the policy (`payload`, `unpacked`, …). They are granted
   * as patterns (`*_payload`): the database and bucket hold this environment's tables only,
   * and the policy keeps one size however many endpoints there are (6,144-character limit).
   */
  readonly tableKinds: readonly TableKind[];
  /** Tables of the environment outside those kinds (`served_entities_history`), each under its own prefix. */
  readonly tables: readonly string[];
  /** Views over those tables (`endpoint_usage`): their definition is read from the catalog, their rows from the tables. */
  readonly views: readonly string[];
  readonly workgroupArn: string;
  readonly bucket: IBucket;
  readonly key: IKey;
  /** Account ids or IAM ARNs that may assume the reader role; none: no role is created. */
  readonly trustedPrincipals: readonly string[];
}

/**
 * Read access to an environment's tables, the product's answer to table ACLs: a managed
 * policy granting the workgroup, the Glue database and its tables, reads of the table
 * prefixes in S3, query results, and the key to decrypt them; attach it to any role or
 * group, or assume the optional reader role that carries it.
 */
export class TableReaders extends Construct {
  public readonly policy: ManagedPolicy;
  public readonly role?: Role;

  public constructor(scope: Construct, id: string, props: TableReadersProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const glue = (resource: string, resourceName?: string) => stack.formatArn({ service: 'glue', resource, resourceName });
    const patterns = props.tableKinds.map((k) => `*_${k}`);
    const prefixes = [...patterns, ...props.tables].map((t) => `${t}/*`);
    const tablePrefixes = prefixes.map((p) => props.bucket.arnForObjects(p));
    this.policy = new ManagedPolicy(this, 'Policy', {
      description: `Read the inference-tables ${props.environment} tables with Athena`,
      statements: [
        new PolicyStatement({
          sid: 'RunQueriesInTheWorkgroup',
          actions: [
            'athena:StartQueryExecution',
            'athena:StopQueryExecution',
            'athena:GetQueryExecution',
            'athena:GetQueryResults',
            'athena:GetQueryRuntimeStatistics',
            'athena:BatchGetQueryExecution',
            'athena:ListQueryExecutions',
            'athena:GetWorkGroup',
            'athena:GetNamedQuery',
            'athena:BatchGetNamedQuery',
            'athena:ListNamedQueries',
          ],
          resources: [props.workgroupArn],
        }),
        new PolicyStatement({
          sid: 'ReadTheCatalog',
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions'],
          resources: [glue('catalog'), glue('database', props.databaseName), ...[...patterns, ...props.tables, ...props.views].map((t) => glue('table', `${props.databaseName}/${t}`))],
        }),
        new PolicyStatement({
          sid: 'ListTheTablePrefixes',
          actions: ['s3:ListBucket', 's3:GetBucketLocation'],
          resources: [props.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [...prefixes, `${ATHENA_RESULTS_PREFIX}*`, ''] } },
        }),
        new PolicyStatement({ sid: 'ReadTheTableData', actions: ['s3:GetObject'], resources: tablePrefixes }),
        // Athena writes and reads query results with the caller's credentials.
        new PolicyStatement({
          sid: 'WriteAndReadQueryResults',
          actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          resources: [props.bucket.arnForObjects(`${ATHENA_RESULTS_PREFIX}*`)],
        }),
        new PolicyStatement({
          sid: 'DecryptDataAndEncryptResults',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
          resources: [props.key.keyArn],
        }),
      ],
    });
    const reason = 'Objects are read under the table prefixes and the query-result prefix only; their keys are not known in advance.';
    for (const prefix of [...prefixes, `${ATHENA_RESULTS_PREFIX}*`]) {
      Validations.of(this.policy).acknowledge({ id: bucketObjectsFinding(props.bucket, prefix), reason });
    }
    for (const t of patterns) {
      Validations.of(this.policy).acknowledge({
        id: stackArnFinding(this, 'glue', `table/${props.databaseName}/${t}`),
        reason: "Tables of one kind in the environment's own database, including those of endpoints added later.",
      });
    }
    if (props.trustedPrincipals.length > 0) {
      const principals: IPrincipal[] = props.trustedPrincipals.map((p) => (/^\d{12}$/.test(p) ? new AccountPrincipal(p) : new ArnPrincipal(p)));
      this.role = new Role(this, 'Role', {
        assumedBy: new CompositePrincipal(...principals),
        description: `Reads the inference-tables ${props.environment} tables with Athena`,
        managedPolicies: [this.policy],
      });
    }
  }
}
