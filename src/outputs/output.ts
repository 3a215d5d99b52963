import { PythondError } from '../errors.js';
import type { EncodedBatch, Encoding } from '../points/point.js';

/**
 * What every output implements. `write` resolves once the batch is durable
 * at the destination, or rejects; the wrapper around it (running-output.ts)
 * owns buffering, counting, ordering and retries, so outputs stay small.
 */
export interface Output {
  /** The encoding this output consumes; workers produce only what is asked for. */
  readonly encoding: Encoding;
  /**
   * Writes one batch (one category). A rejection is retried unless it is a
   * `BatchRejected`; `signal` aborts a write that outlives the shutdown grace.
   */
  write(batch: EncodedBatch, signal?: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}

/** What an output is given besides its options. */
export interface OutputContext {
  /** Marks requests this runner forwards, so its own write API knows them if they come back (a loop). */
  loopToken: string;
}

/**
 * The destination refused the batch itself (malformed, too large): sending it
 * again cannot succeed, so its points are dropped rather than retried.
 */
export class BatchRejected extends PythondError {
  constructor(message: string) {
    super('OUTPUT_REJECTED', message);
    this.name = 'BatchRejected';
  }
}
