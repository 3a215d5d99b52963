import { setTimeout as sleep } from 'node:timers/promises';
import { Backoff } from '../backoff.js';
import { errorMessage } from '../errors.js';
import type { Category, EncodedBatch, Encoding } from '../points/point.js';
import { OutputEvents } from '../telemetry/events/output-events.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { BufferRecord } from './buffer/segment-format.js';
import { DiskBuffer, type BufferWindow } from './buffer/disk-buffer.js';
import { BatchRejected, type Output } from './output.js';
import { OutputHealthRecord } from './output-health-record.js';
import { detailsStatus, takesBatch, type OutputHealth, type OutputStatus, type RunningOutput, type WriteOutcome } from './running-output.js';

export interface BufferedOutputOptions {
  /** The buffer's folder, `<data_dir>/buffer/<id>`. */
  dir: string;
  batchSize: number;
  flushIntervalMs: number;
  bufferBytes: number;
}

const concat = (payloads: Uint8Array[]): Uint8Array => Buffer.concat(payloads);

/** The window's records as one batch per category (a request carries one category), in first-seen order; `join` makes one body of several payloads. */
function batchesByCategory(window: BufferWindow, encoding: Encoding, join: (payloads: Uint8Array[]) => Uint8Array): EncodedBatch[] {
  const groups = new Map<Category, BufferRecord[]>();
  for (const record of window.records) {
    const group = groups.get(record.category);
    if (group) group.push(record);
    else groups.set(record.category, [record]);
  }
  return [...groups].map(([category, records]) => ({
    category,
    points: records.reduce((sum, record) => sum + record.points, 0),
    [encoding]: records.length === 1 ? records[0]!.payload : join(records.map((record) => record.payload)),
  }));
}

/**
 * Runs a remote output (influxdb, datakit) behind a disk buffer. `write`
 * only appends to the buffer, so a slow or absent destination never holds up
 * collection or the other outputs. A sender sends windows of up to
 * `batchSize` points, as soon as that many wait or every `flushIntervalMs`,
 * retries failures with capped, jittered exponential backoff, drops batches
 * the destination refuses as malformed, and acknowledges a window in the
 * buffer once all of it is through. Delivery is at least once: a crash
 * between a send and its acknowledgement sends that window again.
 */
export class BufferedOutput implements RunningOutput {
  readonly id: string;
  readonly buffered = true;
  readonly #output: Output;
  readonly #options: BufferedOutputOptions;
  readonly #metrics: Metrics;
  readonly #log: Logger;
  readonly #events: OutputEvents;
  readonly #health: OutputHealthRecord;
  /** Aborts the request or retry pause in progress when the shutdown grace is over. */
  readonly #stop = new AbortController();
  /** Pauses between failed sends (or buffer reads): 200 ms doubling to 30 s, jittered so outputs that failed together do not retry in step. */
  readonly #retry = new Backoff({ firstMs: 200, maxMs: 30_000, jitter: true });
  /** Opened by start() or by a write that comes first: the HTTP API takes writes before the app starts. */
  #opening: Promise<DiskBuffer> | undefined;
  #buffer: DiskBuffer | undefined;
  #sender: Promise<void> | undefined;
  /** Ends the sender's wait for a full batch or the flush interval. */
  #wake: (() => void) | undefined;
  #closing = false;

  constructor(id: string, output: Output, options: BufferedOutputOptions, metrics: Metrics, log: Logger) {
    this.id = id;
    this.#output = output;
    this.#options = options;
    this.#metrics = metrics;
    this.#log = log.child({ output: id });
    this.#events = new OutputEvents(id, this.#log, metrics);
    this.#health = new OutputHealthRecord(id);
  }

  get encoding(): Encoding {
    return this.#output.encoding;
  }

  /** Opens the buffer (resuming what a previous run left in it) and starts the sender. */
  async start(): Promise<void> {
    await this.#output.start?.();
    const buffer = await this.#open();
    this.#sender = this.#sendLoop(buffer);
  }

  async write(batch: EncodedBatch): Promise<WriteOutcome> {
    if (!takesBatch(batch, this.encoding, this.#events)) return { stored: true };
    const payload = batch[this.encoding];
    let buffer: DiskBuffer;
    let stored: boolean;
    try {
      if (!payload) throw new Error(`the batch has no ${this.encoding} encoding`);
      buffer = await this.#open();
      stored = await buffer.append({ category: batch.category, points: batch.points, payload });
    } catch (err) {
      return this.#dropped(batch.points, `cannot buffer them: ${errorMessage(err)}`);
    }
    this.#updateDepth();
    if (buffer.points >= this.#options.batchSize) this.#wake?.();
    // A batch the full buffer could not take was reported as dropped by the buffer itself.
    return stored ? { stored } : { stored, error: this.#health.lastError! };
  }

  /** Sends what the buffer holds until it is empty or `graceMs` is over; the rest stays on disk for the next start. */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    const deadline = setTimeout(() => this.#stop.abort(), graceMs);
    await this.#sender;
    clearTimeout(deadline);
    const buffer = await this.#opening?.catch(() => undefined);
    if (buffer) {
      await buffer.close();
      if (buffer.points > 0) this.#events.keptForNextStart(buffer.points, this.#options.dir);
    }
    await this.#output.close?.();
  }

  health(): OutputHealth {
    return this.#health.health();
  }

  status(): OutputStatus {
    return { ...this.#health.status(this.#buffer?.points ?? 0), ...detailsStatus(this.#output.details?.()) };
  }

  #open(): Promise<DiskBuffer> {
    this.#opening ??= DiskBuffer.open({
      dir: this.#options.dir,
      maxBytes: this.#options.bufferBytes,
      events: this.#events,
      onDrop: (points, reason) => this.#dropped(points, reason),
    }).then((buffer) => {
      this.#buffer = buffer;
      this.#updateDepth();
      if (buffer.points > 0) this.#log.info(`output ${this.id}: resuming with ${buffer.points} points left in ${this.#options.dir} by the previous run`);
      return buffer;
    });
    return this.#opening;
  }

  /**
   * Sends windows one after another, keeping the disk out of the way: the
   * next window is read, and the last one acknowledged, while a window is
   * on the wire (read, send and acknowledgement one after another left the
   * connection idle a third of the time).
   */
  async #sendLoop(buffer: DiskBuffer): Promise<void> {
    const { batchSize, flushIntervalMs } = this.#options;
    let next: Promise<BufferWindow | undefined> | undefined;
    let acked: Promise<void> = Promise.resolve();
    try {
      while (!this.#stop.signal.aborted) {
        try {
          if (!next && !this.#closing && buffer.unreadPoints < batchSize) await this.#waitForBatch(flushIntervalMs);
          const reading = next ?? buffer.read(batchSize);
          next = undefined;
          const window = await reading;
          if (!window) {
            if (this.#closing) return;
            continue;
          }
          if (buffer.unreadPoints >= (this.#closing ? 1 : batchSize)) {
            next = buffer.read(batchSize);
            next.catch(() => {}); // met where it is awaited
          }
          if (!(await this.#send(window))) return;
          await acked;
          acked = buffer.ack(window).then(
            () => this.#updateDepth(),
            (err: unknown) => this.#bufferFailed(err),
          );
        } catch (err) {
          this.#bufferFailed(err);
          if (!(await this.#pause(this.#retry.failed()))) return;
        }
      }
    } finally {
      // Nothing of the buffer's may still be in progress when it is closed.
      await Promise.allSettled([next, acked]);
    }
  }

  /**
   * The buffer's own disk failed (a read, or persisting an acknowledgement):
   * the points stay where they are; an acknowledgement not persisted means
   * its window is sent again after a restart.
   */
  #bufferFailed(err: unknown): void {
    const message = `buffer in ${this.#options.dir}: ${errorMessage(err)}`;
    this.#health.failed(message, true);
    this.#events.bufferFailed(message);
  }

  /** Sends every category of the window, each until accepted or refused; false if stopped first. */
  async #send(window: BufferWindow): Promise<boolean> {
    for (const batch of batchesByCategory(window, this.encoding, this.#output.join?.bind(this.#output) ?? concat)) {
      for (;;) {
        try {
          await this.#output.write(batch, this.#stop.signal);
          this.#sent(batch.points);
          break;
        } catch (err) {
          if (this.#stop.signal.aborted) return false;
          if (err instanceof BatchRejected) {
            this.#dropped(batch.points, `the destination refused them: ${err.message}`);
            break;
          }
          const delayMs = this.#retry.failed();
          this.#failed(batch, err, this.#retry.failures, delayMs);
          if (!(await this.#pause(delayMs))) return false;
        }
      }
    }
    return true;
  }

  #waitForBatch(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /** Waits `ms`; false when the shutdown grace ran out first. */
  async #pause(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal: this.#stop.signal });
      return true;
    } catch {
      return false;
    }
  }

  #updateDepth(): void {
    this.#metrics.outputBuffer.set({ output: this.id }, this.#buffer?.points ?? 0);
  }

  #sent(points: number): void {
    this.#events.sent(points);
    this.#retry.succeeded();
    this.#health.succeeded();
  }

  #failed(batch: EncodedBatch, err: unknown, failures: number, delayMs: number): void {
    const error = errorMessage(err);
    this.#health.failed(error, true);
    this.#events.sendFailed(batch, error, failures, delayMs);
  }

  #dropped(points: number, reason: string): WriteOutcome {
    const error = `dropped ${points} points: ${reason}`;
    this.#health.failed(error, false);
    this.#events.dropped(points, reason);
    return { stored: false, error };
  }
}
