import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalDeliveryStream, STAGING_DIR } from '../../lambdas/adapters/local/delivery-stream.js';
import { LocalQueryEngine } from '../../lambdas/adapters/local/query-engine.js';
import { sample } from '../helpers/records.js';
import { CaptureCounters } from '../../lambdas/adapters/local/capture-counters.js';
import { FileObjectStore } from '../../lambdas/adapters/local/file-object-store.js';
import { createBackendFactory } from '../../lambdas/backends/factory.js';
import { CaptureMetric, SpillingSink } from '../../lambdas/core/spill.js';
import { createScoringHandler } from '../../lambdas/scoring/handler.js';
import type { ScoringContext } from '../../lambdas/scoring/middleware.js';
import { demoConfig } from '../helpers/config.js';
import { context, invoke } from '../helpers/events.js';

// A disk that fills up: the next `failWrites` writes to the staging log put 5 bytes down,
// then fail with ENOSPC, as a real full disk does part way through a write; while `diskFull`,
// every write to the staging log and to new files (spill objects) fails so.
const faults = vi.hoisted(() => ({ failWrites: 0, diskFull: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof real.open = async (...args) => {
    const handle = await real.open(...args);
    const path = String(args[0]);
    if (!path.endsWith('.ndjson') && !path.endsWith('.tmp')) return handle;
    const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    return new Proxy(handle, {
      get(target, prop) {
        if (prop === 'write' && (faults.failWrites > 0 || faults.diskFull)) {
          return async (data: Buffer) => {
            if (!faults.diskFull) faults.failWrites--;
            await target.write(data.subarray(0, 5));
            throw enospc();
          };
        }
        if (prop === 'writeFile' && faults.diskFull) return async () => Promise.reject(enospc());
        const value: unknown = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  return { ...real, open, default: { ...real, open } };
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-full-'));
  faults.failWrites = 0;
  faults.diskFull = false;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('Local delivery stream on a full disk', () => {
  it('rejects the put whose write failed, keeps no part of it, and accepts the next ones', async () => {
    const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
    await stream.put([{ ...sample, request_id: 'before' }]);
    faults.failWrites = 1;
    await expect(stream.put([{ ...sample, request_id: 'lost' }])).rejects.toThrow(/ENOSPC/);
    await stream.put([{ ...sample, request_id: 'after' }]);
    // The failed write was cut out of its segment: every line left is whole.
    for (const f of await readdir(join(dir, STAGING_DIR))) {
      const text = await readFile(join(dir, STAGING_DIR, f), 'utf8');
      for (const line of text.split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
      expect(text.endsWith('\n') || text === '').toBe(true);
    }
    await stream.close();
    const engine = await LocalQueryEngine.open(dir);
    try {
      const ids = (await engine.query('SELECT request_id FROM iris_payload ORDER BY request_id')).rows.map((r) => r.request_id);
      expect(ids).toEqual(['after', 'before']);
    } finally {
      engine.close();
    }
  });

  it('fails every put that shared the failed write, and no other', async () => {
    const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
    faults.failWrites = 1;
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => stream.put([{ ...sample, request_id: `c${i}` }])));
    const ok = results.flatMap((r, i) => (r.status === 'fulfilled' ? [`c${i}`] : []));
    expect(ok.length).toBeLessThan(20);
    await stream.close();
    const engine = await LocalQueryEngine.open(dir);
    try {
      const ids = (await engine.query('SELECT request_id FROM iris_payload')).rows.map((r) => String(r.request_id));
      expect(ids.sort()).toEqual(ok.sort());
    } finally {
      engine.close();
    }
  });

  it('answers the caller when the stream and the spill both fail, and counts every record lost with its id', async () => {
    const config = demoConfig();
    const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
    const counters = new CaptureCounters();
    const handler = createScoringHandler({ config, sink: new SpillingSink(stream, new FileObjectStore(dir, { durable: true }), counters, { spillTimeoutMs: 5000 }), backends: createBackendFactory(), version: 't' });
    const send = async (i: number) => {
      const res = await handler(invoke('/serving-endpoints/iris/invocations', { client_request_id: `disk-${i}`, inputs: [[5.1, 3.5, 1.4, 0.2]] }), { ...context } as ScoringContext);
      return { id: String(res.headers?.['x-request-id']), status: res.statusCode };
    };
    faults.diskFull = true;
    const during = await Promise.all(Array.from({ length: 10 }, (_, i) => send(i)));
    faults.diskFull = false;
    const after = await Promise.all(Array.from({ length: 5 }, (_, i) => send(100 + i)));
    expect([...during, ...after].every((a) => a.status === 200)).toBe(true);
    expect(counters.total(CaptureMetric.lost, 'iris')).toBe(10);
    expect(counters.total(CaptureMetric.spilled)).toBe(0);
    await stream.close();
    const engine = await LocalQueryEngine.open(dir);
    try {
      const ids = (await engine.query('SELECT request_id FROM iris_payload')).rows.map((r) => String(r.request_id));
      // Answered 15 = 5 in the table + 10 counted lost.
      expect(ids.sort()).toEqual(after.map((a) => a.id).sort());
    } finally {
      engine.close();
    }
  });
});

