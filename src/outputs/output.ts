import { PythondError } from '../errors.js';
import type { EncodedBatch, Encoding } from '../points/point.js';
import type { OutputEvents } from '../telemetry/events/output-events.js';

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
  /** Opens what the output serves (a listener) before the first write; a rejection stops the runner's start or the reload. */
  start?(): Promise<void>;
  /** How the payloads of several buffered batches become one request body; concatenated when absent. */
  join?(payloads: Uint8Array[]): Uint8Array;
  /** Where the output writes or what it serves, for the status page. */
  details?(): OutputDetails;
  close?(): Promise<void>;
}

/** What the status page shows of an output beside its counts. */
export interface OutputDetails {
  /** Where it writes (a URL, a file) or where it is scraped. */
  target: string;
  /** An endpoint's series in memory now. */
  series?: number;
}

/** What an output is given besides its options. */
export interface OutputContext {
  /** Marks requests this runner forwards, so its own write API knows them if they come back (a loop). */
  loopToken: string;
  /** The longest interval of the collectors running now, in ms (0 before any has loaded): what the endpoint's default expiration follows. */
  longestIntervalMs?: () => number;
  /** The output's own events, for what happens inside it (the endpoint's series); the wrapper reports the rest. */
  events?: OutputEvents;
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
