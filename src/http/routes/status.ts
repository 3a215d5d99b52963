import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { App } from '../../app.js';
import type { HttpEvents } from '../../telemetry/events/http-events.js';
import { ApiError } from '../api-error.js';
import type { CollectorsReport } from '../api-types.js';
import { collectorsReport, type StatusSource } from '../views.js';

/** A lasterror report is one short message; no reason to buffer more. */
const LASTERROR_BODY_LIMIT = 64 * 1024;

/**
 * GET /v1/collectors: every input and collector with its state, every output
 * with its buffer and last error, and the errors collectors reported. POST /v1/lasterror: DataKit's way for
 * an external collector to report its last error, `{"input","err_content"}`.
 */
export function statusRoutes(
  server: FastifyInstance,
  deps: {
    app: StatusSource & Pick<App, 'reload'>;
    auth: onRequestHookHandler | undefined;
    events: HttpEvents;
  },
): void {
  const { app, auth, events } = deps;
  const { lastErrors } = app;

  server.get('/v1/collectors', async (): Promise<CollectorsReport> => collectorsReport(app));

  // Reads the config (and the repositories' commits) again and applies what changed; answers what it did.
  server.post('/v1/reload', { onRequest: auth }, async (_request, reply) => {
    const result = await app.reload('POST /v1/reload');
    reply.code(result.result === 'error' ? 422 : 200).send(result);
  });

  server.post<{ Body: Buffer | undefined }>('/v1/lasterror', { onRequest: auth, bodyLimit: LASTERROR_BODY_LIMIT }, async (request, reply) => {
    const { input, error } = readLastError(request.body);
    const entry = lastErrors.record(input, error);
    events.lasterrorReported(entry.input, entry.error);
    reply.code(200).send();
  });
}

/** Validates the body once: a JSON object with non-empty strings `input` and `err_content`, as DataKit requires. */
function readLastError(body: Buffer | undefined): { input: string; error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body?.toString('utf8') ?? '');
  } catch (err) {
    throw new ApiError('invalidJSON', `the body must be JSON such as {"input":"redis","err_content":"connection refused"}: ${(err as Error).message}`);
  }
  const { input, err_content: error } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (typeof input !== 'string' || input === '' || typeof error !== 'string' || error === '') {
    throw new ApiError('invalidJSON', 'the body needs non-empty strings "input" and "err_content", e.g. {"input":"redis","err_content":"connection refused"}');
  }
  return { input, error };
}
