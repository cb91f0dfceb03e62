/**
 * A server for the capture benchmark, run in its own process so the load generator does not
 * share its event loop: `bare` (plain Node HTTP, parse JSON, fixed prediction), `off` (the
 * local stack with capture disabled) or `on` (the local stack, capturing everything).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../lambdas/wiring/config-file.js';
import { startLocalStack } from '../test/helpers/local.js';

const [mode = 'on', dataDir = '.inference-tables-bench'] = process.argv.slice(2);

if (mode === 'bare') {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      JSON.parse(body);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"predictions":[0]}');
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`READY http://127.0.0.1:${(server.address() as AddressInfo).port}\n`));
} else {
  const config = loadConfig('local');
  for (const e of config.endpoints) e.capture.enabled = mode === 'on';
  const stack = await startLocalStack({ config, dataDir, port: 0 });
  process.stdout.write(`READY ${stack.server.url}\n`);
  process.once('SIGTERM', () => {
    const closing = stack.close();
    void closing.then(() => {
      process.stdout.write(`DELIVERED ${stack.stream.delivered}\n`);
      process.exit(0);
    });
  });
}
