import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { PageRoutes, RouteResult } from '../core/ports.js';

/**
 * The endpoint page's files: one HTML page at `/` and its script and styles, with uPlot from
 * its package. No CDN: everything is served by this server, which the page's content security
 * policy enforces.
 */

const require = createRequire(import.meta.url);
const own = (name: string) => new URL(`./assets/${name}`, import.meta.url);

const FILES: Readonly<Record<string, [URL | string, string]>> = {
  '/': [own('index.html'), 'text/html; charset=utf-8'],
  '/ui/app.js': [own('app.js'), 'text/javascript; charset=utf-8'],
  '/ui/dom.js': [own('dom.js'), 'text/javascript; charset=utf-8'],
  '/ui/monitor.js': [own('monitor.js'), 'text/javascript; charset=utf-8'],
  '/ui/json.js': [own('json.js'), 'text/javascript; charset=utf-8'],
  '/ui/app.css': [own('app.css'), 'text/css; charset=utf-8'],
  '/ui/uplot.js': ['uplot/dist/uPlot.iife.min.js', 'text/javascript; charset=utf-8'],
  '/ui/uplot.css': ['uplot/dist/uPlot.min.css', 'text/css; charset=utf-8'],
};

const cache = new Map<string, string>();

/** Serves the page's files; undefined for other paths. */
export function pageRoutes(): PageRoutes {
  return (method, url) => {
    const file = FILES[url.pathname === '/index.html' ? '/' : url.pathname];
    if (!file && url.pathname !== '/favicon.ico') return undefined;
    if (method !== 'GET' && method !== 'HEAD') return Promise.resolve({ status: 405, contentType: 'application/json', body: JSON.stringify({ error_code: 'METHOD_NOT_ALLOWED', message: 'The page answers GET only.' }) });
    // Browsers ask for an icon; the page has none to give.
    if (!file) return Promise.resolve({ status: 204, contentType: 'image/x-icon', body: '' });
    const [where, contentType] = file;
    const key = String(where);
    let body = cache.get(key);
    if (body === undefined) {
      body = readFileSync(typeof where === 'string' ? require.resolve(where) : where, 'utf8');
      cache.set(key, body);
    }
    const answer: RouteResult = { status: 200, contentType, body };
    return Promise.resolve(answer);
  };
}
