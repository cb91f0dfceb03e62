import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Config, ConfigError, parseConfig } from '../core/config/index.js';

/** Reads and validates `config/<env>.json` (or any path ending in `.json`). */
export function loadConfig(envOrPath: string, root = process.cwd()): Config {
  const path = envOrPath.endsWith('.json') ? envOrPath : join(root, 'config', `${envOrPath}.json`);
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read configuration ${path}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new ConfigError(`Configuration ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return parseConfig(json, path);
}
