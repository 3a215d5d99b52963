import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { RepeatedFailures } from '../repeated-failures.js';

/**
 * What happens to the points one output is given, and to its disk buffer.
 * Each method is one event: it says what happened in the log and counts it
 * on /metrics. The output's failures (sends, writes, its buffer, points
 * dropped) are one run of failures (see RepeatedFailures): a new one is
 * logged in full, one that repeats unchanged once a minute with how many
 * times in a row, and the first success after them says after how many,
 * so a destination that stays away does not fill the log. Every one is
 * counted.
 */
export class OutputEvents {
  readonly #output: string;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #failures: RepeatedFailures;
  #leftOutSaid = false;
  /** Series evicted at max_series in a row without a log line, and when the last line was written. */
  #evictedSinceLog = 0;
  #evictionLoggedAt = 0;

  /** `log` is the output's own logger (its `output` field bound); `now` a clock in milliseconds. */
  constructor(output: string, log: Logger, metrics: Metrics, now?: () => number) {
    this.#output = output;
    this.#log = log;
    this.#metrics = metrics;
    this.#failures = new RepeatedFailures(now);
  }

  /** The destination took `points` (a local output: wrote them). */
  sent(points: number): void {
    this.#metrics.outputPoints.inc({ output: this.#output, status: 'sent' }, points);
    const failures = this.#failures.succeeded(this.#output);
    if (failures > 0) this.#log.info(`output ${this.#output} is ok again after ${failures} failure(s)`);
  }

  /** Points of a category the output's encoding cannot carry (Prometheus: all but metric); by design, not an error. */
  skipped(points: number): void {
    this.#metrics.outputPoints.inc({ output: this.#output, status: 'skipped' }, points);
  }

  /** Fields the output's encoding cannot carry (Prometheus: strings); said once in the log, counted each time. */
  fieldsLeftOut(fields: number): void {
    this.#metrics.outputFieldsLeftOut.inc({ output: this.#output }, fields);
    if (this.#leftOutSaid) return;
    this.#leftOutSaid = true;
    this.#log.info(`output ${this.#output}: string fields are left out (Prometheus holds numbers only); counted in pythond_output_fields_left_out_total`);
  }

  /** The series an exposition endpoint holds now, and the heap its thread uses for them (and for its scrapes). */
  seriesHeld(series: number, heapBytes: number): void {
    this.#metrics.outputSeries.set({ output: this.#output }, series);
    this.#metrics.outputSeriesHeap.set({ output: this.#output }, heapBytes);
  }

  /** Series dropped from an endpoint to stay within `maxSeries` (the least recently reported); logged at most once a minute. */
  seriesEvicted(series: number, maxSeries: number): void {
    this.#metrics.outputSeriesDropped.inc({ output: this.#output, reason: 'max_series' }, series);
    this.#evictedSinceLog += series;
    if (Date.now() - this.#evictionLoggedAt < 60_000) return;
    this.#log.warn(
      { series: this.#evictedSinceLog },
      `output ${this.#output}: ${this.#evictedSinceLog} series dropped to stay within max_series = ${maxSeries} (the least recently reported ones); raise max_series, or report fewer series`,
    );
    this.#evictedSinceLog = 0;
    this.#evictionLoggedAt = Date.now();
  }

  /** Series not reported within the endpoint's expiration: let go, by design. */
  seriesExpired(series: number): void {
    this.#metrics.outputSeriesDropped.inc({ output: this.#output, reason: 'expired' }, series);
  }

  /** A send failed (the `attempt`-th in a row) and is retried in `delayMs`: the points stay in the buffer. */
  sendFailed(batch: { points: number; category: string }, error: string, attempt: number, delayMs: number): void {
    this.#metrics.outputPoints.inc({ output: this.#output, status: 'failed' }, batch.points);
    const line = this.#failures.failed(this.#output, error);
    if (line.say === 'quiet') return;
    const what = line.say === 'full' ? error : `the same error again, ${line.times} times in a row`;
    this.#log.warn(
      { points: batch.points, category: batch.category, failures: attempt },
      `output ${this.#output}: cannot send ${batch.points} ${batch.category} points (attempt ${attempt}): ${what}; retrying in ${(delayMs / 1000).toFixed(1)} s`,
    );
  }

  /** A local output could not write a batch: its points are lost. */
  writeFailed(batch: { points: number; category: string }, error: string): void {
    this.#metrics.outputPoints.inc({ output: this.#output, status: 'dropped' }, batch.points);
    this.#failedBadly(`output ${this.#output} failed to write ${batch.points} points`, error, { points: batch.points, category: batch.category });
  }

  /** Points given up for good: `reason` says why. */
  dropped(points: number, reason: string): void {
    this.#metrics.outputPoints.inc({ output: this.#output, status: 'dropped' }, points);
    this.#failedBadly(`output ${this.#output}: dropped ${points} points`, reason, { points });
  }

  /** Reading or acknowledging the disk buffer failed (retried; the points stay where they are). */
  bufferFailed(message: string): void {
    this.#metrics.outputBufferErrors.inc({ output: this.#output, reason: 'disk' });
    this.#failedBadly(`output ${this.#output}`, message, {});
  }

  /** The output closed before it could send everything: `points` stay in `dir` for the next start. */
  keptForNextStart(points: number, dir: string): void {
    this.#metrics.outputBufferErrors.inc({ output: this.#output, reason: 'unsent_at_close' });
    this.#log.warn(`output ${this.#output}: ${points} points stay in ${dir} for the next start`);
  }

  /** Opening the buffer found a record cut short by a crash, or a damaged one, in `segment`: it and what follows are cut off. */
  segmentCut(segment: string, problem: 'incomplete' | 'corrupt', at: { offset: number; fileBytes: number; recordsKept: number }): void {
    this.#metrics.outputBufferErrors.inc({ output: this.#output, reason: 'damaged_segment' });
    const bytes = at.fileBytes - at.offset;
    this.#log.warn(
      { segment, offset: at.offset, bytes },
      `buffer segment ${segment}: ${problem === 'incomplete' ? 'a record cut short by a crash' : 'a damaged record'} at byte ${at.offset}; keeping the ${at.recordsKept} whole records before it and cutting off ${bytes} bytes`,
    );
  }

  /** The acknowledged position (in `ackFile`) is inside a record of `segment`: that segment is sent again from its start. */
  ackInsideRecord(ackFile: string, segment: string, offset: number): void {
    this.#metrics.outputBufferErrors.inc({ output: this.#output, reason: 'ack_mismatch' });
    this.#log.warn({ segment, offset }, `buffer: ${ackFile} points inside a record of ${segment} (byte ${offset}); that segment is sent again from its start`);
  }

  /** `ackFile` cannot be read: everything in the buffer's `dir` is sent again. */
  ackUnreadable(ackFile: string, dir: string): void {
    this.#metrics.outputBufferErrors.inc({ output: this.#output, reason: 'ack_unreadable' });
    this.#log.warn(`buffer: ${ackFile} is unreadable; everything in ${dir} is sent again`);
  }

  /** An error-level failure: `what` happened, `error` says why (the key of its run of repeats). */
  #failedBadly(what: string, error: string, fields: Record<string, unknown>): void {
    const line = this.#failures.failed(this.#output, error);
    if (line.say === 'full') this.#log.error(fields, `${what}: ${error}`);
    else if (line.say === 'count') this.#log.error(fields, `${what}: ${error} (the same error again, ${line.times} times in a row)`);
  }
}
