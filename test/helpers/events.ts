import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { CaptureRecord } from '../../lambdas/core/capture-record.js';
import type { CaptureSink, CaptureStatus } from '../../lambdas/core/ports.js';
import { eventIdentity } from '../../lambdas/shared/proxy-event.js';

/** An API Gateway REST proxy event, as the local server and API Gateway build it. */
export function proxyEvent(method: string, path: string, body: string | null = null, headers: Record<string, string> = {}): APIGatewayProxyEvent {
  return {
    resource: '/{proxy+}',
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: path.slice(1) },
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      path,
      stage: 'prod',
      requestId: 'apigw-request',
      requestTimeEpoch: Date.UTC(2026, 10, 22, 10, 11, 12, 345),
      resourceId: 'r',
      resourcePath: '/{proxy+}',
      identity: eventIdentity({
        accountId: '123456789012',
        sourceIp: '203.0.113.7',
        userAgent: 'test',
        userArn: 'arn:aws:iam::123456789012:user/alice',
      }),
    },
  };
}

/** A JSON POST to a scoring route. */
export function invoke(path: string, body: unknown, contentType = 'application/json'): APIGatewayProxyEvent {
  return proxyEvent('POST', path, typeof body === 'string' ? body : JSON.stringify(body), { 'Content-Type': contentType });
}

/** The fake Lambda context shared by handler tests. */
export const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'scoring',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:scoring',
  memoryLimitInMB: '1024',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/scoring',
  logStreamName: '2026/11/22/[$LATEST]abc',
  getRemainingTimeInMillis: () => 29_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

/** A capture sink adapter that keeps records in memory (the port's simplest adapter). */
export class MemorySink implements CaptureSink {
  public readonly records: CaptureRecord[] = [];
  public failWith: Error | undefined;
  public async put(records: readonly CaptureRecord[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.records.push(...records);
  }
  public status(): CaptureStatus {
    return { status: 'ACTIVE', message: 'in memory' };
  }
}
