import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalDeliveryStream, STAGING_DIR } from '../../lambdas/adapters/local/delivery-stream.js';
import { LocalQueryEngine } from '../../lambdas/adapters/local/query-engine.js';
import { sample } from '../helpers/records.js';

// A disk that fills up: the next `failWrites` writes to the staging log put 5 bytes down,
// then fail with ENOSPC, as a real full disk does part way through a write.
const faults = vi.hoisted(() => ({ failWrites: 0 }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof real.open = async (...args) => {
    const handle = await real.open(...args);
    if (!String(args[0]).endsWith('.ndjson')) return handle;
    return new Proxy(handle, {
      get(target, prop) {
        if (prop === 'write' && faults.failWrites > 0) {
          return async (data: Buffer) => {
            faults.failWrites--;
            await target.write(data.subarray(0, 5));
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          };
        }
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
});
