import { App } from 'aws-cdk-lib';
import { createApp } from '../lib/app.js';
import { loadConfig } from '../lambdas/wiring/config-file.js';

const app = new App();
createApp(app, loadConfig(String(app.node.tryGetContext('env') ?? 'dev')));
