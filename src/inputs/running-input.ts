import { EventEmitter } from 'node:events';
import type { InputConfig } from '../config/load.js';
import { errorMessage } from '../errors.js';
import type { HostMode } from '../hosts/host-mode.js';
import type { HostStarts } from '../hosts/host-starts.js';
import { createHostMode } from '../hosts/modes.js';
import type { Logger } from '../telemetry/logger.js';
import type { OutputSet } from '../outputs/running-output.js';
import type { PointPipeline } from '../points/pipeline.js';
import type { CollectorInfo, HelloMessage, LastErrorMessage, LoadError } from '../protocol/messages.js';
import type { Runtime } from '../runtimes/runtime.js';
import type { Clock } from '../scheduler/clock.js';
import { InputEvents } from '../telemetry/events/input-events.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { QuarantinePolicy } from './collector-health.js';
import { CollectorRecord, type CollectorState } from './collector-record.js';
import { InputImage, type ImageStatus } from './input-image.js';
import type { LastErrors } from './last-errors.js';
import { badIntervalMessage, fileAndLine, loadedCollectors } from './loaded-collectors.js';
import type { TickOutcome } from './tick-outcome.js';
import { TickRun } from './tick-run.js';

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

/** A host with no collector to run is asked to exit, and killed if it has not within this. */
const NO_COLLECTOR_GRACE_MS = 5_000;

/** A failed first start is tried again no sooner than this, whatever the backoff allows. */
const START_RETRY_MIN_MS = 1_000;

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
  readonly #events: InputEvents;
  readonly #clock: Clock;
  readonly #quarantine: () => QuarantinePolicy;
  readonly #records = new Map<string, CollectorRecord>();
  readonly #lastErrors: LastErrors;
  /** Whether a tick of this input has delivered points yet: the first that does is logged. */
  #delivering = false;
  #collectors: CollectorInfo[] = [];
  #loadErrors: LoadError[] = [];
  #state: InputStatus['state'] = 'starting';
  #startError: string | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  /** The run in flight of each collector (one at a time each): close() stops services, overrun() a tick due again. */
  readonly #runs = new Map<string, TickRun>();

  constructor(options: InputDeps & { config: InputConfig; runtime: Runtime }) {
    super();
    this.#config = options.config;
    this.#clock = options.clock;
    this.#quarantine = options.quarantine;
    this.#log = options.log.child({ input: options.config.name });
    this.#events = new InputEvents(this.#log, options.metrics, options.config.name, () => options.clock.now());
    this.#runtimeKind = options.runtime.kind;
    this.#mode = createHostMode(options.config, options.runtime, this.#log, options.hostStarts, this.#events);
    this.#image = new InputImage({ input: options.config, runtime: options.runtime, log: this.#log, metrics: options.metrics, events: this.#events });
    this.#mode.on('hostLost', (failure) => this.#events.hostLost(failure.reason));
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
   * applies to its next ticks (`timeout`, `tags`, `globalTags`, `max_points`,
   * `overlap`, `concurrency`, which the queue applies): its hosts stay.
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
   * Makes its image ready (pulling it as its `pull` says, building it if it has dependencies that changed),
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
      this.#events.startFailed(this.#startError, waitMs);
      this.#retry = setTimeout(() => void this.start(), waitMs).unref();
      return false;
    }
  }

  /** Settles when a pull or a build of its image begins; never, when it needs neither. */
  get imageWaiting(): Promise<void> {
    return this.#image.waiting;
  }

  /** Whether `next`, a new version of this input with `pull = "always"`, pulls an image other than the one its hosts run in (see InputImage.moved). */
  imageMoved(next: InputConfig, signal: AbortSignal): Promise<boolean> {
    return this.#image.moved(next, signal);
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

  #started(hello: HelloMessage): void {
    for (const previous of this.#loadErrors) this.#metrics.loadErrors.remove({ input: this.name, file: previous.file });
    const loaded = loadedCollectors(this.config, hello);
    this.#collectors = loaded.collectors;
    this.#loadErrors = loaded.loadErrors;
    this.#state = loaded.state;
    this.#startError = loaded.error;
    for (const failed of this.#loadErrors) this.#events.loadFailed(failed, fileAndLine(failed), failed.error);
    if (loaded.state === 'failed') {
      this.#events.noCollector(loaded.error!);
      // Nothing to run in it: its host (a warm container) goes. An edit of the scripts reloads the input in a new one.
      void this.#mode.close(NO_COLLECTOR_GRACE_MS);
    }
    for (const collector of this.#collectors) {
      const problem = badIntervalMessage(collector, this.config.interval);
      if (problem) this.#events.badInterval(collector.id, collector.file, problem);
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
    const run = new TickRun({
      input: this.name,
      collector,
      limits: this.config,
      pipeline: this.#pipeline,
      outputs: this.#outputs,
      metrics: this.#metrics,
      events: this.#events,
      clock: this.#clock,
    });
    this.#runs.set(collector.id, run);
    let outcome: TickOutcome;
    try {
      outcome = await run.on(this.#mode);
    } finally {
      this.#runs.delete(collector.id);
    }
    outcome.durationMs = performance.now() - started;
    record?.recorded(outcome, dueAt);
    if (outcome.status === 'ok') this.#logSuccess(collector, outcome);
    else this.#events.tickFailed(collector.id, outcome);
    return outcome;
  }

  /**
   * The next tick of `collectorId` is due while one still runs: with
   * `overlap = "kill"` the running one is stopped (it fails with reason
   * `overlap`) and true is returned, so the due one runs once it has ended.
   */
  overrun(collectorId: string): boolean {
    const run = this.#runs.get(collectorId);
    if (this.config.overlap !== 'kill' || !run) return false;
    run.stop('overlap', 'still running when its next tick was due (overlap = "kill")');
    return true;
  }

  #logSuccess(collector: CollectorInfo, outcome: TickOutcome): void {
    this.#log.debug({ collector: collector.id, points: outcome.points, ms: outcome.durationMs }, `tick ${this.name}/${collector.id} ok`);
    this.#events.tickOk(collector.id);
    if (outcome.points > 0 && !this.#delivering) {
      this.#delivering = true;
      this.#log.info(`input ${this.name} is delivering points: the first ${outcome.points}, from ${collector.id}, ${whereTheyWent(this.#outputs)}`);
    }
  }

  /** A collector called set_lasterror(): kept for the status API, and logged. */
  #lastError(message: LastErrorMessage): void {
    const entry = this.#lastErrors.record(message.input, message.error);
    this.#events.lastError(message.collector ?? undefined, entry.input, entry.error);
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

  /** The collectors whose tick runs now (a service's run is not a tick: it is stopped, not waited for). */
  get ticking(): string[] {
    return this.service ? [] : [...this.#runs.keys()];
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
    if (this.service) for (const run of this.#runs.values()) run.stop('shutdown', 'pythond is shutting down');
    await this.#mode.close(graceMs);
  }
}

/**
 * Where a tick's points went, in words: written by local outputs (or not,
 * and why); kept in the disk buffer of remote ones, which send them on (or
 * cannot yet, and say why).
 */
function whereTheyWent(outputs: OutputSet): string {
  const said = outputs.all.map((output) => {
    const health = output.health();
    if (!output.buffered) return health.ok ? `went to ${output.id}` : `could not be written by ${output.id} (${health.error})`;
    return `wait in the disk buffer of ${output.id} (${health.ok ? 'it sends them on' : `it cannot send them yet: ${health.error}`})`;
  });
  return said.length > 1 ? `${said.slice(0, -1).join(', ')} and ${said.at(-1)}` : (said[0] ?? 'went nowhere');
}
