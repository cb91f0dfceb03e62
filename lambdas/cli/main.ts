import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { LabelsFileError, normalizeLabelsFile } from '../adapters/local/labels-file.js';
import { compareSamples } from '../core/monitoring/index.js';
import { NAME_PATTERN, environmentNames, isValidName } from '../core/names.js';
import { QueryError, type QueryStats } from '../core/ports.js';
import type { RefreshDefinitionSource } from '../core/refresh-steps.js';
import { SampleFileError, readSampleFile } from '../core/sample-file.js';
import { RedriveError, type RedriveOptions } from '../core/spill.js';
import { PRODUCT_VERSION } from '../core/version.js';
import { UserFacingError } from '../shared/errors.js';
import { loadConfig } from '../wiring/config-file.js';
import type { Config } from '../core/config/index.js';
import type { TableHealth } from '../core/health.js';
import { environmentQueryEngine, environmentStore, environmentStreams, redriveEnvironment, uploadToEnvironment } from '../wiring/deployed.js';
import { localStore, openLocalQueryEngine, redriveDataFolder, startLocalStack, storeInDataFolder, withDataFolder } from '../wiring/local.js';
import { type MaintenanceReport, runLocalMaintenance } from '../wiring/local-maintenance.js';
import { type RefreshProgress, runLocalRefresh } from '../wiring/local-refresh.js';
import { type EndpointReport, REPORTED_DISAGREEMENTS, capturedEndpoints, readEndpointState } from '../workflow/steps.js';
import { OUTPUT_FORMATS, type OutputFormat, formatDrift, formatHealth, formatResult } from './format.js';
import { DoctorFindings, examine } from './doctor.js';
import { RepairIncomplete, describeRepair, repairEndpoints, startRefreshCommand, unfinished } from './repair.js';
import { addServingCommands } from './serving.js';
import { addUiCommand } from './ui.js';

/** Default folder of the local tables. */
export const DEFAULT_DATA_DIR = '.inference-tables';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`'${value}' is not a port number (0-65535).`);
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`'${value}' is not a positive whole number.`);
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 900) throw new InvalidArgumentError(`'${value}' is not a number of seconds between 0 and 900.`);
  return n;
}

function program(out: (text: string) => void, world: CliWorld): Command {
  const env = process.env;
  const cli = new Command('inference-tables')
    .description('Inference tables for served models: capture every request and response into Parquet tables you query with SQL.')
    .version(PRODUCT_VERSION)
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: (t) => process.stderr.write(t) });

  cli
    .command('serve')
    .description('Run the local stack: the scoring proxy with its demo models, capturing into local Parquet tables.')
    .option('-c, --config <env|file>', 'environment name (config/<env>.json) or a JSON file', 'local')
    .option('-d, --data-dir <dir>', 'folder of the tables', env.INFERENCE_TABLES_DATA_DIR ?? DEFAULT_DATA_DIR)
    .option('--host <address>', 'address to listen on; beyond loopback a token is required', '127.0.0.1')
    .addOption(new Option('-p, --port <port>', 'port to listen on').argParser(port).default(env.PORT ? port(env.PORT) : 8080, '$PORT or 8080'))
    .option('--buffer-interval <seconds>', 'deliver captured records at least this often (overrides the config)', seconds)
    .action(async (opts: { config: string; dataDir: string; host: string; port: number; bufferInterval?: number }) => {
      const config = loadConfig(opts.config);
      const dataDir = resolve(opts.dataDir);
      const stack = await startLocalStack({
        config,
        dataDir,
        host: opts.host,
        port: opts.port,
        token: env.INFERENCE_TABLES_TOKEN || undefined,
        managementToken: env.INFERENCE_TABLES_MANAGEMENT_TOKEN || undefined,
        bufferIntervalSeconds: opts.bufferInterval,
        refreshDefinition: await world.refreshDefinition(),
      });
      const url = stack.server.url;
      out(
        [
          `inference-tables ${PRODUCT_VERSION} serving ${config.environment} on ${url}`,
          `  tables in ${dataDir}`,
          ...config.endpoints.map((e) => `  endpoint ${e.name}: POST ${url}/serving-endpoints/${e.name}/invocations`),
          ...config.models.map((m) => `  model ${m.name}: POST ${url}/model/${m.name}/<version|stage|@alias>/invocations`),
          `OpenAI clients: base URL ${url}/serving-endpoints, model = the endpoint's name (chat, completions, embeddings; "stream": true)`,
          `Management (registry stages and aliases, endpoint traffic and capture): ${url}/api/2.0/mlflow/… and PUT ${url}/api/2.0/serving-endpoints/<name>/config|ai-gateway${env.INFERENCE_TABLES_MANAGEMENT_TOKEN ? ' with the management token' : ', on loopback only'}`,
          `Endpoint page (endpoints, requests, SQL, monitoring): ${url}/`,
          `Query: npx inference-tables query "SELECT * FROM ${config.endpoints[0]?.name.replaceAll('-', '_') ?? 'unrouted'}_payload"`,
          config.refresh.enabled
            ? `Refresh (unpack, labels, metrics, alerts) every ${config.refresh.schedule_minutes} min; now: npx inference-tables refresh`
            : 'Refresh: npx inference-tables refresh',
          '',
        ].join('\n'),
      );
      await new Promise<void>((done) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) return;
          stopping = true;
          out(`${signal}: answering requests in flight and delivering captured records…\n`);
          stack
            .close()
            .then(() => out(`stopped; ${stack.stream.delivered} records delivered.\n`))
            .catch((error: unknown) => process.stderr.write(`inference-tables: ${(error as Error).message}\n`))
            .finally(done);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });

  cli
    .command('query')
    .description('Run SQL (Athena dialect) on the local tables, e.g. SELECT * FROM iris_payload, or with --env on a deployed environment.')
    .argument('<sql>', 'one SQL statement')
    .addOption(new Option('-f, --format <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .option('-d, --data-dir <dir>', 'folder of the tables', env.INFERENCE_TABLES_DATA_DIR ?? DEFAULT_DATA_DIR)
    .option('-c, --config <env|file>', 'environment whose endpoints get (possibly empty) tables', 'local')
    .option('-e, --env <name>', "query a deployed environment (config/<name>.json) with Athena, in its workgroup")
    .action(async (sql: string, opts: { format: OutputFormat; dataDir: string; config: string; env?: string }) => {
      if (opts.env) {
        await queryDeployed(sql, opts.env, opts.format, out);
        return;
      }
      const engine = await openLocalQueryEngine(resolve(opts.dataDir), loadConfig(opts.config));
      try {
        out(formatResult(await engine.query(sql), opts.format));
      } finally {
        engine.close();
      }
    });
  cli
    .command('doctor')
    .description("Check every endpoint's tables (files, schema, quarantine, last refresh, schedule), record the result the endpoint API reports, and say what to fix.")
    .option('-d, --data-dir <dir>', 'folder of the tables', env.INFERENCE_TABLES_DATA_DIR ?? DEFAULT_DATA_DIR)
    .option('-c, --config <env|file>', 'environment configuration', 'local')
    .option('-e, --env <name>', "check a deployed environment's tables, in its bucket")
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (opts: { dataDir: string; config: string; env?: string; format: 'table' | 'json' }) => {
      const config = loadConfig(opts.env ?? opts.config);
      const results = opts.env ? await examineEnvironment(config) : await withDataFolder(config, resolve(opts.dataDir), (deps) => examine(config, deps.store, { engine: deps.engine }));
      out(opts.format === 'json' ? `${JSON.stringify(results, null, 2)}\n` : formatHealth(results));
      const unwell = results.filter((h) => h.status !== 'ACTIVE');
      if (unwell.length > 0) throw new DoctorFindings(`${unwell.length} of ${results.length} endpoints need attention: ${unwell.map((h) => `${h.endpoint} (${h.status})`).join(', ')}.`);
    });

  cli
    .command('refresh')
    .description('Run the refresh workflow now: unpack new captured requests into <endpoint>_unpacked and attach labels.')
    .option('--endpoint <name...>', 'only these endpoints (default: every captured endpoint)')
    .option('-d, --data-dir <dir>', 'folder of the tables', env.INFERENCE_TABLES_DATA_DIR ?? DEFAULT_DATA_DIR)
    .option('-c, --config <env|file>', 'environment configuration', 'local')
    .action(async (opts: { endpoint?: string[]; dataDir: string; config: string }) => {
      const config = loadConfig(opts.config);
      const result = await runLocalRefresh({ config, dataDir: resolve(opts.dataDir), definition: await world.refreshDefinition(), endpoints: opts.endpoint, onProgress: progressLine });
      out(describeRefresh(result.run_id, result.reports));
    });

  cli
    .command('repair')
    .description('Bring tables back to health: put back quarantined files that read again, recompute the metrics of windows whose requests came back, and say what is still missing; then refresh and check.')
    .option('--endpoint <name...>', 'only these endpoints (default: every captured endpoint)')
    .option('--accept-missing', 'recompute windows whose files are missing from what is left, rather than only report them')
    .option('-d, --data-dir <dir>', 'folder of the tables', env.INFERENCE_TABLES_DATA_DIR ?? DEFAULT_DATA_DIR)
    .option('-c, --config <env|file>', 'environment configuration', 'local')
    .option('-e, --env <name>', "repair a deployed environment's tables (the next refresh finishes the work)")
    .action(async (opts: { endpoint?: string[]; acceptMissing?: boolean; dataDir: string; config: string; env?: string }) => {
      const config = loadConfig(opts.env ?? opts.config);
      const known = capturedEndpoints(config);
      const endpoints = opts.endpoint?.length ? opts.endpoint : known;
      const unknown = endpoints.filter((e) => !known.includes(e));
      if (unknown.length > 0) throw new RepairIncomplete(`unknown endpoint ${unknown.join(', ')} in ${config.environment}; configured: ${known.join(', ')}`);
      const options = { acceptMissing: opts.acceptMissing };
      if (opts.env) {
        const { engine } = environmentQueryEngine(config);
        const names = environmentNames(config.environment, config.database);
        try {
          out(describeRepair(await repairEndpoints({ config, store: await environmentStore(config), engine, dialect: 'athena', database: names.database }, endpoints, options)));
        } finally {
          engine.close();
        }
        out(`The scheduled redrive puts replayed records into the streams (every ${config.delivery.redrive_minutes} min); the next refresh reads the listed files again and recomputes their windows; to run it now:\n  ${startRefreshCommand(config)}\n`);
        return;
      }
      const dataDir = resolve(opts.dataDir);
      const reports = await withDataFolder(config, dataDir, (deps) => repairEndpoints(deps, endpoints, options));
      out(describeRepair(reports));
      if (reports.some((r) => r.replayed_records > 0)) {
        // Into the stream now, so the refresh below unpacks them; a running server redrives them itself.
        await redriveDataFolder(config, dataDir, {}).then(
          (r) => out(`  ${r.redriven} replayed records delivered to the payload tables\n`),
          (error: unknown) => out(`  ${(error as Error).message}\n`),
        );
      }
      const result = await runLocalRefresh({ config, dataDir, definition: await world.refreshDefinition(), endpoints, onProgress: progressLine });
      out(describeRefresh(result.run_id, result.reports));
      const health = (await withDataFolder(config, dataDir, (deps) => examine(config, deps.store, { engine: deps.engine }))).filter((h) => endpoints.includes(h.endpoint));
      out(formatHealth(health));
      const left = unfinished(reports);
      if (left) throw new RepairIncomplete(left);
    });

  cli
    .command('compact')
    .description('Compact the local payload tables (the small files the refresh has read become one file per partition, atomically) and apply the retention; the server does it every local.compact_minutes.')
    .option('-d, --data-dir <dir>', 'folder of the tables', env.INFERENCE_TABLES_DATA_DIR ?? DEFAULT_DATA_DIR)
    .option('-c, --config <env|file>', 'environment configuration', 'local')
    .option('--now', 'delete the files replaced by earlier compactions without waiting local.compact_grace_minutes (no query may be reading them)')
    .action(async (opts: { dataDir: string; config: string; now?: boolean }) => {
      const report = await runLocalMaintenance({ config: loadConfig(opts.config), dataDir: resolve(opts.dataDir), ...(opts.now ? { graceMs: 0 } : {}) });
      out(describeMaintenance(report));
    });

  cli
    .command('drift')
    .description('Drift of every column two files share (CSV or Parquet): KS, chi-squared, JS, Wasserstein, PSI, TV and L-infinity, with a verdict.')
    .requiredOption('--baseline <file>', 'the reference sample (.csv or .parquet)')
    .requiredOption('--current <file>', 'the sample compared with it (.csv or .parquet)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(new Option('--alpha <rate>', 'false discovery rate across columns').argParser(fraction).default(0.05))
    .addOption(new Option('--min-samples <n>', 'fewer values on either side give INSUFFICIENT_DATA').argParser(count).default(100))
    .addOption(new Option('--min-js <distance>', 'smallest JS distance that counts as drift').argParser(fraction).default(0.1))
    .action(async (opts: { baseline: string; current: string; format: 'table' | 'json'; alpha: number; minSamples: number; minJs: number }) => {
      const [base, current] = await Promise.all([readSampleFile(resolve(opts.baseline)), readSampleFile(resolve(opts.current))]);
      const shared = base.filter((b) => current.some((c) => c.name === b.name));
      if (shared.length === 0) throw new SampleFileError(`${opts.baseline} and ${opts.current} share no column`);
      const rows = compareSamples(base, current, { alpha: opts.alpha, min_samples: opts.minSamples, min_js_distance: opts.minJs });
      out(opts.format === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : formatDrift(rows));
      const only = [...base.filter((b) => !current.some((c) => c.name === b.name)).map((b) => `${b.name} (baseline only)`), ...current.filter((c) => !base.some((b) => b.name === c.name)).map((c) => `${c.name} (current only)`)];
      if (only.length) process.stderr.write(`not compared: ${only.join(', ')}\n`);
    });

  cli
    .command('redrive')
    .description('Put spilled capture records (kept under _spill/ when the stream did not take them in time) back into the stream.')
    .option('-d, --data-dir <dir>', 'folder of the tables', env.INFERENCE_TABLES_DATA_DIR ?? DEFAULT_DATA_DIR)
    .option('-c, --config <env|file>', 'environment name (config/<env>.json) or a JSON file', 'local')
    .option('-e, --env <name>', "redrive a deployed environment's spill prefix into its Firehose streams")
    .option('--endpoint <name>', 'only this endpoint')
    .addOption(new Option('--max-objects <n>', 'spill objects taken in this run, oldest first').argParser(positiveInt))
    .action(async (opts: { dataDir: string; config: string; env?: string; endpoint?: string; maxObjects?: number }) => {
      const options: RedriveOptions = { ...(opts.endpoint ? { endpoint: opts.endpoint } : {}), ...(opts.maxObjects ? { maxObjects: opts.maxObjects } : {}) };
      if (opts.endpoint !== undefined && !isValidName(opts.endpoint)) throw new RedriveError(`'${opts.endpoint.slice(0, 64)}' is not an endpoint name (${NAME_PATTERN}).`);
      const report = opts.env ? await redriveEnvironment(loadConfig(opts.env), options) : await redriveDataFolder(loadConfig(opts.config), resolve(opts.dataDir), options);
      out(`${report.redriven} spilled records put back into the stream from ${report.objects - report.failed.length - report.unreadable.length} of ${report.objects} spill objects.\n`);
      for (const f of report.failed) out(`  kept ${f.key} (${f.records} records): ${f.error}\n`);
      for (const u of report.unreadable) out(`  kept ${u.key}: line ${u.line} is not a spilled record; look at it by hand\n`);
      if (report.failed.length > 0 || report.unreadable.length > 0) throw new RedriveError(`${report.failed.length + report.unreadable.length} spill objects were kept; run redrive again later.`);
    });

  addServingCommands(cli, out, { dataDir: env.INFERENCE_TABLES_DATA_DIR ?? DEFAULT_DATA_DIR });
  addUiCommand(cli, out, { dataDir: env.INFERENCE_TABLES_DATA_DIR ?? DEFAULT_DATA_DIR });

  const labels = cli.command('labels').description('Ground-truth labels, joined to predictions by client_request_id (and row_index).');
  labels
    .command('upload')
    .description('Upload a labels file (CSV, JSON lines or Parquet with client_request_id, label and optionally row_index, labeled_at).')
    .argument('<file>', 'the labels file')
    .requiredOption('--endpoint <name>', 'endpoint the labels belong to')
    .option('--label-column <name>', 'column holding the label', 'label')
    .option('-e, --env <name>', "upload to a deployed environment's labels prefix in S3")
    .option('-d, --data-dir <dir>', 'folder of the tables', env.INFERENCE_TABLES_DATA_DIR ?? DEFAULT_DATA_DIR)
    .option('-c, --config <env|file>', 'environment configuration (local uploads)', 'local')
    .action(async (file: string, opts: { endpoint: string; labelColumn: string; env?: string; dataDir: string; config: string }) => {
      const config = loadConfig(opts.env ?? opts.config);
      const known = capturedEndpoints(config);
      if (!known.includes(opts.endpoint)) throw new LabelsFileError(`unknown endpoint '${opts.endpoint}' in ${config.environment}; configured: ${known.join(', ')}`);
      // Labels must read as the predictions' type, once a refresh has settled it.
      const tables = opts.env ? await environmentStore(config) : localStore(resolve(opts.dataDir));
      const predictionType = await readEndpointState(tables, opts.endpoint).then(
        (state) => state.prediction_type,
        (error: unknown) => {
          process.stderr.write(`inference-tables: cannot read the type of ${opts.endpoint}'s predictions (${(error as Error).message}); the next refresh checks the labels instead.\n`);
          return null;
        },
      );
      const labelsFile = await normalizeLabelsFile(resolve(file), opts.endpoint, { labelColumn: opts.labelColumn, predictionType });
      let where: string;
      if (opts.env) {
        where = await uploadToEnvironment(config, labelsFile.key, labelsFile.body, 'application/vnd.apache.parquet');
      } else {
        where = await storeInDataFolder(resolve(opts.dataDir), labelsFile.key, labelsFile.body);
      }
      const skipped = labelsFile.skipped > 0 ? ` (${labelsFile.skipped} rows without client_request_id left out)` : '';
      out(`${labelsFile.rows} labels for ${opts.endpoint} stored in ${where}${skipped}; the next refresh attaches them.\n`);
    });
  return cli;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError(`'${value}' is not a number in [0, 1).`);
  return n;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`'${value}' is not a positive integer.`);
  return n;
}

function progressLine(p: RefreshProgress): void {
  // Progress on stderr, so the report on stdout stays clean for pipes.
  if (p.kind === 'entered' && !['RunStatement', 'UnpackTask'].includes(p.state)) process.stderr.write(`  ${p.state}…\n`);
  if (p.kind === 'failed' || p.kind === 'retried') process.stderr.write(`  ${p.state} ${p.kind}${p.detail ? `: ${p.detail}` : ''}\n`);
}

function describeRefresh(runId: string, reports: readonly EndpointReport[]): string {
  const lines = [`refresh ${runId}:`];
  for (const r of reports) {
    if (r.files === 0) {
      lines.push(`  ${r.endpoint}: no new captured requests`);
      continue;
    }
    lines.push(`  ${r.endpoint}: ${r.files} files, ${r.requests} requests → ${r.predictions} predictions, ${r.rejected} rejected (kept in ${r.endpoint.replaceAll('-', '_')}_unpack_errors), ${r.skipped_status} non-2xx skipped${r.backlog ? `, ${r.backlog} files left for the next run` : ''}`);
    if (r.metric_windows > 0) lines.push(`    metrics of ${r.metric_windows} windows; ${r.alerts} alert${r.alerts === 1 ? '' : 's'}${r.alerts ? ` (see ${r.endpoint.replaceAll('-', '_')}_alerts)` : ''}`);
    if (r.labels_refused > 0) lines.push(`    ${r.labels_refused} label${r.labels_refused === 1 ? '' : 's'} cannot be read as the predictions' type and ${r.labels_refused === 1 ? 'is' : 'are'} kept out of ${r.endpoint.replaceAll('-', '_')}_unpacked (no good label was replaced; inference-tables doctor names them)`);
    if (r.labels_unmatched > 0) lines.push(`    ${r.labels_unmatched} label${r.labels_unmatched === 1 ? '' : 's'} match no captured prediction (an id mistyped, a request not sampled, or not refreshed yet)`);
    if (r.quarantined > 0) lines.push(`    ${r.quarantined} payload file${r.quarantined === 1 ? '' : 's'} could not be read and ${r.quarantined === 1 ? 'was' : 'were'} moved to the quarantine (see ${r.report}; inference-tables doctor lists them)`);
    for (const [what, n] of Object.entries(r.disagreements)) lines.push(`    signature disagreement: ${what} (${n}×)`);
    if (Object.keys(r.disagreements).length >= REPORTED_DISAGREEMENTS) lines.push(`    (the ${REPORTED_DISAGREEMENTS} most frequent; all of them in ${r.report})`);
  }
  return `${lines.join('\n')}\n`;
}

function describeMaintenance(report: MaintenanceReport): string {
  const lines: string[] = [];
  for (const t of report.compaction) {
    const what = t.partitions > 0 ? `${t.replaced} files (${t.rows} rows) compacted into ${t.partitions} file${t.partitions === 1 ? '' : 's'}` : 'nothing to compact';
    lines.push(`  ${t.table}: ${what}${t.deleted > 0 ? `; ${t.deleted} replaced files deleted` : ''}`);
    if (t.unreadable.length > 0) lines.push(`    ${t.unreadable.length} files cannot be read and were left in place (the next refresh quarantines them): ${t.unreadable.slice(0, 3).join(', ')}`);
  }
  const { payload, labels, quarantine } = report.retention;
  if (payload.length + labels.length + quarantine.length > 0) {
    lines.push(`  retention: ${payload.length} payload and error partitions, ${labels.length} label uploads and ${quarantine.length} quarantined files past their retention removed`);
  }
  return `compact:\n${lines.length > 0 ? lines.join('\n') : '  no payload tables yet'}\n`;
}

function describeStats(stats: QueryStats): string {
  const mb = stats.bytesScanned / (1024 * 1024);
  return `query ${stats.queryId}: scanned ${mb < 0.01 ? stats.bytesScanned + ' bytes' : mb.toFixed(2) + ' MB'}, ${stats.engineTimeMs} ms in Athena, about $${stats.costUsd.toFixed(6)}\n`;
}

/** `doctor --env`: the checks over the environment's bucket, with its Athena workgroup for the coverage check and its streams' conversion. */
async function examineEnvironment(config: Config): Promise<TableHealth[]> {
  const { engine } = environmentQueryEngine(config);
  try {
    return await examine(config, await environmentStore(config), {
      engine,
      dialect: 'athena',
      database: environmentNames(config.environment, config.database).database,
      streams: environmentStreams(config),
    });
  } finally {
    engine.close();
  }
}

/** Runs SQL on a deployed environment's Athena workgroup; Ctrl-C stops the query. */
async function queryDeployed(sql: string, envName: string, format: OutputFormat, out: (text: string) => void): Promise<void> {
  const { engine, workgroup } = environmentQueryEngine(loadConfig(envName));
  const stop = () => {
    process.stderr.write('stopping the query…\n');
    engine.cancel().catch(() => undefined);
  };
  process.once('SIGINT', stop);
  try {
    const result = await engine.query(sql);
    out(formatResult(result, format));
    // Cost on stderr, so csv and json output stay clean for pipes.
    if (result.stats) process.stderr.write(describeStats(result.stats));
  } catch (error) {
    if (error instanceof QueryError) throw error;
    throw new QueryError(`cannot query ${envName} (workgroup ${workgroup}): ${(error as Error).message}`, { cause: error });
  } finally {
    process.off('SIGINT', stop);
    engine.close();
  }
}

/** What the command gets from its entry point: the parts of the infrastructure it runs locally. */
export interface CliWorld {
  /** The synthesized refresh definition (`localRefreshDefinition` of `lib/refresh-definition.ts`). */
  /** Loads the refresh definition (the CDK app's), only for the commands that run a refresh. */
  readonly refreshDefinition: () => Promise<RefreshDefinitionSource>;
}

/**
 * Runs the command line; returns the exit code (0 ok, 1 failure, 2 usage error).
 * Errors are printed as one line naming the problem, never as a stack trace.
 */
export async function runCli(argv: readonly string[], world: CliWorld, out: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  try {
    await program(out, world).parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof UserFacingError) {
      process.stderr.write(`inference-tables: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`inference-tables: unexpected error: ${(error as Error).message}\n`);
    return 1;
  }
}
