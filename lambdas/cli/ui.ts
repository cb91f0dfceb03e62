import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../wiring/config-file.js';
import { environmentUiSource } from '../wiring/deployed-ui.js';
import { localUiSource } from '../wiring/local-ui.js';
import { serveUi } from '../wiring/ui-server.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`'${value}' is not a port number (0-65535).`);
  return n;
}

/**
 * `inference-tables ui`: the endpoint page alone, on loopback. With `--env NAME` it reads that
 * deployed environment with the caller's AWS credentials (Athena, the bucket, the state table,
 * CloudWatch); without, the data folder. `npm start` serves the same page beside the proxy.
 */
export function addUiCommand(cli: Command, out: (text: string) => void, defaults: { readonly dataDir: string }): void {
  cli
    .command('ui')
    .description('Serve the endpoint page (endpoints, requests, SQL, monitoring) on loopback: a deployed environment with --env, else the local data folder.')
    .option('-e, --env <name>', 'read a deployed environment (config/<name>.json) with your AWS credentials')
    .option('-c, --config <env|file>', 'environment configuration of the local data folder', 'local')
    .option('-d, --data-dir <dir>', 'folder of the tables', defaults.dataDir)
    .addOption(new Option('-p, --port <port>', 'port to listen on').argParser(port).default(8081))
    .action(async (opts: { env?: string; config: string; dataDir: string; port: number }) => {
      const config = loadConfig(opts.env ?? opts.config);
      const source = opts.env ? await environmentUiSource(config, process.cwd()) : localUiSource({ config, dataDir: resolve(opts.dataDir) });
      // Loopback only: the page carries the caller's credentials' view of the account.
      const server = await serveUi({ source, host: '127.0.0.1', port: opts.port, token: process.env.INFERENCE_TABLES_TOKEN || undefined });
      const what = source.where.kind === 'aws' ? `environment ${source.where.environment} (workgroup ${source.where.workgroup})` : `data folder ${source.where.dataDir}`;
      out(`inference-tables endpoint page for ${what}: ${server.url}/\nCtrl-C stops it.\n`);
      await new Promise<void>((done) => {
        const stop = () => void server.close().finally(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
