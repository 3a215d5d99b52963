import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EncodedBatch, Encoding } from '../points/point.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Output } from './output.js';

/** Whether an output's last write went through, for /healthz. */
export interface OutputHealth {
  output: string;
  ok: boolean;
  /** Why the last write failed, while it is the last one. */
  error?: string;
}

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
  #lastFailure: string | undefined;

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
        this.#lastFailure = undefined;
        this.#metrics.outputPoints.inc({ output: this.id, status: 'sent' }, batch.points);
      } catch (err) {
        this.#lastFailure = errorMessage(err);
        this.#metrics.outputPoints.inc({ output: this.id, status: 'dropped' }, batch.points);
        this.#log.error({ err, points: batch.points, category: batch.category }, `output ${this.id} failed to write ${batch.points} points`);
      }
    });
    return this.#tail;
  }

  health(): OutputHealth {
    return this.#lastFailure === undefined ? { output: this.id, ok: true } : { output: this.id, ok: false, error: this.#lastFailure };
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

  health(): OutputHealth[] {
    return this.#outputs.map((output) => output.health());
  }

  async deliver(batches: EncodedBatch[]): Promise<void> {
    await Promise.all(batches.flatMap((batch) => this.#outputs.map((output) => output.write(batch))));
  }

  async close(): Promise<void> {
    await Promise.all(this.#outputs.map((output) => output.close()));
  }
}
