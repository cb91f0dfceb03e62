import type { APIGatewayEventIdentity } from 'aws-lambda';

/** The caller identity of a proxy event: every field API Gateway sets, null unless given. */
export function eventIdentity(known: Partial<APIGatewayEventIdentity>): APIGatewayEventIdentity {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp: '127.0.0.1',
    user: null,
    userAgent: null,
    userArn: null,
    ...known,
  };
}
