import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../telemetry/metrics.js';

/** GET /metrics: every self-metric in the Prometheus text format. */
export function metricsRoutes(server: FastifyInstance, metrics: Metrics): void {
  server.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
