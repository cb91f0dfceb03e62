import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { environmentNames } from '../../lambdas/core/names.js';
import { ENV } from '../../lambdas/shared/env.js';

/** A function: it is granted a permission and told, in its environment, where to use it. */
type GrantableFunction = IGrantable & { addEnvironment(key: string, value: string): unknown };

/** Props of {@link ServingStateTable}. */
export interface ServingStateTableProps {
  readonly environment: string;
  /** The environment's key: it encrypts the table. */
  readonly key: IKey;
}

/**
 * Where the serving state lives on AWS (registry stages and aliases, endpoint traffic and
 * capture): one DynamoDB table of one item, encrypted with the environment's key, with
 * point-in-time recovery, kept when the stack is deleted. The scoring function may read it;
 * the management function and the deploy-time seeding may write it.
 */
export class ServingStateTable extends Construct {
  public readonly table: Table;
  private readonly key: IKey;

  public constructor(scope: Construct, id: string, props: ServingStateTableProps) {
    super(scope, id);
    this.key = props.key;
    this.table = new Table(this, 'Table', {
      tableName: environmentNames(props.environment).servingTable,
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Lets a function read the state (one consistent GetItem), and nothing else of the table. */
  public grantRead(fn: GrantableFunction): void {
    fn.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [this.table.tableArn] }));
    fn.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.key.keyArn] }));
    fn.addEnvironment(ENV.servingTable, this.table.tableName);
  }

  /** Lets a function read and write the state (GetItem, conditional PutItem). */
  public grantReadWrite(fn: GrantableFunction): void {
    fn.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [this.table.tableArn] }));
    fn.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [this.key.keyArn] }));
    fn.addEnvironment(ENV.servingTable, this.table.tableName);
  }
}
