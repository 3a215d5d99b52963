import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { RepeatedFailures } from '../repeated-failures.js';

/** What went wrong with an input, apart from its ticks: the `reason` of `pythond_input_errors_total`. */
export type InputErrorReason = 'start' | 'load' | 'no_collector' | 'bad_interval' | 'lasterror' | 'stray_output' | 'pull';

/** How a failed tick is told: its reason (a metric label), its error and traceback. */
export interface TickFailure {
  reason?: string;
  error?: string;
  traceback?: string;
}

/**
 * What happens to one input and its collector hosts that an operator must
 * see: hosts that cannot start or are lost, scripts that do not load, ticks
 * that fail, what collectors write. Each method is one event: it says what
 * happened in the input's log (whose lines carry `input`) and counts it on
 * /metrics, so an operator who alerts on the metrics misses nothing the log
 * says is wrong.
 */
export class InputEvents {
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #input: string;
  /** Each collector's run of failed ticks, so that a failure repeating every tick is logged once a minute. */
  readonly #failures: RepeatedFailures;

  /** `now`: the scheduler's clock, in milliseconds. */
  constructor(log: Logger, metrics: Metrics, input: string, now?: () => number) {
    this.#log = log;
    this.#metrics = metrics;
    this.#input = input;
    this.#failures = new RepeatedFailures(now);
  }

  /** The input's host cannot start (nor its image be made ready): tried again in `waitMs`. */
  startFailed(error: string, waitMs: number): void {
    this.#count('start');
    this.#log.error(`input ${this.#input} cannot start: ${error}; retrying in ${(waitMs / 1000).toFixed(1)} s`);
  }

  /** A reload could not pull the input's image (`pull = "always"`) to see whether it changed: the hosts keep the image they have. */
  pullFailedAtReload(image: string, error: string): void {
    this.#count('pull');
    this.#log.warn({ image }, `input ${this.#input}: ${error}; it runs on with the image it has`);
  }

  /** A script of the input did not load (`where` is its file and line, `error` why): its collectors do not run. */
  loadFailed(script: { module: string; file: string; traceback?: string }, where: string, error: string): void {
    this.#metrics.loadErrors.set({ input: this.#input, file: script.file }, 1);
    this.#count('load');
    this.#log.error({ module: script.module, file: script.file, traceback: script.traceback }, `input ${this.#input}: cannot load ${where}: ${error}`);
  }

  /** The input's host started with no collector to run (`error` says why): it is stopped. */
  noCollector(error: string): void {
    this.#count('no_collector');
    this.#log.error(`input ${this.#input}: ${error}; its host stops, and an edit of its scripts (a reload) starts it again`);
  }

  /** A collector's class has an `interval` that is not a number of seconds > 0: `problem` says what runs instead. */
  badInterval(collector: string, file: string, problem: string): void {
    this.#count('bad_interval');
    this.#log.warn({ collector }, `${file}: ${problem}`);
  }

  /** A collector called set_lasterror(): `reportedAs` is the input it named, as the status API keeps it. */
  lastError(collector: string | undefined, reportedAs: string, error: string): void {
    this.#count('lasterror');
    this.#log.warn({ collector }, `${reportedAs}: ${error} (set_lasterror)`);
  }

  /** A host went away other than by close(): a new one starts at the next tick. */
  hostLost(reason: string): void {
    this.#metrics.hostRestarts.inc({ input: this.#input, reason });
    this.#metrics.containerRestarts.inc({ input: this.#input, reason });
    this.#log.warn({ reason }, `input ${this.#input}: collector host gone (${reason}); a new one starts at the next tick`);
  }

  /**
   * A tick failed. Each is counted; the log shows a new failure in full
   * (its traceback once), and while the same one repeats, one short line a
   * minute with how many times in a row (see RepeatedFailures), so a
   * collector failing every tick does not fill the log.
   */
  tickFailed(collector: string, failure: TickFailure): void {
    const reason = failure.reason ?? 'unknown';
    this.#metrics.tickFailures.inc({ input: this.#input, collector, reason });
    const line = this.#failures.failed(collector, `${failure.error}\n${failure.traceback ?? ''}`);
    if (line.say === 'quiet') return;
    const exception = reason === 'exception';
    const what = exception ? `${this.#input}/${collector} raised ${failure.error}` : `tick ${this.#input}/${collector} failed: ${failure.error}`;
    const level = exception ? 'error' : 'warn';
    const fields = { collector, reason: failure.reason };
    if (line.say === 'full') this.#log[level]({ ...fields, traceback: failure.traceback }, what);
    else this.#log[level](fields, `${what} (the same error again, ${line.times} times in a row)`);
  }

  /** A tick went through: a collector that was failing is said to be ok again, with how many ticks failed in a row. */
  tickOk(collector: string): void {
    const failures = this.#failures.succeeded(collector);
    if (failures > 0) this.#log.info({ collector }, `${this.#input}/${collector} is ok again after ${failures} failed tick(s)`);
  }

  /** Points of a tick failed validation and were dropped: its outcome says so when it ends. */
  invalidPoints(count: number): void {
    this.#metrics.invalidPoints.inc({ input: this.#input }, count);
  }

  /** Points of a service failed validation and were dropped: said now, since its run (and its outcome) may never end. */
  serviceInvalidPoints(collector: string, count: number, errors: readonly string[]): void {
    this.invalidPoints(count);
    this.#log.warn({ collector }, `${this.#input}/${collector}: ${count} invalid point(s) dropped: ${errors.slice(0, 5).join('; ')}`);
  }

  /** A line a collector wrote during its run: stderr at warn, stdout at info. */
  runOutput(collector: string, stream: 'stdout' | 'stderr', text: string): void {
    this.#countLine(collector, stream);
    const fields = { collector, stream };
    if (stream === 'stderr') this.#log.warn(fields, text);
    else this.#log.info(fields, text);
  }

  /** A line a host wrote outside any run (at import time, from a thread, raw stderr): at warn, since no run asked for it. */
  strayOutput(collector: string | null | undefined, stream: 'stdout' | 'stderr', text: string): void {
    this.#countLine(collector ?? '', stream);
    this.#log.warn(collector ? { collector, stream } : { stream }, text);
  }

  /** A host's output outside runs went past max_stderr: more is dropped for a while. */
  strayOutputDropped(host: string): void {
    this.#count('stray_output');
    this.#log.warn(`collector host ${host}: more output outside runs is dropped for a minute or until the next run starts (max_stderr)`);
  }

  #count(reason: InputErrorReason): void {
    this.#metrics.inputErrors.inc({ input: this.#input, reason });
  }

  #countLine(collector: string, stream: 'stdout' | 'stderr'): void {
    this.#metrics.collectorOutputLines.inc({ input: this.#input, collector, stream });
  }
}
