import middy from '@middy/core';
import { type CustomResourceEvent, type CustomResourceResult, servedEntitiesRecorder } from '../deploy/handler.js';
import { awsServedEntitiesDependencies } from '../wiring/aws.js';

/** The deploy-time recorder of served entities (a CloudFormation custom resource's onEvent handler). */
export const record = middy<CustomResourceEvent, CustomResourceResult>().handler(servedEntitiesRecorder(awsServedEntitiesDependencies()));
