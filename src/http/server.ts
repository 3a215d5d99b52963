import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { App } from '../app.js';
import { parseListen } from '../schema/addresses.js';
import { formatBytes } from '../schema/units.js';
import { PythondError } from '../errors.js';
import { HttpEvents } from '../telemetry/events/http-events.js';
import type { Logger } from '../telemetry/logger.js';
import { ApiError } from './api-error.js';
import { bearerAuth } from './auth.js';
import { clusterRoutes } from './routes/cluster.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { statusPageRoutes } from './routes/status-page.js';
import { statusRoutes } from './routes/status.js';
import { writeRoutes } from './routes/write.js';
import type { StatusSource } from './views.js';

/** What the HTTP API uses of the running app: what its status views read (views.ts), and the doors in (writes, reloads). */
export type ApiBackend = StatusSource & Pick<App, 'metrics' | 'write' | 'loopToken' | 'reload'>;

export interface HttpApiOptions {
  /** `[runner] listen`: `host:port`, `[v6 address]:port`; port 0 picks a free one. */
  listen: string;
  /** `[runner] api_token`: when set, the write endpoints need it as a bearer token. */
  apiToken?: string;
  /** `[runner] max_body_size`: larger write bodies get 413. */
  maxBodySize: number;
  log: Logger;
}

export interface HttpApi {
  /** Where it listens, e.g. `http://127.0.0.1:9529`. */
  readonly url: string;
  /** Stops accepting requests and waits for those in flight. */
  close(): Promise<void>;
}

/** Builds the server with every route, without listening. */
export function buildHttpApi(app: ApiBackend, options: Omit<HttpApiOptions, 'listen'>): FastifyInstance {
  const events = new HttpEvents(options.log.child({ component: 'http' }), app.metrics);
  const server = Fastify({ bodyLimit: options.maxBodySize, logger: false });

  // Every body arrives as raw bytes whatever its Content-Type: the write route
  // hands them to a worker as they are, and each route validates its own.
  server.removeAllContentTypeParsers();
  server.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  server.addHook('onResponse', async (request, reply) => {
    events.answered(request.routeOptions.url ?? 'unmatched', reply.statusCode);
  });
  server.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    const answer = asApiError(err, options.maxBodySize);
    if (answer.statusCode >= 500) events.failed(request.method, request.url, err);
    reply.code(answer.statusCode).send(answer.toJSON());
  });
  server.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0];
    reply.code(404).send(new ApiError('notFound', `no route for ${request.method} ${path}; see the API's README for the endpoints`).toJSON());
  });

  // The methods each route path answers, for the 405s below.
  const methods = new Map<string, Set<string>>();
  server.addHook('onRoute', (route) => {
    const known = methods.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) known.add(method);
    methods.set(route.url, known);
  });
  const auth = bearerAuth(options.apiToken);
  metricsRoutes(server, app.metrics);
  healthRoutes(server, app);
  statusRoutes(server, { app, auth, events });
  statusPageRoutes(server);
  writeRoutes(server, { app, auth, events, maxBodySize: options.maxBodySize });
  clusterRoutes(server, app);
  answerOtherMethods(server, methods);
  return server;
}

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/** A path the API has, asked with a method it does not take: 405 with `Allow` (and the methods in the message), not a 404 that says the path does not exist. */
function answerOtherMethods(server: FastifyInstance, methods: ReadonlyMap<string, ReadonlySet<string>>): void {
  for (const [url, known] of [...methods]) {
    const allow = [...known].join(', ');
    const others = HTTP_METHODS.filter((method) => !known.has(method));
    server.route({
      method: others,
      url,
      handler: async (request, reply) => {
        const path = request.url.split('?', 1)[0];
        reply
          .code(405)
          .header('allow', allow)
          .send(new ApiError('methodNotAllowed', `${request.method} ${path}: this endpoint takes ${allow}`).toJSON());
      },
    });
  }
}

/** Builds the server and listens on `options.listen`; a failure is one line naming runner.listen. */
export async function startHttpApi(app: ApiBackend, options: HttpApiOptions): Promise<HttpApi> {
  const server = buildHttpApi(app, options);
  const { host, port } = parseListen(options.listen);
  try {
    await server.listen({ host, port });
  } catch (err) {
    await server.close();
    throw listenError(options.listen, err as NodeJS.ErrnoException);
  }
  const address = server.server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  return { url, close: () => server.close() };
}

const LISTEN_PROBLEMS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (another pythond, or a DataKit?)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'no network interface of this machine has that address',
  ENOTFOUND: 'the host name does not resolve',
};

function listenError(listen: string, err: NodeJS.ErrnoException): PythondError {
  const problem = LISTEN_PROBLEMS[err.code ?? ''] ?? err.message;
  return new PythondError(
    'HTTP_LISTEN_FAILED',
    `runner.listen = ${JSON.stringify(listen)}: cannot serve the HTTP API there: ${problem}; set another [runner] listen address`,
    {
      cause: err,
    },
  );
}

/** Fastify's own refusals (body too large, bad Content-Length, ...) in the API's error shape. */
function asApiError(err: FastifyError | ApiError, maxBodySize: number): ApiError {
  if (err instanceof ApiError) return err;
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new ApiError('bodyTooLarge', `the body is larger than max_body_size (${formatBytes(maxBodySize)}); split it, or raise [runner] max_body_size`);
  }
  const status = err.statusCode ?? 500;
  if (status === 404) return new ApiError('notFound', err.message);
  if (status === 415) return new ApiError('unsupportedMediaType', err.message);
  if (status >= 400 && status < 500) return new ApiError('badRequest', err.message);
  return new ApiError('internal', `internal error: ${err.message}`);
}
