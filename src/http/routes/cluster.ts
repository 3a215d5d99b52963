import type { FastifyInstance } from 'fastify';
import type { App } from '../../app.js';
import { ApiError } from '../api-error.js';
import type { ClusterStatus } from '../api-types.js';

/**
 * GET /v1/cluster: with [cluster], this member's view of the cluster: its
 * state, the live members with their last heartbeat and how many inputs
 * each holds, and the owner of every shared input.
 */
export function clusterRoutes(server: FastifyInstance, app: Pick<App, 'cluster'>): void {
  server.get('/v1/cluster', async (): Promise<ClusterStatus> => {
    if (!app.cluster) throw new ApiError('notFound', 'this runner is not in a cluster: the config has no [cluster] table');
    return app.cluster.status();
  });
}
