/**
 * `npm run bench`, streaming: the time to first token and to the last event of a streamed
 * chat answer, from a local OpenAI-compatible API alone (the baseline) and through the local
 * stack with an `openai` backend in front of it, capture on. Sequential calls on one
 * connection each, so the figures are latencies, not throughput; medians and p95 of each.
 * The capture of a stream happens after its last event: the last-event figure says whether
 * it adds to the caller's wait.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAi } from '../test/helpers/fake-openai.js';
import { configWith } from '../test/helpers/config.js';
import { startLocalStack } from '../test/helpers/local.js';

const CALLS = Number(process.env.BENCH_STREAM_CALLS ?? 300);
const KEY = 'sk-bench';
const KEY_ENV = 'BENCH_STREAM_KEY';

interface Timing {
  firstMs: number;
  lastMs: number;
}

/** One streamed call: milliseconds to its first `data:` event and to the end of the stream. */
async function streamedCall(url: string, model: string): Promise<Timing> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], stream: true }),
  });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let firstMs = Number.NaN;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (Number.isNaN(firstMs) && value && new TextDecoder().decode(value).includes('data: ')) firstMs = performance.now() - started;
  }
  return { firstMs, lastMs: performance.now() - started };
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] as number;

async function run(name: string, call: () => Promise<Timing>): Promise<string> {
  for (let i = 0; i < 20; i++) await call();
  const timings: Timing[] = [];
  for (let i = 0; i < CALLS; i++) timings.push(await call());
  const first = timings.map((t) => t.firstMs);
  const last = timings.map((t) => t.lastMs);
  const f = (x: number) => x.toFixed(2);
  return `| ${name} | ${f(quantile(first, 0.5))} | ${f(quantile(first, 0.95))} | ${f(quantile(last, 0.5))} | ${f(quantile(last, 0.95))} |`;
}

process.env[KEY_ENV] = KEY;
const fake = await FakeOpenAi.start(KEY);
const dir = await mkdtemp(join(tmpdir(), 'bench-stream-'));
const config = configWith((c) => {
  c.models.push({ name: 'gpt', versions: [{ version: '1', stage: 'Production', backend: { type: 'openai', base_url: fake.url, model: 'upstream', api_key: { env: KEY_ENV } } }] });
  c.endpoints.push({ name: 'external', served_entities: [{ entity_name: 'gpt', entity_version: '1', traffic_percentage: 100 }], capture: { enabled: true } });
});
const stack = await startLocalStack({ config, dataDir: dir, port: 0, scheduleRefresh: false });
try {
  const alone = await run('the API alone (baseline)', () => streamedCall(`${fake.url}/chat/completions`, 'upstream'));
  const proxied = await run('through the local stack, capture on', () => streamedCall(`${stack.server.url}/serving-endpoints/chat/completions`, 'external'));
  const lines = [
    `inference-tables streaming benchmark — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    `${CALLS} sequential streamed chat calls each (after 20 to warm up), a local OpenAI-compatible API answering 5 events`,
    '',
    '| path | first event p50 ms | p95 | last event p50 ms | p95 |',
    '| --- | ---: | ---: | ---: | ---: |',
    alone,
    proxied,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await stack.close();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
}
