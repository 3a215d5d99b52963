/**
 * The thread of one prometheus output: it holds the series and serves the
 * scrapes on its own listener, so neither updating 100,000 series nor
 * writing them out for a scrape ever runs on the main thread.
 */
import { once } from 'node:events';
import http from 'node:http';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { createGzip } from 'node:zlib';
import { parseListen } from '../../schema/addresses.js';
import { CONTENT_TYPES, SeriesStore, type ExpositionFormat } from './series-store.js';
import type { ExpositionSettings, FromThread, ToThread } from './thread-messages.js';

/** Expired series are let go this often between scrapes too, so memory does not wait for one. */
const SWEEP_EVERY_MS = 10_000;

const settings = workerData as ExpositionSettings;
const port = parentPort!;
const store = new SeriesStore({ maxSeries: settings.maxSeries, expirationMs: settings.expirationMs });
let evicted = 0;
let expired = 0;

function tell(message: FromThread): void {
  port.postMessage(message);
}

function report(): void {
  tell({ type: 'series', series: store.size, evicted, expired, heapBytes: getHeapStatistics().used_heap_size });
  evicted = 0;
  expired = 0;
}

function sweep(): void {
  const gone = store.expire(Date.now());
  if (gone === 0) return;
  expired += gone;
  report();
}

/** OpenMetrics when the scraper asks for it (Prometheus does, preferring it), else the text format. */
const formatFor = (accept: string | undefined): ExpositionFormat => (accept?.includes('application/openmetrics-text') ? 'openmetrics' : 'text');

async function serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (path !== settings.path) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: the samples are at ${settings.path}\n`);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed: use GET\n');
    return;
  }
  sweep();
  const format = formatFor(req.headers.accept);
  const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  res.writeHead(200, { 'content-type': CONTENT_TYPES[format], ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const body = gzip ? createGzip() : res;
  if (gzip) body.pipe(res);
  for (const chunk of store.render(format)) if (!body.write(chunk)) await once(body, 'drain');
  body.end();
}

const server = http.createServer((req, res) => {
  serve(req, res).catch((err: Error) => res.destroy(err));
});
server.keepAliveTimeout = 65_000;

port.on('message', (message: ToThread) => {
  switch (message.type) {
    case 'samples':
      evicted += store.update(message.bytes, Date.now());
      report();
      break;
    case 'expiration':
      store.expirationMs = message.ms;
      break;
    case 'close':
      clearInterval(sweeper);
      server.close(() => tell({ type: 'closed' }));
      server.closeAllConnections();
      break;
  }
});

const sweeper = setInterval(sweep, SWEEP_EVERY_MS);
const { host, port: listenPort } = parseListen(settings.listen);
server.once('error', (err: NodeJS.ErrnoException) => {
  clearInterval(sweeper);
  tell({ type: 'failed', message: `cannot listen on ${settings.listen}: ${err.code === 'EADDRINUSE' ? 'the address is in use' : err.message}` });
});
server.listen(listenPort, host, () => tell({ type: 'listening' }));
