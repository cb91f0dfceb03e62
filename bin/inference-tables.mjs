#!/usr/bin/env node
// The `inference-tables` command: runs the TypeScript CLI through tsx, no build step.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
