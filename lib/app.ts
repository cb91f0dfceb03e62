import { type App, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { Config } from './config.js';
import { PayloadCatalog } from './constructs/payload-catalog.js';

/** Props of the capture stack of one environment. */
export interface CaptureStackProps extends StackProps {
  readonly config: Config;
}

/** The capture resources of one environment: for now its Glue catalog of payload tables. */
export class CaptureStack extends Stack {
  public readonly catalog: PayloadCatalog;

  public constructor(scope: Construct, id: string, props: CaptureStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.catalog = new PayloadCatalog(this, 'Catalog', {
      databaseName: config.database ?? `inference_tables_${config.environment.replaceAll('-', '_')}`,
      endpoints: [...config.endpoints.map((e) => e.name), ...config.models.map((m) => m.name)],
      location: `s3://inference-tables-${config.environment}-${this.account}/`,
    });
  }
}

/**
 * Builds the stacks of one environment. Called by `bin/app.ts` (`cdk synth -c env=<name>`)
 * and by the tests, so both build the same thing.
 */
export function createApp(app: App, config: Config): { capture: CaptureStack } {
  return { capture: new CaptureStack(app, `InferenceTables-${config.environment}`, { config }) };
}
