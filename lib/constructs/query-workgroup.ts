import { Stack } from 'aws-cdk-lib';
import { CfnNamedQuery, CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { type NamedQuery, environmentQueries, namedQueries } from '../../lambdas/core/named-queries.js';
import { ATHENA_RESULTS_PREFIX } from './capture-storage.js';

/** Props of {@link QueryWorkgroup}. */
export interface QueryWorkgroupProps {
  readonly workgroupName: string;
  readonly databaseName: string;
  /** Endpoints that get saved queries. */
  readonly endpoints: readonly string[];
  readonly bucket: IBucket;
  readonly key: IKey;
  /** Athena cancels a query that scans more. */
  readonly bytesScannedCutoffPerQuery: number;
}

/**
 * The environment's Athena workgroup: its settings override the client's (results encrypted
 * with the environment key in the data bucket, a scan cutoff per query, CloudWatch metrics),
 * with saved queries for the common questions about each endpoint.
 */
export class QueryWorkgroup extends Construct {
  public readonly workgroup: CfnWorkGroup;
  public readonly workgroupName: string;
  public readonly workgroupArn: string;

  public constructor(scope: Construct, id: string, props: QueryWorkgroupProps) {
    super(scope, id);
    this.workgroupName = props.workgroupName;
    this.workgroup = new CfnWorkGroup(this, 'Workgroup', {
      name: props.workgroupName,
      description: `inference-tables: queries on the ${props.databaseName} tables`,
      state: 'ENABLED',
      // Lets `cdk destroy` remove the workgroup even when it holds saved queries.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: props.bucket.s3UrlForObject(ATHENA_RESULTS_PREFIX),
          expectedBucketOwner: Stack.of(this).account,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.key.keyArn },
        },
      },
    });
    this.workgroupArn = Stack.of(this).formatArn({ service: 'athena', resource: 'workgroup', resourceName: props.workgroupName });
    const save = (id: string, q: NamedQuery) => {
      const query = new CfnNamedQuery(this, id, { name: q.name, description: q.description, database: props.databaseName, workGroup: props.workgroupName, queryString: q.sql });
      query.node.addDependency(this.workgroup);
    };
    for (const endpoint of props.endpoints) namedQueries(endpoint).forEach((q, i) => save(`${endpoint}-${i + 1}`, q));
    environmentQueries().forEach((q, i) => save(`EnvironmentQuery${i + 1}`, q));
  }
}
