import type { Config, InputConfig } from './config/load.js';
import { errorMessage } from './errors.js';
import { selectExecutor, type ExecutorKind } from './executors/select-executor.js';
import { createRunningInput } from './inputs/create-input.js';
import { LastErrors } from './inputs/last-errors.js';
import type { CollectorState, RunningInput } from './inputs/running-input.js';
import type { Logger } from './logger.js';
import { createRunningOutput } from './outputs/registry.js';
import { OutputSet, type OutputHealth, type OutputStatus } from './outputs/running-output.js';
import { PointPipeline, type WriteRequest, type WriteResult } from './points/pipeline.js';
import type { CollectorInfo } from './protocol/messages.js';
import { systemClock, toEpochMs, type Clock } from './scheduler/clock.js';
import { TickQueue } from './scheduler/tick-queue.js';
import { TickScheduler } from './scheduler/tick-scheduler.js';
import { createMetrics, type Metrics } from './telemetry/metrics.js';
import { VERSION } from './version.js';

/** Pause before the next attempt to start an input that failed `failures` times. */
const retryDelayMs = (failures: number): number => Math.min(1000 * 2 ** (failures - 1), 300_000);

interface Scheduled {
  input: string;
  intervalMs: number;
  runner: RunningInput;
  collector: CollectorInfo;
}

/** An input as the status API shows it before and after its host started. */
export interface InputStatus {
  input: string;
  executor: ExecutorKind;
  mode: InputConfig['mode'];
  state: 'starting' | 'running' | 'failed';
  error?: string;
  loadErrors: { module: string; file: string; error: string }[];
  collectors: CollectorState[];
}

/** The `input` label of points posted to the write API: one fixed value, whatever the client calls itself. */
const WRITE_API_INPUT = 'api';

/** Whether the app can take points: started, not stopping, and every output's last write went through. */
export interface AppHealth {
  state: 'starting' | 'running' | 'stopping';
  outputs: OutputHealth[];
}

/**
 * The wiring root: builds every part from the config, starts them in order
 * (outputs, workers, executors, scheduler) and stops them in reverse.
 */
export class App {
  readonly config: Config;
  readonly metrics: Metrics;
  /** set_lasterror() and POST /v1/lasterror reports, for the status API. */
  readonly lastErrors = new LastErrors();
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #outputs: OutputSet;
  readonly #pipeline: PointPipeline;
  readonly #queue: TickQueue;
  readonly #scheduler: TickScheduler<Scheduled>;
  readonly #inputs: { runner: RunningInput; status: InputStatus }[] = [];
  readonly #startedAt = Date.now();
  #executorKind: ExecutorKind = 'process';
  #started = false;
  #stopping = false;

  constructor(config: Config, options: { log: Logger; clock?: Clock; metrics?: Metrics }) {
    this.config = config;
    this.#log = options.log;
    this.#clock = options.clock ?? systemClock;
    this.metrics = options.metrics ?? createMetrics(VERSION);
    const context = { dataDir: config.runner.data_dir, metrics: this.metrics, log: this.#log };
    this.#outputs = new OutputSet(config.outputs.map((output) => createRunningOutput(output, context)));
    this.#pipeline = new PointPipeline({ workers: config.runner.workers, encodings: this.#outputs.encodings });
    this.#queue = new TickQueue({
      concurrency: config.runner.concurrency,
      onChange: (waiting, running) => {
        this.metrics.queueDepth.set(waiting);
        this.metrics.runningTicks.set(running);
      },
    });
    this.#scheduler = new TickScheduler<Scheduled>({
      queue: this.#queue,
      clock: this.#clock,
      run: async ({ runner, collector }) => {
        await runner.tick(collector);
      },
      skipped: ({ runner, collector }, reason, count) => {
        for (let i = 0; i < count; i++) runner.skipped(collector, reason);
      },
      started: (_, latenessMs) => this.metrics.lateness.observe(latenessMs / 1000),
      planned: ({ runner, collector }, nextDueAt) => runner.planned(collector.id, toEpochMs(nextDueAt)),
    });
  }

  get executorKind(): ExecutorKind {
    return this.#executorKind;
  }

  get uptimeMs(): number {
    return Date.now() - this.#startedAt;
  }

  /** Starts everything; resolves once every input has started or failed its first start. */
  async start(): Promise<void> {
    const { kind, launcherFor } = await selectExecutor(this.config, this.#log, this.metrics);
    this.#executorKind = kind;
    // After the executor check, which may throw: a started output's sender would keep the process alive.
    await this.#outputs.start();
    await Promise.all(
      this.config.inputs.map(async (input) => {
        const runner = createRunningInput({ input, launcher: launcherFor(input), pipeline: this.#pipeline, outputs: this.#outputs, metrics: this.metrics, log: this.#log, lastErrors: this.lastErrors });
        const status: InputStatus = { input: input.name, executor: this.#executorKind, mode: input.mode, state: 'starting', loadErrors: [], collectors: [] };
        this.#inputs.push({ runner, status });
        this.#queue.addInput(input.name, input.concurrency);
        await this.#startInput(runner, status);
      }),
    );
    this.#started = true;
  }

  health(): AppHealth {
    const state = this.#stopping ? 'stopping' : this.#started ? 'running' : 'starting';
    return { state, outputs: this.#outputs.health() };
  }

  /**
   * Points posted to the write API: parsed in the workers and, when the
   * whole body is valid, counted and delivered exactly like collector points.
   * Resolves once the outputs took them.
   */
  async write(request: WriteRequest): Promise<WriteResult> {
    const result = await this.#pipeline.parseWrite(request);
    if ('rejected' in result) {
      if (result.invalid > 0) this.metrics.invalidPoints.inc({ input: WRITE_API_INPUT }, result.invalid);
      return result;
    }
    for (const batch of result.batches) this.metrics.points.inc({ input: WRITE_API_INPUT, category: batch.category }, batch.points);
    await this.#outputs.deliver(result.batches);
    return result;
  }

  /** Every input and collector with its state, for GET /v1/collectors. */
  status(): InputStatus[] {
    return this.#inputs.map(({ runner, status }) => ({ ...status, collectors: runner.states() }));
  }

  /** Every output with its buffer depth and last error, for the status API. */
  outputStatus(): OutputStatus[] {
    return this.#outputs.status();
  }

  /**
   * Stops ticking, lets ticks in flight finish, stops hosts, then lets outputs
   * send what they buffered, all within shutdown_timeout; what a remote output
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
    await Promise.all(this.#inputs.map(({ runner }) => runner.close(Math.min(graceMs, 5_000))));
    await this.#pipeline.close();
    await this.#outputs.close(Math.max(0, deadline - Date.now()));
  }

  /** Starts an input; one that fails keeps retrying in the background, with growing pauses. */
  async #startInput(runner: RunningInput, status: InputStatus): Promise<void> {
    if (await this.#tryStart(runner, status, 1)) return;
    void (async () => {
      for (let attempt = 2; !this.#stopping; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs(attempt - 1)).unref());
        if (this.#stopping || (await this.#tryStart(runner, status, attempt))) return;
      }
    })();
  }

  async #tryStart(runner: RunningInput, status: InputStatus, attempt: number): Promise<boolean> {
    try {
      const collectors = await runner.start();
      status.state = 'running';
      status.error = undefined;
      status.loadErrors = runner.loadErrors.map(({ module, file, error }) => ({ module, file, error }));
      for (const collector of collectors) {
        this.#scheduler.add({ input: runner.name, intervalMs: collector.interval * 1000, runner, collector });
      }
      return true;
    } catch (err) {
      status.state = 'failed';
      status.error = errorMessage(err);
      this.#log.error({ input: runner.name }, `input ${runner.name} cannot start: ${status.error}; retrying in ${retryDelayMs(attempt) / 1000} s`);
      return false;
    }
  }
}
