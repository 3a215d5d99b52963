import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { InputConfig } from '../config/load.js';
import { errorMessage } from '../errors.js';
import type { HostMode } from '../hosts/host-mode.js';
import type { HostStarts } from '../hosts/host-starts.js';
import { createHostMode } from '../hosts/modes.js';
import type { Logger } from '../telemetry/logger.js';
import type { OutputSet } from '../outputs/running-output.js';
import type { PointPipeline } from '../points/pipeline.js';
import type { DecodeResult } from '../points/tasks.js';
import { HostFailure, type FailureReason } from '../protocol/host-failure.js';
import type { RunSink } from '../protocol/host-session.js';
import type { CollectorInfo, DoneMessage, LastErrorMessage, LoadError } from '../protocol/messages.js';
import type { Runtime } from '../runtimes/runtime.js';
import type { Clock } from '../scheduler/clock.js';
import { formatBytes } from '../schema/units.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { QuarantinePolicy } from './collector-health.js';
import { CollectorRecord, type CollectorState } from './collector-record.js';
import { ErrorRepeats } from './error-repeats.js';
import { InputImage, type ImageStatus } from './input-image.js';
import type { LastErrors } from './last-errors.js';
import { ReportFlow } from './report-flow.js';
import { tickUsage, type TickOutcome } from './tick-outcome.js';

/** An input as the status API shows it, before and after its host started. */
export interface InputStatus {
  input: string;
  /** The runtime its hosts run in (`[runner] executor` as resolved). */
  executor: string;
  mode: InputConfig['mode'];
  /**
   * `running`: every script loaded; `degraded`: running, but scripts failed
   * to load (see loadErrors); `failed`: its host cannot start, or it has no
   * collector to run; `error` says why.
   */
  state: 'starting' | 'running' | 'degraded' | 'failed';
  error?: string;
  /** For an input with dependencies (`apt`, requirements.txt): the image its hosts run in (the virtual environment, with the process executor). */
  image?: ImageStatus;
  loadErrors: { module: string; file: string; line?: number | null; error: string }[];
  collectors: CollectorState[];
}

/** What the inputs of a runner share. */
export interface InputDeps {
  pipeline: PointPipeline;
  outputs: OutputSet;
  metrics: Metrics;
  log: Logger;
  lastErrors: LastErrors;
  /** The scheduler's clock: due times and failure pauses are on it. */
  clock: Clock;
  /** `[runner] quarantine_after` and `quarantine_interval` in effect. */
  quarantine: () => QuarantinePolicy;
  /** The turn every input's hosts take to start (`[runner] host_starts`). */
  hostStarts: HostStarts;
}

export interface RunningInputEvents {
  /** The input's host started: these collectors are ready to tick. */
  started: [collectors: readonly CollectorInfo[]];
}

/** Report messages of one run decoded or delivered at once (see ReportFlow). */
const REPORTS_IN_FLIGHT = 4;

/** A failed first start is tried again no sooner than this, whatever the backoff allows. */
const START_RETRY_MIN_MS = 1_000;

/** Cut collector-controlled text to a size a log line and an API field can carry. */
const clip = (text: string, max = 2000): string => (text.length > max ? `${text.slice(0, max)}…` : text);

/** What is wrong with a collector's `interval` and what runs instead, when the class's value was not a number > 0. */
export function badIntervalMessage(collector: CollectorInfo, inputIntervalMs: number | undefined): string | undefined {
  if (collector.bad_interval === undefined) return undefined;
  const instead =
    inputIntervalMs === undefined
      ? `it runs every ${collector.interval} s instead (DataKit's default)`
      : `the input's interval (${inputIntervalMs / 1000} s) applies`;
  return `collector ${collector.id} has interval = ${collector.bad_interval}, which is not a number of seconds > 0; ${instead}`;
}

/** `python.d/demo/broken.py:3` */
const fileAndLine = ({ file, line }: { file: string; line?: number | null }): string => (line ? `${file}:${line}` : file);

/**
 * One `[[inputs.pythond]]` block at run time, around its hosts (its mode
 * over the runtime): it starts them (retrying a start that fails), and owns
 * what every tick shares (time and size limits, the point pipeline,
 * counting, logging, status), so modes and runtimes only start hosts and
 * pass messages.
 */
export class RunningInput extends EventEmitter<RunningInputEvents> {
  #config: InputConfig;
  readonly #mode: HostMode;
  readonly #image: InputImage;
  readonly #runtimeKind: string;
  readonly #pipeline: PointPipeline;
  readonly #outputs: OutputSet;
  readonly #metrics: Metrics;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #quarantine: () => QuarantinePolicy;
  readonly #records = new Map<string, CollectorRecord>();
  readonly #lastErrors: LastErrors;
  readonly #repeats = new ErrorRepeats();
  /** Whether a tick of this input has delivered points yet: the first that does is logged. */
  #delivering = false;
  #collectors: CollectorInfo[] = [];
  #loadErrors: LoadError[] = [];
  #state: InputStatus['state'] = 'starting';
  #startError: string | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  /** Ends the run in flight of a collector (one at a time each): close() ends services, overrun() a tick due again. */
  readonly #stops = new Map<string, (reason: FailureReason, message: string) => void>();

  constructor(options: InputDeps & { config: InputConfig; runtime: Runtime }) {
    super();
    this.#config = options.config;
    this.#clock = options.clock;
    this.#quarantine = options.quarantine;
    this.#log = options.log.child({ input: options.config.name });
    this.#runtimeKind = options.runtime.kind;
    this.#mode = createHostMode(options.config, options.runtime, this.#log, options.hostStarts);
    this.#image = new InputImage({ input: options.config, runtime: options.runtime, log: this.#log, metrics: options.metrics });
    this.#mode.on('hostLost', (failure) => this.#hostLost(failure));
    this.#mode.on('lastError', (message) => this.#lastError(message));
    this.#pipeline = options.pipeline;
    this.#outputs = options.outputs;
    this.#metrics = options.metrics;
    this.#lastErrors = options.lastErrors;
  }

  get name(): string {
    return this.#config.name;
  }

  /** The input's config: the one its hosts were started with, or a later one that differs only in keys it takes live. */
  get config(): InputConfig {
    return this.#config;
  }

  /**
   * Takes a new version of the input's config that differs only in keys it
   * applies to its next ticks (`timeout`, `tags`, `max_points`, `overlap`,
   * `concurrency`, which the queue applies): its hosts stay.
   */
  update(next: InputConfig): void {
    this.#config = next;
  }

  get collectors(): readonly CollectorInfo[] {
    return this.#collectors;
  }

  get loadErrors(): readonly LoadError[] {
    return this.#loadErrors;
  }

  /**
   * `timeout = "0"`: the input's collectors are services, whose run() may
   * never return (one that serves HTTP, say). Each runs with no timeout and
   * its bounds count per interval; when it ends it is started again.
   */
  get service(): boolean {
    return this.config.timeout === 0;
  }

  /**
   * Makes its image ready (building it if it has dependencies that changed),
   * starts the input's host and learns the collectors it loaded; `started`
   * tells when. Resolves after the first attempt, true if it worked; one
   * that failed is tried again in the background, at the pace of the
   * input's backoff (or its image's), until it works or the input is closed.
   */
  async start(): Promise<boolean> {
    try {
      await this.#image.ready();
      this.#started(await this.#mode.start());
      return true;
    } catch (err) {
      this.#state = 'failed';
      this.#startError = errorMessage(err);
      if (this.#closed) return false;
      const waitMs = Math.max(START_RETRY_MIN_MS, this.#mode.backoffRemaining(), this.#image.retryAfterMs());
      this.#log.error(`input ${this.name} cannot start: ${this.#startError}; retrying in ${(waitMs / 1000).toFixed(1)} s`);
      this.#retry = setTimeout(() => void this.start(), waitMs).unref();
      return false;
    }
  }

  /** Settles when a build of its image begins; never, when it needs none. */
  get imageBuilding(): Promise<void> {
    return this.#image.building;
  }

  /** The input, its state and its collectors', for the status API. */
  status(): InputStatus {
    const host = this.#mode.hostId;
    const image = this.#image.status();
    return {
      input: this.name,
      executor: this.#runtimeKind,
      mode: this.config.mode,
      state: this.#state,
      error: this.#startError,
      ...(image ? { image } : {}),
      loadErrors: this.#loadErrors.map(({ module, file, line, error }) => ({ module, file, line, error })),
      collectors: [...this.#records.values()].map((record) => record.status(host, this.#mode.image)),
    };
  }

  #started(hello: { collectors: CollectorInfo[]; load_errors: LoadError[] }): void {
    // The files as the user wrote their dirs (`demo/general.py`), whatever path the host sees them at (a container's), and the input's interval over the collectors' own.
    const files = new Map(
      this.config.discovered.flatMap((dir) => dir.modules.map(({ module, file }) => [module, path.join(dir.entry, path.relative(dir.path, file))] as const)),
    );
    const interval = this.config.interval;
    for (const previous of this.#loadErrors) this.#metrics.loadErrors.remove({ input: this.name, file: previous.file });
    this.#collectors = hello.collectors.map((c) => ({
      ...c,
      file: files.get(c.module) ?? c.file,
      interval: interval === undefined ? c.interval : interval / 1000,
    }));
    this.#loadErrors = hello.load_errors.map((e) => ({ ...e, file: files.get(e.module) ?? e.file }));
    for (const failed of this.#loadErrors) {
      this.#metrics.loadErrors.set({ input: this.name, file: failed.file }, 1);
      this.#log.error(
        { module: failed.module, file: failed.file, traceback: failed.traceback },
        `input ${this.name}: cannot load ${fileAndLine(failed)}: ${failed.error}`,
      );
    }
    const failedScripts = this.#loadErrors.map((failed) => `${fileAndLine(failed)}: ${failed.error}`).join('; ');
    if (hello.collectors.length === 0) {
      this.#state = 'failed';
      this.#startError = failedScripts
        ? `no collector could be loaded: ${failedScripts}`
        : `no DataKitFramework collector in ${this.config.dirs.join(', ')} (a class that subclasses DataKitFramework and overrides run())`;
      this.#log.error(`input ${this.name}: ${this.#startError}`);
    } else {
      this.#state = hello.load_errors.length > 0 ? 'degraded' : 'running';
      this.#startError = failedScripts ? `${hello.load_errors.length} script(s) failed to load: ${failedScripts}` : undefined;
    }
    for (const collector of this.#collectors) {
      const problem = badIntervalMessage(collector, interval);
      if (problem) this.#log.warn({ collector: collector.id }, `${collector.file}: ${problem}`);
    }
    for (const collector of this.#collectors) {
      const record = new CollectorRecord({
        input: this.name,
        collector,
        service: this.service,
        metrics: this.#metrics,
        quarantine: this.#quarantine,
        clock: this.#clock,
      });
      this.#records.set(collector.id, record);
    }
    this.emit('started', this.#collectors);
  }

  /** The scheduler plans the next tick of this collector at `nextRunEpochMs`. */
  planned(collectorId: string, nextRunEpochMs: number): void {
    this.#records.get(collectorId)?.planned(nextRunEpochMs);
  }

  /** Counts a tick the scheduler did not run. */
  skipped(collector: CollectorInfo, reason: string): void {
    this.#metrics.ticks.inc({ input: this.name, collector: collector.id, status: 'skipped' });
    this.#metrics.skipped.inc({ input: this.name, collector: collector.id, reason });
    this.#log.debug({ collector: collector.id, reason }, `tick of ${this.name}/${collector.id} skipped (${reason})`);
  }

  /**
   * Runs one tick of `collector`, due at `dueAt` (clock time; by hand: now):
   * its run, its points to the outputs, its outcome counted. Skipped while
   * its host is backing off, or while the collector is (see CollectorHealth).
   */
  async tick(collector: CollectorInfo, dueAt = this.#clock.now()): Promise<TickOutcome> {
    const record = this.#records.get(collector.id);
    const reason = this.#mode.backoffRemaining() > 0 ? 'backoff' : record?.health.skipReason(dueAt);
    if (reason) {
      this.skipped(collector, reason);
      return { status: 'skipped', reason, durationMs: 0, points: 0, reportBytes: 0 };
    }
    const started = performance.now();
    record?.running();
    const outcome = await this.#run(collector);
    outcome.durationMs = performance.now() - started;
    record?.recorded(outcome, dueAt);
    if (outcome.status === 'ok') this.#logSuccess(collector, outcome);
    else this.#logFailure(collector, outcome);
    return outcome;
  }

  /**
   * The next tick of `collectorId` is due while one still runs: with
   * `overlap = "kill"` the running one is stopped (it fails with reason
   * `overlap`) and true is returned, so the due one runs once it has ended.
   */
  overrun(collectorId: string): boolean {
    const stop = this.#stops.get(collectorId);
    if (this.config.overlap !== 'kill' || !stop) return false;
    stop('overlap', 'still running when its next tick was due (overlap = "kill")');
    return true;
  }

  async #run(collector: CollectorInfo): Promise<TickOutcome> {
    const { max_report_size: maxBytes, max_points: maxPoints, max_stderr: maxOutput } = this.config;
    const intervalMs = collector.interval * 1000;
    const service = this.service;
    const timeoutMs = this.config.timeout ?? intervalMs;
    // What the per-tick bounds count. A service's run never ends, so its bounds count per interval.
    const per = service ? 'interval' : 'tick';
    let used = { reportBytes: 0, outputBytes: 0, points: 0 };
    const nextWindow = service ? setInterval(() => (used = { reportBytes: 0, outputBytes: 0, points: 0 }), intervalMs) : undefined;
    let points = 0;
    let reportBytes = 0;
    let invalid = 0;
    const invalidErrors: string[] = [];
    // Each report's way to the outputs; a settled one is dropped, so a service's run does not pile them up.
    const flow = new ReportFlow({ inWorkers: Math.max(1, this.#pipeline.workers - 1), inFlight: REPORTS_IN_FLIGHT });
    let breach: HostFailure | undefined;
    // A breach of a bound (or the timeout) aborts the run: its host is killed and the run fails with the breach.
    const abort = new AbortController();
    const stop = (reason: FailureReason, message: string): void => {
      if (breach) return;
      breach = new HostFailure(reason, message);
      abort.abort(breach);
    };
    const accept = (result: DecodeResult): Promise<void> | undefined => {
      if (breach) return undefined;
      if (result.invalid > 0) {
        invalid += result.invalid;
        this.#metrics.invalidPoints.inc({ input: this.name }, result.invalid);
        for (const error of result.errors) if (invalidErrors.length < 5) invalidErrors.push(error);
        // A service's outcome may never come: say it now.
        if (service)
          this.#log.warn(
            { collector: collector.id },
            `${this.name}/${collector.id}: ${result.invalid} invalid point(s) dropped: ${result.errors.slice(0, 5).join('; ')}`,
          );
      }
      if (used.points + result.points > maxPoints) {
        stop('max_points', `reported more than ${maxPoints} points in one ${per} (max_points)`);
        return undefined;
      }
      used.points += result.points;
      points += result.points;
      for (const batch of result.batches) this.#metrics.points.inc({ input: this.name, category: batch.category }, batch.points);
      // Points an output could not keep are counted (dropped) and logged by that output.
      return this.#outputs.deliver(result.batches).then(() => undefined);
    };
    const chargeOutput = (bytes: number): boolean => {
      used.outputBytes += bytes;
      if (used.outputBytes <= maxOutput) return true;
      stop('max_stderr', `wrote more than ${formatBytes(maxOutput)} of output in one ${per} (max_stderr)`);
      return false;
    };
    const sink: RunSink = {
      report: (line) => {
        if (breach) return;
        used.reportBytes += line.length;
        reportBytes += line.length;
        if (used.reportBytes > maxBytes) return stop('max_report_size', `reported more than ${formatBytes(maxBytes)} in one ${per} (max_report_size)`);
        const decoded = this.#pipeline.decodeReport(line, this.config.tags);
        return flow.add(decoded, decoded.then(accept));
      },
      log: (message) => {
        if (breach || !chargeOutput(message.text.length)) return;
        const level = message.stream === 'stderr' ? 'warn' : 'info';
        this.#log[level]({ collector: collector.id, stream: message.stream }, clip(message.text, 4096));
      },
      stderr: (bytes) => void chargeOutput(bytes),
    };

    // The timeout counts from when the host has the run: starting a host is bounded by the load timeout.
    let timer: NodeJS.Timeout | undefined;
    const running = (): void => {
      if (!service) timer = setTimeout(() => stop('timeout', `still running after ${timeoutMs / 1000} s (timeout)`), timeoutMs);
    };
    this.#stops.set(collector.id, stop);
    let done: DoneMessage | undefined;
    let failure: unknown;
    try {
      // A service that has run for an interval is healthy: a later death restarts it without waiting.
      done = await this.#mode.run(collector.id, sink, abort.signal, { healthyAfterMs: service ? intervalMs : undefined, running });
    } catch (err) {
      failure = err;
    } finally {
      clearTimeout(timer);
      clearInterval(nextWindow);
      this.#stops.delete(collector.id);
    }
    await flow.drained();

    const base = { durationMs: 0, points, reportBytes, runMs: done?.run_ms, usage: done && tickUsage(done.usage) };
    // A service that ran until pythond stopped did its job.
    if (breach?.reason === 'shutdown') return { ...base, status: 'ok' };
    if (breach) return { ...base, status: breach.reason === 'timeout' ? 'timeout' : 'error', reason: breach.reason, error: breach.message };
    if (failure) {
      const reason = failure instanceof HostFailure ? failure.reason : 'host_start';
      return { ...base, status: 'error', reason, error: errorMessage(failure) };
    }
    if (done!.status === 'error') {
      return { ...base, status: 'error', reason: 'exception', error: clip(done!.error ?? 'run() raised'), traceback: done!.traceback };
    }
    if (invalid > 0) {
      return { ...base, status: 'error', reason: 'invalid_points', error: `${invalid} invalid point(s) dropped: ${invalidErrors.join('; ')}` };
    }
    return { ...base, status: 'ok' };
  }

  #logSuccess(collector: CollectorInfo, outcome: TickOutcome): void {
    this.#log.debug({ collector: collector.id, points: outcome.points, ms: outcome.durationMs }, `tick ${this.name}/${collector.id} ok`);
    const failures = this.#repeats.cleared(collector.id);
    if (failures > 0) this.#log.info({ collector: collector.id }, `${this.name}/${collector.id} is ok again after ${failures} failed tick(s)`);
    if (outcome.points > 0 && !this.#delivering) {
      this.#delivering = true;
      const outputs = this.#outputs.status().map((output) => output.id);
      this.#log.info(`input ${this.name} is delivering points: the first ${outcome.points}, from ${collector.id}, went to ${outputs.join(', ')}`);
    }
  }

  /** A failure is logged in full (with its traceback) once; while it repeats unchanged, each repeat is one short line that counts it. */
  #logFailure(collector: CollectorInfo, outcome: TickOutcome): void {
    const exception = outcome.reason === 'exception';
    const level = exception ? 'error' : 'warn';
    const what = exception ? `${this.name}/${collector.id} raised ${outcome.error}` : `tick ${this.name}/${collector.id} failed: ${outcome.error}`;
    const fields = { collector: collector.id, reason: outcome.reason };
    const repeats = this.#repeats.failed(collector.id, `${outcome.error}\n${outcome.traceback ?? ''}`);
    if (repeats === 0) this.#log[level]({ ...fields, traceback: outcome.traceback }, what);
    else this.#log[level](fields, `${what} (the same error again, ${repeats + 1} times in a row)`);
  }

  /** A collector called set_lasterror(): kept for the status API, and logged. */
  #lastError(message: LastErrorMessage): void {
    const entry = this.#lastErrors.record(message.input, message.error);
    this.#log.warn({ collector: message.collector ?? undefined }, `${entry.input}: ${entry.error} (set_lasterror)`);
  }

  /** A host went away other than by close(): counted as a restart. */
  #hostLost({ reason }: HostFailure): void {
    this.#metrics.hostRestarts.inc({ input: this.name, reason });
    this.#log.warn({ reason }, `input ${this.name}: collector host gone (${reason}); a new one starts at the next tick`);
  }

  /** The input is removed: its collectors' gauges go. */
  forget(): void {
    for (const record of this.#records.values()) record.retire(true);
  }

  /** This version replaces `old`: its collectors' gauges show this version from now on; those only `old` had go. */
  takeOver(old: RunningInput): void {
    for (const [id, record] of old.#records) record.retire(!this.#records.has(id));
    for (const record of this.#records.values()) record.publish();
  }

  /** Whether close() was called: its ticks are over. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Stops retrying a start, ends services at once (they would not finish),
   * lets other ticks in flight finish (killing them after `graceMs`) and
   * stops the hosts.
   */
  async close(graceMs: number): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#image.close();
    if (this.service) for (const stop of this.#stops.values()) stop('shutdown', 'pythond is shutting down');
    await this.#mode.close(graceMs);
  }
}
