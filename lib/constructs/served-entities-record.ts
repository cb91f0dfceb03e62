import { CustomResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { CaptureStorage } from './capture-storage.js';
import type { ServingStateTable } from './serving-state.js';
import { ProjectFunction } from './project-function.js';

/** Props of {@link ServedEntitiesRecord}. */
export interface ServedEntitiesRecordProps {
  readonly environment: string;
  /** The environment's configuration file, bundled with the function: the entities it records. */
  readonly configFile: string;
  /** The version of the configuration's served entities: a deploy that changes it records them. */
  readonly configVersion: string;
  readonly storage: CaptureStorage;
  /** The serving state, seeded from the configuration at the same time. */
  readonly serving: ServingStateTable;
  readonly logRetention: RetentionDays;
}

/**
 * Seeds the serving state from the deployed configuration and records its served entities in
 * `served_entities_history` at each deploy that changes them: a custom resource whose property is their version, handled by a
 * function of the product through CDK's provider framework (which answers CloudFormation).
 */
export class ServedEntitiesRecord extends Construct {
  public readonly function: ProjectFunction;

  public constructor(scope: Construct, id: string, props: ServedEntitiesRecordProps) {
    super(scope, id);
    const { environment, storage } = props;
    const logs = ProjectFunction.logGroup(this, 'Logs', storage.key, props.logRetention);
    const role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description: `inference-tables ${environment} record of served entities` });
    logs.grantWrite(role);
    this.function = new ProjectFunction(this, 'Function', {
      description: `inference-tables ${environment}: records the served entities of each deployed configuration`,
      entry: 'served-entities.ts',
      handler: 'record',
      timeout: Duration.minutes(1),
      role,
      logGroup: logs,
      configFile: props.configFile,
      key: storage.key,
    });
    storage.grantServedEntitiesWrite(this.function);
    props.serving.grantReadWrite(this.function);
    // The framework's function runs under a role of its own, without a managed policy.
    const frameworkLogs = ProjectFunction.logGroup(this, 'ProviderLogs', storage.key, props.logRetention);
    const frameworkRole = new Role(this, 'ProviderRole', { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description: `inference-tables ${environment} custom-resource provider` });
    frameworkLogs.grantWrite(frameworkRole);
    const provider = new Provider(this, 'Provider', { onEventHandler: this.function, frameworkOnEventRole: frameworkRole, logGroup: frameworkLogs, providerFunctionEnvEncryption: storage.key });
    Validations.of(frameworkRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.function.node.defaultChild as CfnFunction)}.Arn>:*]`,
      reason: "CDK's provider framework invokes the recorder function by its ARN with any version qualifier.",
    });
    new CustomResource(this, 'Resource', { serviceToken: provider.serviceToken, properties: { ConfigVersion: props.configVersion }, resourceType: 'Custom::ServedEntities' });
  }
}
