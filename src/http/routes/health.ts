import type { FastifyInstance } from 'fastify';
import type { App } from '../../app.js';
import { VERSION } from '../../version.js';

/**
 * GET /healthz: 200 once the app has started and every output's last write
 * went through, else 503; the body says which. An input that cannot start
 * or has scripts that fail to load makes it `degraded`, still 200: a
 * liveness probe that restarted the runner would not mend a script. GET
 * /v1/ping: DataKit's liveness answer, `{"content":{"version","uptime"}}`.
 */
export function healthRoutes(server: FastifyInstance, app: Pick<App, 'health' | 'uptimeMs'>): void {
  server.get('/healthz', async (_request, reply) => {
    const { state, outputs, inputs } = app.health();
    const failing = outputs.some((output) => !output.ok);
    const degraded = inputs.some((input) => !input.ok);
    const status = state !== 'running' ? state : failing ? 'failing' : degraded ? 'degraded' : 'ok';
    reply.code(status === 'ok' || status === 'degraded' ? 200 : 503);
    return { status, outputs, inputs };
  });

  server.get('/v1/ping', async () => ({ content: { version: VERSION, uptime: goDuration(app.uptimeMs) } }));
}

/** A duration as Go prints one (`1.5s`, `2m3.25s`, `1h0m0s`, `350ms`), since DataKit's ping does. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = Math.round(ms) / 1000;
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = `${Number((seconds % 60).toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${rest}`;
  return minutes > 0 ? `${minutes}m${rest}` : rest;
}
