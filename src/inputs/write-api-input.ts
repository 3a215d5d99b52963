import type { DeliveryFailure, OutputSet } from '../outputs/running-output.js';
import type { PointPipeline, WriteRequest } from '../points/pipeline.js';
import type { WriteAccepted, WriteRejection } from '../points/tasks.js';
import type { Metrics } from '../telemetry/metrics.js';
import { deliverPoints, type PointsDestination } from './deliver-points.js';

/** The `input` label of points posted to the write API: one fixed value, whatever the client calls itself. */
const WRITE_API_INPUT = 'api';

/** A body refused, or taken: then `unstored` names the outputs that could not keep its points (the client must send them again). */
export type WriteApiResult = WriteRejection | (WriteAccepted & { unstored: DeliveryFailure[] });

/**
 * Points posted to the HTTP write API, taken in like a collector's: parsed
 * in the workers and, when the whole body is valid, counted and delivered
 * to every output.
 */
export class WriteApiInput {
  readonly #pipeline: PointPipeline;
  readonly #metrics: Metrics;
  /** Where its points go: the outputs, then their bytes back to the workers. */
  readonly #destination: PointsDestination;

  constructor(options: { pipeline: PointPipeline; outputs: OutputSet; metrics: Metrics }) {
    this.#pipeline = options.pipeline;
    this.#metrics = options.metrics;
    this.#destination = options;
  }

  /**
   * Resolves once every output kept the points or failed to, or with why the
   * body was refused. `dry` (DataKit's `?dry=true`): validated, not written.
   */
  async write(request: WriteRequest, options: { dry?: boolean } = {}): Promise<WriteApiResult> {
    const result = await this.#pipeline.parseWrite(request);
    if ('rejected' in result) {
      if (result.invalid > 0) this.#metrics.invalidPoints.inc({ input: WRITE_API_INPUT }, result.invalid);
      return result;
    }
    if (options.dry) return { ...result, unstored: [] };
    return { ...result, unstored: await deliverPoints(WRITE_API_INPUT, result.batches, this.#destination) };
  }
}
