import type { DeliveryFailure, OutputSet } from '../outputs/running-output.js';
import type { PointPipeline } from '../points/pipeline.js';
import type { EncodedBatch } from '../points/point.js';
import type { Metrics } from '../telemetry/metrics.js';

/** Where an input's points go: the outputs, the workers (their bytes, afterwards), and the points counter. */
export interface PointsDestination {
  pipeline: Pick<PointPipeline, 'delivered'>;
  outputs: Pick<OutputSet, 'deliver'>;
  metrics: Metrics;
}

/**
 * Points `input` took (a tick's report, a write body): counted as its
 * points, handed to every output, and once every output is done with them,
 * their bytes go back to the workers. Resolves with the outputs that could
 * not keep them (each of those counted and logged them as dropped).
 */
export async function deliverPoints(input: string, batches: EncodedBatch[], to: PointsDestination): Promise<DeliveryFailure[]> {
  for (const batch of batches) to.metrics.points.inc({ input, category: batch.category }, batch.points);
  const unstored = await to.outputs.deliver(batches);
  to.pipeline.delivered(batches);
  return unstored;
}
