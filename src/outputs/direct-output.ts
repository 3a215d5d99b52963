import { errorMessage } from '../errors.js';
import type { EncodedBatch, Encoding } from '../points/point.js';
import { OutputEvents } from '../telemetry/events/output-events.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Output } from './output.js';
import { OutputHealthRecord } from './output-health-record.js';
import { detailsStatus, takesBatch, type OutputHealth, type OutputStatus, type RunningOutput, type WriteOutcome } from './running-output.js';

/**
 * Runs a local output (file, stdout) inline: writes go out one at a time in
 * arrival order, each batch counted as sent or dropped. No disk buffer: a
 * local write fails only when the disk or the terminal does, and a buffer on
 * that same disk would not help.
 */
export class DirectOutput implements RunningOutput {
  readonly id: string;
  readonly buffered = false;
  readonly #output: Output;
  readonly #events: OutputEvents;
  readonly #health: OutputHealthRecord;
  #tail: Promise<void> = Promise.resolve();

  constructor(id: string, output: Output, metrics: Metrics, log: Logger) {
    this.id = id;
    this.#output = output;
    this.#events = new OutputEvents(id, log.child({ output: id }), metrics);
    this.#health = new OutputHealthRecord(id);
  }

  get encoding(): Encoding {
    return this.#output.encoding;
  }

  async start(): Promise<void> {
    await this.#output.start?.();
  }

  write(batch: EncodedBatch): Promise<WriteOutcome> {
    if (!takesBatch(batch, this.encoding, this.#events)) return Promise.resolve({ stored: true });
    const written = this.#tail.then(async (): Promise<WriteOutcome> => {
      try {
        await this.#output.write(batch);
        this.#events.sent(batch.points);
        this.#health.succeeded();
        return { stored: true };
      } catch (err) {
        const error = errorMessage(err);
        this.#health.failed(error, false);
        this.#events.writeFailed(batch, error);
        return { stored: false, error };
      }
    });
    this.#tail = written.then(() => undefined);
    return written;
  }

  /** Waits for queued writes (local, so quick: no grace needed), then closes the output. */
  async close(): Promise<void> {
    await this.#tail;
    await this.#output.close?.();
  }

  health(): OutputHealth {
    return this.#health.health();
  }

  status(): OutputStatus {
    return { ...this.#health.status(0), ...detailsStatus(this.#output.details?.()) };
  }
}
