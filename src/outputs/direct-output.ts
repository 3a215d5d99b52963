import { errorMessage } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { EncodedBatch, Encoding } from '../points/point.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Output } from './output.js';
import type { OutputHealth, OutputStatus, RunningOutput, WriteOutcome } from './running-output.js';

/**
 * Runs a local output (file, stdout) inline: writes go out one at a time in
 * arrival order, each batch counted as sent or dropped. No disk buffer: a
 * local write fails only when the disk or the terminal does, and a buffer on
 * that same disk would not help.
 */
export class DirectOutput implements RunningOutput {
  readonly id: string;
  readonly #output: Output;
  readonly #metrics: Metrics;
  readonly #log: Logger;
  #tail: Promise<void> = Promise.resolve();
  #lastError: { message: string; at: string } | undefined;
  #lastSuccess: string | undefined;
  /** The error of the last write, cleared by the next one that goes through. */
  #failing: string | undefined;

  constructor(id: string, output: Output, metrics: Metrics, log: Logger) {
    this.id = id;
    this.#output = output;
    this.#metrics = metrics;
    this.#log = log.child({ output: id });
  }

  get encoding(): Encoding {
    return this.#output.encoding;
  }

  async start(): Promise<void> {}

  write(batch: EncodedBatch): Promise<WriteOutcome> {
    const written = this.#tail.then(async (): Promise<WriteOutcome> => {
      try {
        await this.#output.write(batch);
        this.#metrics.outputPoints.inc({ output: this.id, status: 'sent' }, batch.points);
        this.#lastSuccess = new Date().toISOString();
        this.#failing = undefined;
        return { stored: true };
      } catch (err) {
        this.#metrics.outputPoints.inc({ output: this.id, status: 'dropped' }, batch.points);
        this.#lastError = { message: errorMessage(err), at: new Date().toISOString() };
        this.#failing = this.#lastError.message;
        this.#log.error({ err, points: batch.points, category: batch.category }, `output ${this.id} failed to write ${batch.points} points`);
        return { stored: false, error: this.#lastError.message };
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
    return this.#failing === undefined ? { output: this.id, ok: true } : { output: this.id, ok: false, error: this.#failing };
  }

  status(): OutputStatus {
    return { id: this.id, bufferedPoints: 0, lastError: this.#lastError?.message, lastErrorAt: this.#lastError?.at, lastSuccess: this.#lastSuccess };
  }
}
