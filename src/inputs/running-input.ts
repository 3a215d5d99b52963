import type { InputConfig } from '../config/load.js';
import { formatBytes } from '../config/units.js';
import { errorMessage } from '../errors.js';
import type { Executor } from '../executors/executor.js';
import type { Logger } from '../logger.js';
import type { OutputSet } from '../outputs/running-output.js';
import type { DecodeResult, PointPipeline } from '../points/pipeline.js';
import { HostFailure, type RunSink } from '../protocol/host-session.js';
import type { CollectorInfo, DoneMessage, LastErrorMessage, LoadError } from '../protocol/messages.js';
import type { LastErrors } from './last-errors.js';
import type { Metrics } from '../telemetry/metrics.js';

export type TickStatus = 'ok' | 'error' | 'timeout' | 'skipped';

export interface TickOutcome {
  status: TickStatus;
  /** Short and bounded, for metrics: `exception`, `timeout`, `max_points`, `oom`, `exit 139`, `backoff`, ... */
  reason?: string;
  /** What went wrong, for the operator. */
  error?: string;
  durationMs: number;
  /** The collector's own run() time, when it finished. */
  runMs?: number;
  points: number;
}

/** What the status API shows for one collector. */
export interface CollectorState {
  input: string;
  collector: string;
  name: string;
  interval: number;
  state: 'idle' | 'running' | 'failing';
  runs: number;
  failures: number;
  lastRun?: string;
  lastStatus?: TickStatus;
  lastDurationMs?: number;
  lastError?: string;
  nextRun?: string;
  host?: string;
}

/** Cut collector-controlled text to a size a log line and an API field can carry. */
const clip = (text: string, max = 2000): string => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * The runtime of one `[[inputs.pythond]]` block, around its executor: it
 * owns what every tick shares (time and size limits, the point pipeline,
 * counting, logging, status), so executors only start hosts and pass messages.
 */
export class RunningInput {
  readonly config: InputConfig;
  readonly #executor: Executor;
  readonly #pipeline: PointPipeline;
  readonly #outputs: OutputSet;
  readonly #metrics: Metrics;
  readonly #log: Logger;
  readonly #states = new Map<string, CollectorState>();
  readonly #lastErrors: LastErrors;
  #collectors: CollectorInfo[] = [];
  #loadErrors: LoadError[] = [];
  #runCounter = 0;

  constructor(options: {
    config: InputConfig;
    executor: Executor;
    pipeline: PointPipeline;
    outputs: OutputSet;
    metrics: Metrics;
    log: Logger;
    lastErrors: LastErrors;
  }) {
    this.config = options.config;
    this.#executor = options.executor;
    this.#pipeline = options.pipeline;
    this.#outputs = options.outputs;
    this.#metrics = options.metrics;
    this.#log = options.log;
    this.#lastErrors = options.lastErrors;
  }

  get name(): string {
    return this.config.name;
  }

  get collectors(): readonly CollectorInfo[] {
    return this.#collectors;
  }

  get loadErrors(): readonly LoadError[] {
    return this.#loadErrors;
  }

  /** Starts the executor's host and learns the collectors it loaded. */
  async start(): Promise<readonly CollectorInfo[]> {
    const hello = await this.#executor.start();
    this.#collectors = hello.collectors;
    this.#loadErrors = hello.load_errors;
    for (const failed of hello.load_errors) {
      this.#log.error({ module: failed.module, file: failed.file, traceback: failed.traceback }, `input ${this.name}: cannot load ${failed.file}: ${failed.error}`);
    }
    if (hello.collectors.length === 0) {
      this.#log.warn(`input ${this.name}: no DataKitFramework collector found in ${this.config.dirs.join(', ')}`);
    }
    for (const collector of hello.collectors) {
      this.#states.set(collector.id, { input: this.name, collector: collector.id, name: collector.name, interval: collector.interval, state: 'idle', runs: 0, failures: 0 });
    }
    return hello.collectors;
  }

  /** The scheduler plans the next tick of this collector at `nextRunEpochMs`. */
  planned(collectorId: string, nextRunEpochMs: number): void {
    const state = this.#states.get(collectorId);
    if (state) state.nextRun = new Date(nextRunEpochMs).toISOString();
  }

  states(): CollectorState[] {
    return [...this.#states.values()].map((state) => ({ ...state, host: this.#executor.hostId }));
  }

  /** Counts a tick the scheduler did not run. */
  skipped(collector: CollectorInfo, reason: string): void {
    this.#metrics.ticks.inc({ input: this.name, collector: collector.id, status: 'skipped' });
    this.#metrics.skipped.inc({ input: this.name, collector: collector.id, reason });
    this.#log.debug({ collector: collector.id, reason }, `tick of ${this.name}/${collector.id} skipped (${reason})`);
  }

  /** Runs one tick of `collector`: its run, its points to the outputs, its outcome counted. */
  async tick(collector: CollectorInfo): Promise<TickOutcome> {
    const waitMs = this.#executor.backoffRemaining();
    if (waitMs > 0) {
      this.skipped(collector, 'backoff');
      return { status: 'skipped', reason: 'backoff', durationMs: 0, points: 0 };
    }
    const started = performance.now();
    const state = this.#states.get(collector.id);
    if (state) state.state = 'running';
    const outcome = await this.#run(collector);
    outcome.durationMs = performance.now() - started;
    this.#record(collector, outcome);
    return outcome;
  }

  async #run(collector: CollectorInfo): Promise<TickOutcome> {
    const { max_report_size: maxBytes, max_points: maxPoints, max_stderr: maxOutput } = this.config;
    const runId = String(++this.#runCounter);
    const timeoutMs = this.config.timeout ?? collector.interval * 1000;
    let reportBytes = 0;
    let outputBytes = 0;
    let points = 0;
    let invalid = 0;
    const invalidErrors: string[] = [];
    const deliveries: Promise<void>[] = [];
    let breach: HostFailure | undefined;

    const stop = (reason: string, message: string): void => {
      if (breach) return;
      breach = new HostFailure(reason, message);
      void this.#executor.abort(runId, breach);
    };
    const accept = (result: DecodeResult): Promise<void> | undefined => {
      if (breach) return undefined;
      invalid += result.invalid;
      for (const error of result.errors) if (invalidErrors.length < 5) invalidErrors.push(error);
      if (points + result.points > maxPoints) {
        stop('max_points', `reported more than ${maxPoints} points in one tick (max_points)`);
        return undefined;
      }
      points += result.points;
      for (const batch of result.batches) this.#metrics.points.inc({ input: this.name, category: batch.category }, batch.points);
      return this.#outputs.deliver(result.batches);
    };
    const chargeOutput = (bytes: number): boolean => {
      outputBytes += bytes;
      if (outputBytes <= maxOutput) return true;
      stop('max_stderr', `wrote more than ${formatBytes(maxOutput)} of output in one tick (max_stderr)`);
      return false;
    };
    const sink: RunSink = {
      report: (line) => {
        if (breach) return;
        reportBytes += line.length;
        if (reportBytes > maxBytes) return stop('max_report_size', `reported more than ${formatBytes(maxBytes)} in one tick (max_report_size)`);
        deliveries.push(this.#pipeline.decodeReport(line, this.config.tags).then(accept));
      },
      log: (message) => {
        if (breach || !chargeOutput(message.text.length)) return;
        const level = message.stream === 'stderr' ? 'warn' : 'info';
        this.#log[level]({ collector: collector.id, stream: message.stream }, clip(message.text, 4096));
      },
      stderr: (bytes) => void chargeOutput(bytes),
    };

    const timer = setTimeout(() => stop('timeout', `still running after ${timeoutMs / 1000} s (timeout)`), timeoutMs);
    let done: DoneMessage | undefined;
    let failure: unknown;
    try {
      done = await this.#executor.run(runId, collector.id, sink);
    } catch (err) {
      failure = err;
    } finally {
      clearTimeout(timer);
    }
    await Promise.all(deliveries);

    const base = { durationMs: 0, points, runMs: done?.run_ms };
    if (breach) return { ...base, status: breach.reason === 'timeout' ? 'timeout' : 'error', reason: breach.reason, error: breach.message };
    if (failure) {
      const reason = failure instanceof HostFailure ? failure.reason : 'host_start';
      return { ...base, status: 'error', reason, error: errorMessage(failure) };
    }
    if (done!.status === 'error') {
      this.#log.error({ collector: collector.id, traceback: done!.traceback }, `${this.name}/${collector.id} raised ${clip(done!.error ?? 'an error')}`);
      return { ...base, status: 'error', reason: 'exception', error: clip(done!.error ?? 'run() raised') };
    }
    if (invalid > 0) {
      this.#metrics.invalidPoints.inc({ input: this.name }, invalid);
      return { ...base, status: 'error', reason: 'invalid_points', error: `${invalid} invalid point(s) dropped: ${invalidErrors.join('; ')}` };
    }
    return { ...base, status: 'ok' };
  }

  #record(collector: CollectorInfo, outcome: TickOutcome): void {
    const labels = { input: this.name, collector: collector.id };
    this.#metrics.ticks.inc({ ...labels, status: outcome.status });
    if (outcome.status === 'error' || outcome.status === 'timeout') this.#metrics.tickFailures.inc({ ...labels, reason: outcome.reason ?? 'unknown' });
    this.#metrics.tickDuration.observe(labels, outcome.durationMs / 1000);
    const state = this.#states.get(collector.id);
    if (state) {
      state.runs++;
      state.lastRun = new Date().toISOString();
      state.lastStatus = outcome.status;
      state.lastDurationMs = Math.round(outcome.durationMs * 100) / 100;
      state.state = outcome.status === 'ok' ? 'idle' : 'failing';
      if (outcome.status !== 'ok') {
        state.failures++;
        state.lastError = outcome.error;
      }
    }
    if (outcome.status === 'ok') {
      this.#log.debug({ collector: collector.id, points: outcome.points, ms: outcome.durationMs }, `tick ${this.name}/${collector.id} ok`);
    } else if (outcome.reason !== 'exception') {
      // exceptions were logged with their traceback already
      this.#log.warn({ collector: collector.id, reason: outcome.reason }, `tick ${this.name}/${collector.id} failed: ${outcome.error}`);
    }
  }

  /** A collector called set_lasterror(): kept for the status API, and logged. */
  lastError(message: LastErrorMessage): void {
    const entry = this.#lastErrors.record(message.input, message.error);
    this.#log.warn({ collector: message.collector ?? undefined }, `${entry.input}: ${entry.error} (set_lasterror)`);
  }

  /** Called by the executor when a host went away: counted as a restart. */
  hostLost(reason: string): void {
    this.#metrics.hostRestarts.inc({ input: this.name, reason });
    this.#log.warn({ reason }, `input ${this.name}: collector host gone (${reason}); a new one starts at the next tick`);
  }

  async close(graceMs: number): Promise<void> {
    await this.#executor.close(graceMs);
  }
}
