import { randomUUID } from 'node:crypto';
import { ClusterPolicy } from './cluster/cluster-policy.js';
import type { Config } from './config/load.js';
import { GitRepos } from './gitrepos/git-repos.js';
import { HostStarts } from './hosts/host-starts.js';
import { InputSet } from './inputs/input-set.js';
import { LastErrors } from './inputs/last-errors.js';
import type { RunningInput } from './inputs/running-input.js';
import { WriteApiInput, type WriteApiResult } from './inputs/write-api-input.js';
import { DirectOutput } from './outputs/direct-output.js';
import type { Output } from './outputs/output.js';
import { createRunningOutput } from './outputs/registry.js';
import { OutputSet, type RunningOutput } from './outputs/running-output.js';
import { PointPipeline, type WriteRequest } from './points/pipeline.js';
import { Reloader, type ConfigSource, type ReloadResult } from './reload/reloader.js';
import type { Runtime } from './runtimes/runtime.js';
import { selectRuntime } from './runtimes/select-runtime.js';
import { systemClock, type Clock } from './scheduler/clock.js';
import { TickQueue } from './scheduler/tick-queue.js';
import { DELIVERY_LOG_EVERY_MS, DeliveryLog } from './telemetry/delivery-log.js';
import { LifecycleEvents } from './telemetry/events/lifecycle-events.js';
import { ReloadEvents } from './telemetry/events/reload-events.js';
import type { Logger } from './telemetry/logger.js';
import { createMetrics, type Metrics } from './telemetry/metrics.js';
import { VERSION } from './version.js';

export interface AppOptions {
  log: Logger;
  clock?: Clock;
  metrics?: Metrics;
  /** Outputs to use instead of the config's, each run inline: `check` prints to stdout, `validate` has none, tests read the points. */
  outputs?: Record<string, Output>;
  /** Where reloads read the config again; without it, the config given is the only one (a reload applies nothing). */
  source?: ConfigSource;
  /** Reload on SIGHUP, and on changes of the config file and of the collectors' folders (`pythond run`). */
  watch?: boolean;
}

/** `starting` until start() is done, `stopping` from stop() on. */
export type AppState = 'starting' | 'running' | 'stopping';

/**
 * The wiring root, the one place a config becomes a running pythond, for
 * `pythond run` and `pythond check` alike: outputs, the point pipeline, the
 * runtime, git repositories, the inputs and their schedule, the reloads
 * (src/reload/) and, with [cluster], this member's share (src/cluster/).
 * Starts them in that order and stops them in reverse. What the HTTP API
 * shows of them is assembled in src/http/views.ts.
 */
export class App {
  readonly metrics: Metrics;
  /** set_lasterror() and POST /v1/lasterror reports, for the status API. */
  readonly lastErrors = new LastErrors();
  /** Marks the writes this runner forwards (datakit output), so its write API refuses them if they come back. */
  readonly loopToken: string = randomUUID();
  /** Every configured output, with its buffer and last error. */
  readonly outputs: OutputSet;
  readonly #log: Logger;
  readonly #lifecycle: LifecycleEvents;
  readonly #clock: Clock;
  readonly #pipeline: PointPipeline;
  readonly #writeApi: WriteApiInput;
  readonly #queue: TickQueue;
  readonly #hostStarts: HostStarts;
  readonly #reloader: Reloader;
  readonly #startedAt = Date.now();
  #runtime: Runtime | undefined;
  #inputs: InputSet | undefined;
  #gitRepos: GitRepos | undefined;
  #cluster: ClusterPolicy | undefined;
  #state: AppState = 'starting';
  /** While scheduled: says in the log, now and then, how many points went where. */
  #delivery: { log: DeliveryLog; timer: NodeJS.Timeout } | undefined;

  constructor(config: Config, options: AppOptions) {
    this.#log = options.log;
    this.#lifecycle = new LifecycleEvents(options.log);
    this.#clock = options.clock ?? systemClock;
    this.metrics = options.metrics ?? createMetrics(VERSION);
    const createOutput = (output: Config['outputs'][number]): RunningOutput =>
      createRunningOutput(output, {
        dataDir: config.runner.data_dir,
        metrics: this.metrics,
        log: this.#log,
        loopToken: this.loopToken,
        longestIntervalMs: () => Math.max(0, ...this.inputs.flatMap((input) => input.collectors.map((collector) => collector.interval * 1000))),
      });
    this.outputs = new OutputSet(
      options.outputs
        ? Object.entries(options.outputs).map(([id, output]) => new DirectOutput(id, output, this.metrics, this.#log))
        : config.outputs.map(createOutput),
    );
    this.#pipeline = new PointPipeline({ workers: config.runner.workers, encodings: () => this.outputs.encodings });
    this.#writeApi = new WriteApiInput({ pipeline: this.#pipeline, outputs: this.outputs, metrics: this.metrics });
    this.#hostStarts = new HostStarts(config.runner.host_starts);
    this.#queue = new TickQueue({
      concurrency: config.runner.concurrency,
      onChange: (waiting, running) => {
        this.metrics.queueDepth.set(waiting);
        this.metrics.runningTicks.set(running);
      },
    });
    this.#reloader = new Reloader({
      config,
      source: options.source ?? { load: () => this.config },
      targets: { outputs: this.outputs, createOutput, queue: this.#queue, hostStarts: this.#hostStarts },
      events: new ReloadEvents(this.#log, this.metrics),
      watch: options.watch,
    });
  }

  /** The config in effect: the last one loaded, with the old version of any input whose new one did not load. */
  get config(): Config {
    return this.#reloader.config;
  }

  get state(): AppState {
    return this.#state;
  }

  /** Where collector hosts run: `docker` or `process` once started. */
  get runtimeKind(): string | undefined {
    return this.#runtime?.kind;
  }

  get uptimeMs(): number {
    return Date.now() - this.#startedAt;
  }

  get inputs(): readonly RunningInput[] {
    return this.#inputs?.all ?? [];
  }

  /** Ticks running at once, all inputs together (`[runner] concurrency` in effect). */
  get concurrency(): number {
    return this.#queue.concurrency;
  }

  /** The reloads: when the config in effect was loaded, and what the last reload did. */
  get reloads(): Pick<Reloader, 'loadedAt' | 'lastReload'> {
    return this.#reloader;
  }

  get gitRepos(): GitRepos | undefined {
    return this.#gitRepos;
  }

  /** With [cluster]: this member's share of the inputs. */
  get cluster(): ClusterPolicy | undefined {
    return this.#cluster;
  }

  /**
   * Starts everything; resolves once every input has started or failed its
   * first start (those keep retrying). Git repositories are pulled once
   * first, so their inputs start with the others. With `schedule: false` no
   * collector ticks by itself (`pythond check` ticks them by hand).
   */
  async start(options: { schedule?: boolean } = {}): Promise<void> {
    const schedule = options.schedule ?? true;
    const config = this.config;
    const runtime = await selectRuntime({ config, log: this.#log, metrics: this.metrics });
    this.#runtime = runtime;
    // After the runtime, which may throw: a started output's sender would keep the process alive.
    await this.outputs.start();
    if (config.gitRepos.repos.length > 0) {
      this.#gitRepos = new GitRepos({ config: config.gitRepos, dataDir: config.runner.data_dir, log: this.#log, metrics: this.metrics });
      await this.#gitRepos.start();
    }
    const inputs = new InputSet({
      runtime,
      queue: this.#queue,
      clock: this.#clock,
      schedule,
      firstDueAt: (input, collector) => this.#cluster?.firstDueAt(input, collector.id, collector.interval * 1000),
      pipeline: this.#pipeline,
      outputs: this.outputs,
      metrics: this.metrics,
      log: this.#log,
      lastErrors: this.lastErrors,
      quarantine: () => ({ after: this.config.runner.quarantine_after, intervalMs: this.config.runner.quarantine_interval }),
      hostStarts: this.#hostStarts,
    });
    this.#inputs = inputs;
    this.#reloader.start(inputs, this.#gitRepos);
    this.#reloader.reportProblems();
    if (config.cluster) {
      const cluster = await ClusterPolicy.create({
        config: config.cluster,
        dataDir: config.runner.data_dir,
        inputs,
        converge: () => this.#reloader.converge(),
        clock: this.#clock,
        log: this.#log,
        metrics: this.metrics,
      });
      this.#cluster = cluster;
      this.#reloader.policy = cluster;
      await cluster.start(this.config);
      await cluster.applyOwnership();
    } else await this.#reloader.converge();
    this.#state = 'running';
    if (schedule) {
      const log = new DeliveryLog(this.metrics, this.#log);
      this.#delivery = { log, timer: setInterval(() => void log.report(), DELIVERY_LOG_EVERY_MS).unref() };
    }
  }

  /** Reads the config again and applies what changed (see Reloader); one reload at a time, others wait their turn. */
  reload(trigger: string): Promise<ReloadResult> {
    return this.#reloader.reload(trigger);
  }

  /** Points posted to the write API; resolves once every output kept them or failed to (see WriteApiInput). */
  write(request: WriteRequest, options?: { dry?: boolean }): Promise<WriteApiResult> {
    return this.#writeApi.write(request, options);
  }

  /**
   * Stops ticking, lets ticks in flight finish, stops hosts (and removes
   * whatever of this runner the runtime still has), then lets outputs send
   * what they buffered, all within shutdown_timeout; what a remote output
   * could not send stays in its disk buffer for the next start. Says what
   * it waits for, and how long at most.
   */
  async stop(): Promise<void> {
    if (this.#state === 'stopping') return;
    this.#state = 'stopping';
    this.#gitRepos?.close();
    // A reload may be building an input's new image: not worth waiting minutes for.
    await this.#inputs?.abandonTrials();
    await this.#reloader.close();
    const graceMs = this.config.runner.shutdown_timeout;
    const deadline = Date.now() + graceMs;
    this.#inputs?.stopSchedule();
    const ticking = this.inputs.flatMap((input) => input.ticking.map((collector) => `${input.name}/${collector}`));
    if (ticking.length > 0) this.#lifecycle.waitingForTicks(ticking, graceMs);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#queue.onIdle(), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    await this.#inputs?.close(Math.min(graceMs, 5_000));
    await this.#runtime?.removeAll();
    // Its inputs have stopped: leaving now hands them to the other members at once.
    await this.#cluster?.close();
    await this.#pipeline.close();
    clearInterval(this.#delivery?.timer);
    const outputsGraceMs = Math.max(0, deadline - Date.now());
    const holding = this.outputs.all.flatMap((output) => {
      const points = output.status().bufferedPoints;
      const { error } = output.health();
      return points > 0 ? [{ id: output.id, points, error }] : [];
    });
    if (holding.length > 0) this.#lifecycle.waitingForOutputs(holding, outputsGraceMs);
    await this.outputs.close(outputsGraceMs);
    // The last word on delivery: what came in since the last report, and what the outputs did with it before they closed.
    await this.#delivery?.log.report();
  }
}
