import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

/** Whether the `times`-th failure in a row is logged: the first, then each time the count doubles (2, 4, 8, ...). */
const isLogged = (times: number): boolean => (times & (times - 1)) === 0;

/**
 * What happens to the points one output is given, and to its disk buffer.
 * Each method is one event: it says what happened in the log and counts it
 * on /metrics. A failure that repeats unchanged is logged in full once and
 * then briefly; a retried one only at the 2nd, 4th, 8th, ... time in a row,
 * so a destination that stays away does not fill the log. Every one is
 * counted.
 */
export class OutputEvents {
  readonly #output: string;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  #leftOutSaid = false;
  /** Series evicted at max_series in a row without a log line, and when the last line was written. */
  #evictedSinceLog = 0;
  #evictionLoggedAt = 0;

  /** `log` is the output's own logger (its `output` field bound). */
  constructor(output: string, log: Logger, metrics: Metrics) {
    this.#output = output;
    this.#log = log;
    this.#metrics = metrics;
  }

  /** The destination took `points`; `failures` sends before this one had failed in a row. */
  sent(points: number, failures = 0): void {
    this.#metrics.outputPoints.inc({ output: this.#output, status: 'sent' }, points);
    if (failures > 0) this.#log.info(`output ${this.#output}: sending again after ${failures} failed attempt(s)`);
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

  /** A send failed (the `attempt`-th in a row) and is retried in `delayMs`; `times`: how many in a row failed with this same `error`. */
  sendFailed(batch: { points: number; category: string }, error: string, attempt: number, delayMs: number, times: number): void {
    this.#metrics.outputPoints.inc({ output: this.#output, status: 'failed' }, batch.points);
    if (!isLogged(times)) return;
    const what = times === 1 ? error : `the same error, ${times} times in a row`;
    this.#log.warn(
      { points: batch.points, category: batch.category, failures: attempt },
      `output ${this.#output}: cannot send ${batch.points} ${batch.category} points (attempt ${attempt}): ${what}; retrying in ${(delayMs / 1000).toFixed(1)} s`,
    );
  }

  /** A local output could not write a batch: its points are lost. `times`: how many writes in a row failed with this same error. */
  writeFailed(batch: { points: number; category: string }, err: unknown, times: number): void {
    this.#metrics.outputPoints.inc({ output: this.#output, status: 'dropped' }, batch.points);
    const what = `output ${this.#output} failed to write ${batch.points} points`;
    if (times === 1) this.#log.error({ err, points: batch.points, category: batch.category }, what);
    else this.#log.error({ points: batch.points, category: batch.category }, `${what} (the same error again, ${times} times in a row)`);
  }

  /** Points given up for good: `message` says how many and why. */
  dropped(points: number, message: string): void {
    this.#metrics.outputPoints.inc({ output: this.#output, status: 'dropped' }, points);
    this.#log.error({ points }, `output ${this.#output}: ${message}`);
  }

  /** Reading or acknowledging the disk buffer failed (retried; the points stay where they are); `times` as for sendFailed. */
  bufferFailed(err: unknown, message: string, times: number): void {
    this.#metrics.outputBufferErrors.inc({ output: this.#output, reason: 'disk' });
    if (!isLogged(times)) return;
    if (times === 1) this.#log.error({ err }, `output ${this.#output}: ${message}`);
    else this.#log.error(`output ${this.#output}: ${message} (the same error, ${times} times in a row)`);
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
}
