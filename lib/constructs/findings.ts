import { Stack, Token } from 'aws-cdk-lib';
import type { IBucket, CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag finding ids of wildcard policy resources, built the way cdk-nag prints them, so a
 * construct can acknowledge exactly the wildcard it grants and no other.
 */

/** The finding of `<bucket ARN>/<pattern>`: object keys that cannot be known in advance. */
export function bucketObjectsFinding(bucket: IBucket, pattern: string): string {
  return `AwsSolutions-IAM5[Resource::<${Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnBucket)}.Arn>/${pattern}]`;
}

/** The finding of an ARN of this stack's account and region, e.g. `glue`, `table/db/*`. */
export function stackArnFinding(scope: IConstruct, service: string, resource: string): string {
  // cdk-nag names the region as resolved, or as <AWS::Region> when the stack is region-agnostic.
  const region = Token.isUnresolved(Stack.of(scope).region) ? '<AWS::Region>' : Stack.of(scope).region;
  return `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:${service}:${region}:<AWS::AccountId>:${resource}]`;
}
