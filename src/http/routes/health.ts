import type { FastifyInstance } from 'fastify';
import { VERSION } from '../../version.js';
import type { HealthReport, PingReport } from '../api-types.js';
import { healthReport, type StatusSource } from '../views.js';

/**
 * GET /healthz: 200 while `ok` or `degraded` (see healthReport), else 503;
 * the body says which. GET /v1/ping: DataKit's liveness answer,
 * `{"content":{"version","uptime"}}`.
 */
export function healthRoutes(server: FastifyInstance, app: StatusSource): void {
  server.get('/healthz', async (_request, reply): Promise<HealthReport> => {
    const report = healthReport(app);
    reply.code(report.status === 'ok' || report.status === 'degraded' ? 200 : 503);
    return report;
  });

  server.get('/v1/ping', async (): Promise<PingReport> => ({ content: { version: VERSION, uptime: goDuration(app.uptimeMs) } }));
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
