import type { EncodedBatch, Encoding } from '../points/point.js';

/**
 * What every output implements. `write` resolves once the batch is durable
 * at the destination (or rejects); the wrapper around it owns counting,
 * ordering and retries, so outputs stay small.
 */
export interface Output {
  /** The encoding this output consumes; workers produce only what is asked for. */
  readonly encoding: Encoding;
  write(batch: EncodedBatch): Promise<void>;
  close?(): Promise<void>;
}
