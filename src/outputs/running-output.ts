import type { Logger } from '../logger.js';
import type { EncodedBatch, Encoding } from '../points/point.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Output } from './output.js';

/**
 * Owns what every output shares, so outputs stay small: writes go out one at
 * a time in arrival order, and every point is counted as sent or dropped.
 */
export class RunningOutput {
  readonly id: string;
  readonly #output: Output;
  readonly #metrics: Metrics;
  readonly #log: Logger;
  #tail: Promise<void> = Promise.resolve();

  constructor(id: string, output: Output, metrics: Metrics, log: Logger) {
    this.id = id;
    this.#output = output;
    this.#metrics = metrics;
    this.#log = log.child({ output: id });
  }

  get encoding(): Encoding {
    return this.#output.encoding;
  }

  /** Resolves when the batch is written or given up on; never rejects. */
  write(batch: EncodedBatch): Promise<void> {
    this.#tail = this.#tail.then(async () => {
      try {
        await this.#output.write(batch);
        this.#metrics.outputPoints.inc({ output: this.id, status: 'sent' }, batch.points);
      } catch (err) {
        this.#metrics.outputPoints.inc({ output: this.id, status: 'dropped' }, batch.points);
        this.#log.error({ err, points: batch.points, category: batch.category }, `output ${this.id} failed to write ${batch.points} points`);
      }
    });
    return this.#tail;
  }

  /** Waits for queued writes, then closes the output. */
  async close(): Promise<void> {
    await this.#tail;
    await this.#output.close?.();
  }
}

/** Every configured output; each batch goes to each of them. */
export class OutputSet {
  readonly #outputs: RunningOutput[];

  constructor(outputs: RunningOutput[]) {
    this.#outputs = outputs;
  }

  /** The encodings the workers must produce. */
  get encodings(): Encoding[] {
    return [...new Set(this.#outputs.map((output) => output.encoding))];
  }

  async deliver(batches: EncodedBatch[]): Promise<void> {
    await Promise.all(batches.flatMap((batch) => this.#outputs.map((output) => output.write(batch))));
  }

  async close(): Promise<void> {
    await Promise.all(this.#outputs.map((output) => output.close()));
  }
}
