import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { glueColumns } from '../../lambdas/core/capture-record.js';
import { demoConfig } from '../helpers/config.js';

const template = Template.fromStack(createApp(new App(), demoConfig()).capture);

describe('Catalog: payload tables', () => {
  it('creates the environment database', () => {
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'inference_tables_local' } });
  });

  it('gives every payload table the columns of the capture record schema', () => {
    const tables = template.findResources('AWS::Glue::Table');
    const names = Object.values(tables).map((t) => t.Properties.TableInput.Name).sort();
    expect(names).toEqual(['chat_payload', 'echo_payload', 'iris_classifier_payload', 'iris_payload', 'unrouted_payload']);
    for (const t of Object.values(tables)) {
      expect(t.Properties.TableInput.StorageDescriptor.Columns.map((c: { Name: string; Type: string }) => [c.Name, c.Type])).toEqual(
        glueColumns().map((c) => [c.name, c.type]),
      );
    }
  });

  it('projects the endpoint and date partitions so new data needs no crawler', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'iris_payload',
        PartitionKeys: [
          { Name: 'endpoint', Type: 'string' },
          { Name: 'date', Type: 'string' },
        ],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.endpoint.values': 'iris',
          'projection.date.range': '2025-01-01,NOW',
        }),
      }),
    });
  });
});
