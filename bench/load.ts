/**
 * `npm run load`: sends a bounded number of scoring requests at a chosen concurrency to the
 * local stack on 127.0.0.1 (the real `inference-tables serve`, in its own process), kills it
 * with SIGKILL several times along the way and starts it again, then stops it cleanly and
 * checks the tables: every answered request must be in the payload table, and after a refresh
 * in the unpacked table. Prints requests answered, rows captured, rows lost (must be 0), the
 * server's peak memory and the throughput; exits 1 when a row is lost.
 *
 *   npm run load -- --requests 20000 --concurrency 64 --kills 3
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalQueryEngine } from '../lambdas/adapters/local/query-engine.js';
import { runLocalRefresh } from '../test/helpers/local.js';
import { setLogLevel } from '../lambdas/core/log.js';
import { loadConfig } from '../lambdas/wiring/config-file.js';

// The refresh at the end raises drift alerts on this synthetic traffic; they are not the point here.
setLogLevel('error');

const ROOT = join(import.meta.dirname, '..');
const HOST = '127.0.0.1';

function positive(name: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`load: --${name} must be a whole number from ${min} to ${max} (got '${value}').\n`);
    process.exit(2);
  }
  return n;
}

function options() {
  try {
    return parseArgs({
      options: {
        requests: { type: 'string', default: '20000' },
        concurrency: { type: 'string', default: '64' },
        kills: { type: 'string', default: '3' },
        'data-dir': { type: 'string' },
        keep: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    process.stderr.write(`load: ${(error as Error).message}\nusage: npm run load -- [--requests N] [--concurrency C] [--kills K] [--data-dir DIR] [--keep]\n`);
    process.exit(2);
  }
}
const values = options();
const REQUESTS = positive('requests', values.requests, 1, 1_000_000);
const CONCURRENCY = positive('concurrency', values.concurrency, 1, 4096);
const KILLS = positive('kills', values.kills, 0, 100);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** The server process, started again after each kill; its peak memory is sampled from /proc. */
class Server {
  public child: ChildProcess | undefined;
  public peakRssKiB = 0;
  public starts = 0;
  private sampler: NodeJS.Timeout | undefined;

  public constructor(
    private readonly dataDir: string,
    private readonly port: number,
  ) {}

  public get url(): string {
    return `http://${HOST}:${this.port}`;
  }

  public async start(): Promise<void> {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'inference-tables.mjs'), 'serve', '--data-dir', this.dataDir, '--port', String(this.port), '--buffer-interval', '1'], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.child = child;
    this.starts++;
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode} while starting`);
      try {
        if ((await fetch(`${this.url}/ping`)).ok) break;
      } catch {
        // not listening yet
      }
      if (i > 600) throw new Error('the server did not answer /ping within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    this.sampler = setInterval(() => void this.sample(), 250);
  }

  private async sample(): Promise<void> {
    const pid = this.child?.pid;
    if (!pid) return;
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    this.peakRssKiB = Math.max(this.peakRssKiB, hwm);
  }

  /** SIGKILL at once, with requests in flight: no flush, no goodbye. */
  public async kill(): Promise<void> {
    clearInterval(this.sampler);
    const child = this.child as ChildProcess;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM: answers what is in flight and delivers every buffered record. */
  public async stop(): Promise<void> {
    await this.sample();
    clearInterval(this.sampler);
    const child = this.child as ChildProcess;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

const row = [5.1, 3.5, 1.4, 0.2];

async function main(): Promise<void> {
  const dataDir = values['data-dir'] ? resolve(values['data-dir']) : await mkdtemp(join(tmpdir(), 'inference-tables-load-'));
  const server = new Server(dataDir, await freePort());
  await server.start();
  process.stdout.write(`load: ${REQUESTS} requests, ${CONCURRENCY} at a time, ${KILLS} kills (SIGKILL) of ${server.url}, data in ${dataDir}\n`);

  const answered = new Map<string, number>(); // x-request-id → request index
  const failures = new Map<string, number>();
  let overloaded = 0;
  let next = 0;
  const retry: number[] = [];
  const killAt = Array.from({ length: KILLS }, (_, k) => Math.floor((REQUESTS * (k + 1)) / (KILLS + 1)));
  let restarting: Promise<void> | undefined;
  let inFlight = 0;
  const started = performance.now();

  const maybeKill = () => {
    if (restarting || killAt.length === 0 || answered.size < (killAt[0] as number)) return;
    killAt.shift();
    restarting = server
      .kill()
      .then(() => server.start())
      .finally(() => (restarting = undefined));
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      const i = retry.pop() ?? (next < REQUESTS ? next++ : undefined);
      if (i === undefined) {
        // Requests still in flight may fail and come back to the retry list.
        if (inFlight === 0) return;
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      inFlight++;
      try {
        const res = await fetch(`${server.url}/serving-endpoints/iris/invocations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ client_request_id: `load-${i}`, inputs: [row] }),
          signal: AbortSignal.timeout(30_000),
        });
        await res.arrayBuffer();
        inFlight--;
        if (res.status === 200) {
          answered.set(res.headers.get('x-request-id') as string, i);
          maybeKill();
          continue;
        }
        if (res.status === 503) overloaded++;
        else failures.set(`HTTP ${res.status}`, (failures.get(`HTTP ${res.status}`) ?? 0) + 1);
      } catch (error) {
        inFlight--;
        // The server was killed under this request (or is starting again): it was not
        // answered, so it is sent again.
        const kind = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
        failures.set(kind, (failures.get(kind) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 50));
      }
      retry.push(i);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (restarting) await restarting;
  const seconds = (performance.now() - started) / 1000;
  await server.stop();

  const config = loadConfig('local');
  const ids = async (sql: string) => {
    const engine = await LocalQueryEngine.open(dataDir, config);
    try {
      return new Set((await engine.query(sql)).rows.map((r) => String(r.request_id)));
    } finally {
      engine.close();
    }
  };
  const captured = await ids("SELECT DISTINCT request_id FROM iris_payload WHERE client_request_id LIKE 'load-%'");
  const lost = [...answered.keys()].filter((id) => !captured.has(id));
  const refresh = await runLocalRefresh({ config, dataDir, endpoints: ['iris'] });
  const unpacked = await ids("SELECT DISTINCT request_id FROM iris_unpacked WHERE client_request_id LIKE 'load-%'");
  const notUnpacked = [...answered.keys()].filter((id) => !unpacked.has(id));

  const lines = [
    `requests answered (200):        ${answered.size}`,
    `rows captured (payload table):  ${captured.size}  (${captured.size - answered.size} more than answered: captured, then killed before the answer left)`,
    `rows lost:                      ${lost.length}`,
    `answered but not unpacked:      ${notUnpacked.length}  (refresh: ${refresh.reports[0]?.predictions ?? 0} predictions, ${refresh.reports[0]?.rejected ?? 0} rejected)`,
    `server starts / kills:          ${server.starts} / ${server.starts - 1}`,
    `refused while overloaded (503): ${overloaded}`,
    `sent again after a kill:        ${[...failures].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
    `server peak RSS:                ${(server.peakRssKiB / 1024).toFixed(0)} MiB`,
    `throughput:                     ${(answered.size / seconds).toFixed(0)} answered requests/s over ${seconds.toFixed(1)} s, restarts included`,
    `machine:                        ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (!values.keep && !values['data-dir']) await rm(dataDir, { recursive: true, force: true });
  if (lost.length > 0 || notUnpacked.length > 0) {
    process.stderr.write(`load: ${lost.length} answered requests are not in the payload table, ${notUnpacked.length} not in the unpacked table, e.g. ${[...lost, ...notUnpacked].slice(0, 5).join(', ')}\n`);
    process.exit(1);
  }
}

await main();
