import { DescribeDeliveryStreamCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import type { DeliveryStreams, StreamConversion } from '../../core/ports.js';

/** Reads each capture stream's Parquet conversion settings with DescribeDeliveryStream. */
export class FirehoseConversions implements DeliveryStreams {
  public constructor(
    private readonly client: FirehoseClient,
    private readonly streamsFor: (endpoint: string) => readonly string[],
  ) {}

  public async conversions(endpoint: string): Promise<StreamConversion[]> {
    return Promise.all(this.streamsFor(endpoint).map((stream) => this.describe(stream)));
  }

  private async describe(stream: string): Promise<StreamConversion> {
    try {
      const { DeliveryStreamDescription: d } = await this.client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: stream }));
      const conversion = d?.Destinations?.[0]?.ExtendedS3DestinationDescription?.DataFormatConversionConfiguration;
      const schema = conversion?.SchemaConfiguration;
      return {
        stream,
        exists: true,
        ...(d?.DeliveryStreamStatus ? { status: d.DeliveryStreamStatus } : {}),
        ...(d?.FailureDescription?.Details ? { failure: `${d.FailureDescription.Type}: ${d.FailureDescription.Details}` } : {}),
        // The service's default: a conversion configuration without Enabled is on.
        converts: conversion !== undefined && conversion.Enabled !== false,
        ...(schema?.DatabaseName ? { database: schema.DatabaseName } : {}),
        ...(schema?.TableName ? { table: schema.TableName } : {}),
        ...(schema?.VersionId ? { versionId: schema.VersionId } : {}),
      };
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return { stream, exists: false, converts: false };
      throw error;
    }
  }
}
