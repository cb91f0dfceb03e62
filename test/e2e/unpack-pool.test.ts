import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDeliveryStream } from '../../lambdas/adapters/local/delivery-stream.js';
import { runLocalRefresh } from '../helpers/local.js';
import { UnpackPool } from '../../lambdas/adapters/local/unpack-pool.js';
import type { UnpackTask } from '../../lambdas/core/refresh-steps.js';
import { irisRecord } from '../../bench/records.js';
import { configWith } from '../helpers/config.js';
import { queryRows } from '../helpers/query.js';

// One payload file per task, so a run has several tasks for the pool to spread.
const config = configWith((raw) => {
  raw.refresh.files_per_task = 1;
});
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
let root: string;

/** Six payload files of mixed formats, some requests rejected, over two days. */
async function capture(dataDir: string): Promise<void> {
  const start = Date.UTC(2026, 10, 1, 22);
  for (let file = 0; file < 6; file++) {
    const stream = await LocalDeliveryStream.open({ dataDir, bufferIntervalMs: 0, bufferSizeBytes: 16 * 1024 * 1024 });
    const records = Array.from({ length: 40 }, (_, k) => {
      const i = file * 40 + k;
      const rows = Array.from({ length: 1 + (i % 3) }, (_, r) => FEATURES.map((_, j) => 1 + ((i + r + j) % 7) / 2));
      const response = JSON.stringify({ predictions: rows.map((r) => (r[2]! < 2.5 ? 0 : 1)) });
      const body =
        i % 4 === 0
          ? JSON.stringify({ dataframe_split: { columns: FEATURES, data: rows } })
          : i % 4 === 1
            ? JSON.stringify({ dataframe_records: rows.map((r) => Object.fromEntries(FEATURES.map((f, j) => [f, r[j]]))) })
            : i % 4 === 2
              ? `${FEATURES.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`
              : // A string where a double is declared: rejected with the reason.
                JSON.stringify({ dataframe_records: [{ sepal_length: 'wide', sepal_width: 1, petal_length: 1, petal_width: 1 }] });
      const format = i % 4 === 0 ? 'dataframe_split' : i % 4 === 2 ? 'csv' : 'dataframe_records';
      return irisRecord(i, { clientRequestId: `c-${i}`, receivedAtMs: start + i * 60_000, body, response: i % 4 === 3 ? '{"predictions":[0]}' : response, format });
    });
    await stream.put(records);
    await stream.close();
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'it-pool-'));
  await capture(join(root, 'one'));
  await cp(join(root, 'one'), join(root, 'many'), { recursive: true });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('local refresh: unpack tasks on several threads', () => {
  it('unpacks the same rows and rejects with worker threads as on one thread', async () => {
    const one = await runLocalRefresh({ config, dataDir: join(root, 'one'), endpoints: ['iris'], unpackThreads: 1 });
    // A task that failed in a worker would be retried (and might pass on the main thread): none may be.
    const retried: string[] = [];
    const many = await runLocalRefresh({
      config,
      dataDir: join(root, 'many'),
      endpoints: ['iris'],
      unpackThreads: 3,
      onProgress: (p) => p.kind === 'retried' && retried.push(`${p.state}: ${p.detail}`),
    });
    expect(retried).toEqual([]);
    const strip = (r: (typeof one.reports)[number]) => ({ ...r, report: undefined });
    expect(one.reports[0]).toMatchObject({ files: 6, requests: 240, rejected: 60 });
    expect(many.reports.map(strip)).toEqual(one.reports.map(strip));
    const table = (dir: string, name: string, columns: string) => queryRows(join(root, dir), config, `SELECT ${columns} FROM ${name} ORDER BY request_id, row_index`);
    const unpacked = 'request_id, row_index, "timestamp", sepal_length, sepal_width, petal_length, petal_width, prediction';
    expect(await table('many', 'iris_unpacked', unpacked)).toEqual(await table('one', 'iris_unpacked', unpacked));
    expect(await table('many', 'iris_unpack_errors', 'request_id, reason')).toEqual(await table('one', 'iris_unpack_errors', 'request_id, reason'));
  });

  it('fails a task whose worker throws, with the step function\'s message', async () => {
    let release!: () => void;
    const busy = new Promise<void>((resolve) => (release = resolve));
    const pool = new UnpackPool(async () => (await busy, { endpoint: 'iris', task: '00000', predictions: 0, rejected: 0 }), { config, dataDir: root }, 2);
    try {
      const first = pool.run({ run_id: 'r', endpoint: 'iris', task: '00000', manifest: 'nowhere.json' });
      // The calling thread is busy: this task runs in a worker, whose unpackTask finds no manifest.
      const second: UnpackTask = { run_id: 'r', endpoint: 'iris', task: '00001', manifest: '_refresh/runs/r/iris/tasks/00001.json' };
      await expect(pool.run(second)).rejects.toThrow('Task manifest _refresh/runs/r/iris/tasks/00001.json is missing');
      release();
      await expect(first).resolves.toMatchObject({ task: '00000' });
    } finally {
      await pool.close();
    }
  });
});
