import { type LocalServer, startLocalServer } from '../adapters/local/http-server.js';
import { uiRoutes } from './local.js';
import type { UiSource } from '../ui/source.js';

/**
 * Serves the endpoint page alone (`inference-tables ui`): its routes over one source, behind
 * the local server's token rules, with no scoring proxy. Every other path is a 404 that says
 * where the page is.
 */
export function serveUi(options: { readonly source: UiSource; readonly host: string; readonly port: number; readonly token?: string | undefined }): Promise<LocalServer> {
  return startLocalServer({
    handler: (event) =>
      Promise.resolve({
        statusCode: 404,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error_code: 'ENDPOINT_NOT_FOUND', message: `This server shows the endpoint page only (at /); no route for ${event.httpMethod} ${event.path.slice(0, 64)}.` }),
      }),
    host: options.host,
    port: options.port,
    token: options.token,
    maxBodyBytes: 64 * 1024,
    routes: uiRoutes(options.source),
  });
}
