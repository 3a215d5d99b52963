import type { Config } from './config/load.js';
import { LastErrors } from './inputs/last-errors.js';
import { RunningInput, type InputStatus } from './inputs/running-input.js';
import { WriteApiInput } from './inputs/write-api-input.js';
import type { Logger } from './logger.js';
import { DirectOutput } from './outputs/direct-output.js';
import type { Output } from './outputs/output.js';
import { createRunningOutput } from './outputs/registry.js';
import { OutputSet, type OutputHealth, type OutputStatus } from './outputs/running-output.js';
import { PointPipeline, type WriteRequest } from './points/pipeline.js';
import type { WriteResult } from './points/tasks.js';
import type { CollectorInfo } from './protocol/messages.js';
import type { Runtime } from './runtimes/runtime.js';
import { selectRuntime } from './runtimes/select-runtime.js';
import { systemClock, toEpochMs, type Clock } from './scheduler/clock.js';
import { TickQueue } from './scheduler/tick-queue.js';
import { TickScheduler } from './scheduler/tick-scheduler.js';
import { DELIVERY_LOG_EVERY_MS, DeliveryLog } from './telemetry/delivery-log.js';
import { createMetrics, type Metrics } from './telemetry/metrics.js';
import { VERSION } from './version.js';

/** One collector of one input, as the scheduler ticks it. */
interface Scheduled {
  /** The input's name: the concurrency limit the tick counts against. */
  input: string;
  intervalMs: number;
  owner: RunningInput;
  collector: CollectorInfo;
}

/** Whether the app can take points: started, not stopping, and every output's last write went through. */
export interface AppHealth {
  state: 'starting' | 'running' | 'stopping';
  outputs: OutputHealth[];
}

export interface AppOptions {
  log: Logger;
  clock?: Clock;
  metrics?: Metrics;
  /** Outputs to use instead of the config's, each run inline: `check` prints to stdout, `validate` has none, tests read the points. */
  outputs?: Record<string, Output>;
}

/**
 * The wiring root, the one place a config becomes a running pythond, for
 * `pythond run` and `pythond check` alike: outputs, the point pipeline, the
 * runtime, one RunningInput per input, and the scheduler that ticks them.
 * Starts them in that order and stops them in reverse.
 */
export class App {
  readonly config: Config;
  readonly metrics: Metrics;
  /** set_lasterror() and POST /v1/lasterror reports, for the status API. */
  readonly lastErrors = new LastErrors();
  readonly #log: Logger;
  readonly #outputs: OutputSet;
  readonly #pipeline: PointPipeline;
  readonly #writeApi: WriteApiInput;
  readonly #queue: TickQueue;
  readonly #scheduler: TickScheduler<Scheduled>;
  readonly #startedAt = Date.now();
  #runtime: Runtime | undefined;
  #inputs: RunningInput[] = [];
  #started = false;
  #stopping = false;
  /** While scheduled: says in the log, now and then, how many points went where. */
  #delivery: { log: DeliveryLog; timer: NodeJS.Timeout } | undefined;

  constructor(config: Config, options: AppOptions) {
    this.config = config;
    this.#log = options.log;
    this.metrics = options.metrics ?? createMetrics(VERSION);
    const context = { dataDir: config.runner.data_dir, metrics: this.metrics, log: this.#log };
    this.#outputs = new OutputSet(
      options.outputs
        ? Object.entries(options.outputs).map(([id, output]) => new DirectOutput(id, output, this.metrics, this.#log))
        : config.outputs.map((output) => createRunningOutput(output, context)),
    );
    this.#pipeline = new PointPipeline({ workers: config.runner.workers, encodings: this.#outputs.encodings });
    this.#writeApi = new WriteApiInput({ pipeline: this.#pipeline, outputs: this.#outputs, metrics: this.metrics });
    this.#queue = new TickQueue({
      concurrency: config.runner.concurrency,
      onChange: (waiting, running) => {
        this.metrics.queueDepth.set(waiting);
        this.metrics.runningTicks.set(running);
      },
    });
    const clock = options.clock ?? systemClock;
    this.#scheduler = new TickScheduler<Scheduled>({
      queue: this.#queue,
      clock,
      run: async ({ owner, collector }) => {
        await owner.tick(collector);
      },
      skipped: ({ owner, collector }, reason, count) => {
        for (let i = 0; i < count; i++) owner.skipped(collector, reason);
      },
      started: (_, latenessMs) => this.metrics.lateness.observe(latenessMs / 1000),
      planned: ({ owner, collector }, nextDueAt) => owner.planned(collector.id, toEpochMs(nextDueAt)),
    });
  }

  /** Where collector hosts run: `docker` or `process` once started. */
  get runtimeKind(): string | undefined {
    return this.#runtime?.kind;
  }

  get uptimeMs(): number {
    return Date.now() - this.#startedAt;
  }

  get inputs(): readonly RunningInput[] {
    return this.#inputs;
  }

  /**
   * Starts everything; resolves once every input has started or failed its
   * first start (those keep retrying). With `schedule: false` no collector
   * ticks by itself (`pythond check` ticks them by hand).
   */
  async start(options: { schedule?: boolean } = {}): Promise<void> {
    const runtime = await selectRuntime({ config: this.config, log: this.#log, metrics: this.metrics });
    this.#runtime = runtime;
    // After the runtime, which may throw: a started output's sender would keep the process alive.
    await this.#outputs.start();
    this.#inputs = this.config.inputs.map((input) => {
      const owner = new RunningInput({
        config: input,
        runtime,
        pipeline: this.#pipeline,
        outputs: this.#outputs,
        metrics: this.metrics,
        log: this.#log,
        lastErrors: this.lastErrors,
      });
      this.#queue.addInput(input.name, input.concurrency);
      if (options.schedule ?? true) {
        owner.on('started', (collectors) => {
          for (const collector of collectors) this.#scheduler.add({ input: input.name, intervalMs: collector.interval * 1000, owner, collector });
        });
      }
      return owner;
    });
    await Promise.all(this.#inputs.map((input) => input.start()));
    this.#started = true;
    if (options.schedule ?? true) {
      const log = new DeliveryLog(this.metrics, this.#log);
      this.#delivery = { log, timer: setInterval(() => void log.report(), DELIVERY_LOG_EVERY_MS).unref() };
    }
  }

  health(): AppHealth {
    const state = this.#stopping ? 'stopping' : this.#started ? 'running' : 'starting';
    return { state, outputs: this.#outputs.health() };
  }

  /** Points posted to the write API; resolves once the outputs took them (see WriteApiInput). */
  write(request: WriteRequest): Promise<WriteResult> {
    return this.#writeApi.write(request);
  }

  /** Every input and collector with its state, for GET /v1/collectors. */
  status(): InputStatus[] {
    return this.#inputs.map((input) => input.status());
  }

  /** Every output with its buffer depth and last error, for the status API. */
  outputStatus(): OutputStatus[] {
    return this.#outputs.status();
  }

  /**
   * Stops ticking, lets ticks in flight finish, stops hosts (and removes
   * whatever of this runner the runtime still has), then lets outputs send
   * what they buffered, all within shutdown_timeout; what a remote output
   * could not send stays in its disk buffer for the next start.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const graceMs = this.config.runner.shutdown_timeout;
    const deadline = Date.now() + graceMs;
    this.#scheduler.stop();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#queue.onIdle(), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    await Promise.all(this.#inputs.map((input) => input.close(Math.min(graceMs, 5_000))));
    await this.#runtime?.removeAll();
    await this.#pipeline.close();
    clearInterval(this.#delivery?.timer);
    await this.#outputs.close(Math.max(0, deadline - Date.now()));
    // The last word on delivery: what came in since the last report, and what the outputs did with it before they closed.
    await this.#delivery?.log.report();
  }
}
