import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Config } from '../core/config/index.js';
import { ScoringError } from '../core/errors.js';
import { putAiGateway, readRequest, setAlias, setAliasRequest, transitionRequest, transitionStage } from '../core/serving-changes.js';
import type { ServingChange, ServingControl } from '../core/serving-state.js';
import { UserFacingError } from '../shared/errors.js';
import { loadConfig } from '../wiring/config-file.js';
import { environmentServing } from '../wiring/deployed.js';
import { localServing } from '../wiring/local.js';

/** A change the serving state refused, or could not make: the reason, as the API would answer it. */
export class ServingChangeError extends UserFacingError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ServingChangeError';
  }
}

interface Where {
  readonly env?: string;
  readonly config: string;
  readonly dataDir: string;
}

/** Who made a change from the command line, for the log and the history. */
const caller = (): string => `cli:${userInfo().username}@${hostname()}`;

function sampling(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError(`'${value}' is not a sampling fraction in (0, 1].`);
  return n;
}

/**
 * The commands that change what is served and captured: a stage, an alias, an endpoint's
 * capture. They apply the same changes the management API does, to the data folder's state
 * (a running `serve` reads it within its TTL) or, with `--env`, to a deployed environment's
 * table with the user's own AWS credentials.
 */
export function addServingCommands(cli: Command, out: (text: string) => void, defaults: { dataDir: string }): void {
  const where = (c: Command) =>
    c
      .option('-e, --env <name>', "change a deployed environment's serving state (its DynamoDB table), with your AWS credentials")
      .option('-c, --config <env|file>', 'environment configuration (local changes)', 'local')
      .option('-d, --data-dir <dir>', 'folder of the tables (local changes)', defaults.dataDir);
  const apply = async (opts: Where, change: () => ServingChange, action: string): Promise<{ version: number; config: Config; ttl: number }> => {
    const config = loadConfig(opts.env ?? opts.config);
    let control: ServingControl;
    try {
      control = opts.env ? await environmentServing(config) : localServing(config, resolve(opts.dataDir));
      const { state, config: next } = await control.apply(change(), caller(), action);
      return { version: state.config_version, config: next, ttl: config.serving.state_ttl_seconds };
    } catch (error) {
      if (error instanceof ScoringError) throw new ServingChangeError(error.message, { cause: error });
      throw error;
    }
  };
  const live = (ttl: number, opts: Where) => (opts.env ? `live on ${opts.env} within ${ttl} s` : `a running server applies it within ${ttl} s`);

  const models = cli.command('models').description('The registry: move a version to a stage, point an alias at a version.');
  where(
    models
      .command('transition')
      .description('Move a model version to a stage (None, Staging, Production, Archived), as MLflow\'s transition-stage does.')
      .argument('<name>', 'registered model')
      .argument('<version>', 'version number')
      .argument('<stage>', 'None, Staging, Production or Archived')
      .option('--archive-existing', 'archive the versions now in that stage'),
  ).action(async (name: string, version: string, stage: string, opts: Where & { archiveExisting?: boolean }) => {
    const request = () => readRequest(transitionRequest, { name, version, stage, archive_existing_versions: opts.archiveExisting ?? false });
    const { version: v, ttl } = await apply(opts, () => transitionStage(request()), `transition-stage ${name} ${version} ${stage}`);
    out(`${name} version ${version} is now in ${request().stage} (serving configuration version ${v}); ${live(ttl, opts)}.\n`);
  });
  where(
    models
      .command('alias')
      .description('Point an alias (@champion) at a model version.')
      .argument('<name>', 'registered model')
      .argument('<alias>', 'alias name, without @')
      .argument('<version>', 'version number'),
  ).action(async (name: string, alias: string, version: string, opts: Where) => {
    const { version: v, ttl } = await apply(opts, () => setAlias(readRequest(setAliasRequest, { name, alias, version })), `alias ${name}@${alias} ${version}`);
    out(`${name}@${alias} now points at version ${version} (serving configuration version ${v}); ${live(ttl, opts)}.\n`);
  });

  const endpoints = cli.command('endpoints').description("An endpoint's capture into its inference table.");
  where(
    endpoints
      .command('capture')
      .description('Enable or disable capture of an endpoint, and set its sampling fraction.')
      .argument('<name>', 'endpoint')
      .addOption(new Option('--enable', 'capture its requests').conflicts('disable'))
      .addOption(new Option('--disable', 'capture nothing until enabled again').conflicts('enable'))
      .addOption(new Option('--sampling <fraction>', 'share of requests captured, in (0, 1]').argParser(sampling)),
  ).action(async (name: string, opts: Where & { enable?: boolean; disable?: boolean; sampling?: number }) => {
    if (!opts.enable && !opts.disable && opts.sampling === undefined) throw new ServingChangeError('give --enable, --disable or --sampling <fraction>.');
    const fields = { ...(opts.enable ? { enabled: true } : opts.disable ? { enabled: false } : {}), ...(opts.sampling !== undefined ? { sampling_fraction: opts.sampling } : {}) };
    const { version: v, config, ttl } = await apply(opts, () => putAiGateway(name, { inference_table_config: fields }), `capture ${name} ${JSON.stringify(fields)}`);
    const capture = config.endpoints.find((e) => e.name === name)?.capture;
    out(`${name}: capture ${capture?.enabled ? `enabled at sampling ${capture.sampling_fraction}` : 'disabled'} (serving configuration version ${v}); ${live(ttl, opts)}.\n`);
  });
}
