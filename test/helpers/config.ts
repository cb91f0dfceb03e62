import { join } from 'node:path';
import { type Config, parseConfig } from '../../lambdas/core/config/index.js';
import { loadConfig } from '../../lambdas/wiring/config-file.js';

/** The repository root. */
export const ROOT = join(import.meta.dirname, '..', '..');

/** The demo configuration shipped in config/local.json. */
export function demoConfig(): Config {
  return loadConfig('local', ROOT);
}

/** A configuration built from the demo with changes. */
export function configWith(change: (raw: Record<string, any>) => void): Config {
  const raw = structuredClone(JSON.parse(JSON.stringify(demoConfig()))) as Record<string, any>;
  change(raw);
  return parseConfig(raw, 'test');
}
