import { createHash, randomUUID } from 'node:crypto';
import type { Config, InputProblem, RepoCheckout } from './config/load.js';
import { errorMessage } from './errors.js';
import { GitRepos, type RepoStatus } from './gitrepos/git-repos.js';
import { InputSet } from './inputs/input-set.js';
import { LastErrors } from './inputs/last-errors.js';
import type { InputStatus, RunningInput } from './inputs/running-input.js';
import { WriteApiInput, type WriteApiResult } from './inputs/write-api-input.js';
import type { Logger } from './logger.js';
import { DirectOutput } from './outputs/direct-output.js';
import type { Output } from './outputs/output.js';
import { createRunningOutput } from './outputs/registry.js';
import { OutputSet, type OutputHealth, type OutputStatus, type RunningOutput } from './outputs/running-output.js';
import { PointPipeline, type WriteRequest } from './points/pipeline.js';
import { planReload } from './reload/plan.js';
import type { Runtime } from './runtimes/runtime.js';
import { selectRuntime } from './runtimes/select-runtime.js';
import { systemClock, type Clock } from './scheduler/clock.js';
import { TickQueue } from './scheduler/tick-queue.js';
import { DELIVERY_LOG_EVERY_MS, DeliveryLog } from './telemetry/delivery-log.js';
import { createMetrics, type Metrics } from './telemetry/metrics.js';
import { VERSION } from './version.js';

/** An input as /healthz reports it: ok while every one of its scripts runs. */
export interface InputHealth {
  input: string;
  ok: boolean;
  /** Why not: its host cannot start, or scripts failed to load. */
  error?: string;
}

/** Whether the app can take points (started, not stopping, every output's last write went through), and which inputs have problems. */
export interface AppHealth {
  state: 'starting' | 'running' | 'stopping';
  outputs: OutputHealth[];
  inputs: InputHealth[];
}

/** Where the config comes from, read again at every reload; `checkouts` are the git repositories' current commits. */
export interface ConfigSource {
  load(checkouts: readonly RepoCheckout[]): Config;
}

/** What one reload did. */
export interface ReloadResult {
  /** `ok`: applied (or nothing changed); `partial`: some inputs kept their old version; `error`: the config cannot be used, nothing changed. */
  result: 'ok' | 'partial' | 'error';
  trigger: string;
  at: string;
  durationMs: number;
  added: string[];
  removed: string[];
  /** Inputs now running a new version in new hosts. */
  restarted: string[];
  /** Inputs that took changed keys without a new host. */
  updated: string[];
  /** Runner keys applied to the running runner (`concurrency`, ...). */
  runner: string[];
  /** Inputs whose new version did not load: their old version keeps running. */
  failed: { input: string; error: string }[];
  /** Runner keys that changed but apply only at the next start. */
  needsRestart: string[];
  /** Why the config could not be used (result `error`). */
  error?: string;
}

/** The runner as the status API shows it: the settings in effect, and the config they came from. */
export interface RunnerStatus {
  concurrency: number;
  workers: number;
  executor: string | undefined;
  config: { source: string; digest: string; loadedAt: string };
  lastReload?: ReloadResult;
}

export interface AppOptions {
  log: Logger;
  clock?: Clock;
  metrics?: Metrics;
  /** Outputs to use instead of the config's, each run inline: `check` prints to stdout, `validate` has none, tests read the points. */
  outputs?: Record<string, Output>;
  /** Where reloads read the config again; without it, the config given is the only one (a reload applies nothing). */
  source?: ConfigSource;
}

/** A digest of a config: what /v1/collectors shows, so a person sees which version is in effect. */
const digestOf = (config: Config): string => createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12);

/**
 * The wiring root, the one place a config becomes a running pythond, for
 * `pythond run` and `pythond check` alike: outputs, the point pipeline, the
 * runtime, git repositories, the inputs and their schedule. Starts them in
 * that order and stops them in reverse; a reload applies a new config to
 * them, restarting only what changed.
 */
export class App {
  readonly metrics: Metrics;
  /** set_lasterror() and POST /v1/lasterror reports, for the status API. */
  readonly lastErrors = new LastErrors();
  /** Marks the writes this runner forwards (datakit output), so its write API refuses them if they come back. */
  readonly loopToken: string = randomUUID();
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #source: ConfigSource;
  readonly #outputs: OutputSet;
  readonly #pipeline: PointPipeline;
  readonly #writeApi: WriteApiInput;
  readonly #queue: TickQueue;
  readonly #startedAt = Date.now();
  #config: Config;
  #loadedAt = new Date();
  #runtime: Runtime | undefined;
  #inputs: InputSet | undefined;
  #gitRepos: GitRepos | undefined;
  #reloading: Promise<unknown> = Promise.resolve();
  #lastReload: ReloadResult | undefined;
  #started = false;
  #stopping = false;
  /** While scheduled: says in the log, now and then, how many points went where. */
  #delivery: { log: DeliveryLog; timer: NodeJS.Timeout } | undefined;

  constructor(config: Config, options: AppOptions) {
    this.#config = config;
    this.#log = options.log;
    this.#clock = options.clock ?? systemClock;
    this.#source = options.source ?? { load: () => this.#config };
    this.metrics = options.metrics ?? createMetrics(VERSION);
    this.#outputs = new OutputSet(
      options.outputs
        ? Object.entries(options.outputs).map(([id, output]) => new DirectOutput(id, output, this.metrics, this.#log))
        : config.outputs.map((output) => this.#createOutput(output)),
    );
    this.#pipeline = new PointPipeline({ workers: config.runner.workers, encodings: () => this.#outputs.encodings });
    this.#writeApi = new WriteApiInput({ pipeline: this.#pipeline, outputs: this.#outputs, metrics: this.metrics });
    this.#queue = new TickQueue({
      concurrency: config.runner.concurrency,
      onChange: (waiting, running) => {
        this.metrics.queueDepth.set(waiting);
        this.metrics.runningTicks.set(running);
      },
    });
  }

  /** The config in effect: the last one loaded, with the old version of any input whose new one did not load. */
  get config(): Config {
    return this.#config;
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

  /**
   * Starts everything; resolves once every input has started or failed its
   * first start (those keep retrying). Git repositories are pulled once
   * first, so their inputs start with the others. With `schedule: false` no
   * collector ticks by itself (`pythond check` ticks them by hand).
   */
  async start(options: { schedule?: boolean } = {}): Promise<void> {
    const runtime = await selectRuntime({ config: this.#config, log: this.#log, metrics: this.metrics });
    this.#runtime = runtime;
    // After the runtime, which may throw: a started output's sender would keep the process alive.
    await this.#outputs.start();
    if (this.#config.gitRepos.repos.length > 0) {
      this.#gitRepos = new GitRepos({ config: this.#config.gitRepos, dataDir: this.#config.runner.data_dir, log: this.#log, metrics: this.metrics });
      await this.#gitRepos.start();
      this.#config = this.#source.load(this.#gitRepos.checkouts());
      this.#loadedAt = new Date();
      this.#gitRepos.on('updated', (repo, commit) => void this.reload(`git ${repo}@${commit.slice(0, 12)}`));
    }
    this.#logProblems(this.#config.problems);
    const inputs = new InputSet({
      runtime,
      queue: this.#queue,
      clock: this.#clock,
      schedule: options.schedule ?? true,
      pipeline: this.#pipeline,
      outputs: this.#outputs,
      metrics: this.metrics,
      log: this.#log,
      lastErrors: this.lastErrors,
      quarantine: () => ({ after: this.#config.runner.quarantine_after, intervalMs: this.#config.runner.quarantine_interval }),
    });
    this.#inputs = inputs;
    await Promise.all(this.#config.inputs.map((input) => inputs.add(input)));
    this.#started = true;
    if (options.schedule ?? true) {
      const log = new DeliveryLog(this.metrics, this.#log);
      this.#delivery = { log, timer: setInterval(() => void log.report(), DELIVERY_LOG_EVERY_MS).unref() };
    }
  }

  /**
   * Reads the config again (and the repositories' current commits) and
   * applies what changed: inputs added, removed, changed in place, or tried
   * in new hosts and swapped in once they load; outputs added and removed;
   * runner keys that can change live. Unchanged inputs keep their hosts and
   * schedule. A config that cannot be read changes nothing. One reload at a
   * time: others wait their turn.
   */
  reload(trigger: string): Promise<ReloadResult> {
    const result = this.#reloading.then(() => this.#reload(trigger));
    this.#reloading = result.catch(() => {});
    return result;
  }

  health(): AppHealth {
    const state = this.#stopping ? 'stopping' : this.#started ? 'running' : 'starting';
    const inputs = this.status().map(({ input, state, error }): InputHealth => (state === 'running' ? { input, ok: true } : { input, ok: false, error }));
    return { state, outputs: this.#outputs.health(), inputs };
  }

  /** Points posted to the write API; resolves once every output kept them or failed to (see WriteApiInput). */
  write(request: WriteRequest): Promise<WriteApiResult> {
    return this.#writeApi.write(request);
  }

  /** Every input and collector with its state, and every input that cannot be used, for GET /v1/collectors. */
  status(): InputStatus[] {
    const running = this.inputs.map((input) => input.status());
    const unusable = this.#config.problems.map(
      (problem): InputStatus => ({
        input: problem.input ?? '',
        executor: this.runtimeKind ?? '',
        mode: 'warm',
        state: 'failed',
        error: problem.message,
        loadErrors: [],
        collectors: [],
      }),
    );
    return [...running, ...unusable];
  }

  /** The settings in effect and the config they came from. */
  runnerStatus(): RunnerStatus {
    const { runner } = this.#config;
    return {
      concurrency: this.#queue.concurrency,
      workers: runner.workers,
      executor: this.runtimeKind,
      config: { source: this.#config.source, digest: digestOf(this.#config), loadedAt: this.#loadedAt.toISOString() },
      lastReload: this.#lastReload,
    };
  }

  /** Every output with its buffer depth and last error, for the status API. */
  outputStatus(): OutputStatus[] {
    return this.#outputs.status();
  }

  /** Every git repository: its commit, last pull and last error. */
  gitStatus(): RepoStatus[] {
    return this.#gitRepos?.status() ?? [];
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
    this.#gitRepos?.close();
    await this.#reloading;
    const graceMs = this.#config.runner.shutdown_timeout;
    const deadline = Date.now() + graceMs;
    this.#inputs?.stopSchedule();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#queue.onIdle(), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    await this.#inputs?.close(Math.min(graceMs, 5_000));
    await this.#runtime?.removeAll();
    await this.#pipeline.close();
    clearInterval(this.#delivery?.timer);
    await this.#outputs.close(Math.max(0, deadline - Date.now()));
    // The last word on delivery: what came in since the last report, and what the outputs did with it before they closed.
    await this.#delivery?.log.report();
  }

  async #reload(trigger: string): Promise<ReloadResult> {
    const began = performance.now();
    const result: ReloadResult = {
      result: 'ok',
      trigger,
      at: new Date().toISOString(),
      durationMs: 0,
      added: [],
      removed: [],
      restarted: [],
      updated: [],
      runner: [],
      failed: [],
      needsRestart: [],
    };
    const inputs = this.#inputs;
    if (this.#stopping || !inputs) return this.#reloaded({ ...result, result: 'error', error: 'pythond is not running' }, began);
    let next: Config;
    try {
      next = this.#source.load(this.#gitRepos?.checkouts() ?? []);
    } catch (err) {
      return this.#reloaded({ ...result, result: 'error', error: `the config cannot be used, nothing changed: ${errorMessage(err)}` }, began);
    }
    const plan = planReload(this.#config, next);
    const graceMs = Math.min(next.runner.shutdown_timeout, 5_000);
    result.needsRestart = plan.runner.restart;
    result.runner = plan.runner.live;
    if (plan.runner.live.includes('concurrency')) this.#queue.concurrency = next.runner.concurrency;
    await this.#outputs.change(
      plan.outputs.add.map((output) => this.#createOutput(output)),
      plan.outputs.remove.map((output) => output.id),
      graceMs,
    );

    const kept = new Map(this.#config.inputs.map((input) => [input.name, input]));
    for (const { next: input, live } of plan.keep) {
      if (live.length === 0) continue;
      inputs.update(input);
      result.updated.push(input.name);
    }
    for (const name of plan.remove) {
      await inputs.remove(name, graceMs);
      result.removed.push(name);
    }
    await Promise.all(
      plan.add.map(async (input) => {
        await inputs.add(input);
        result.added.push(input.name);
      }),
    );
    const stayed = new Set<string>();
    await Promise.all(
      plan.restart.map(async ({ next: input, why }) => {
        this.#log.info({ input: input.name }, `reload: input ${input.name} changed (${why.join(', ')}): trying the new version in new hosts`);
        const outcome = await inputs.replace(input, graceMs);
        if (outcome.replaced) result.restarted.push(input.name);
        else {
          stayed.add(input.name);
          result.failed.push({ input: input.name, error: outcome.error });
        }
      }),
    );
    // What runs now: the new config, but the old version of an input whose new one did not load.
    this.#config = { ...next, inputs: next.inputs.map((input) => (stayed.has(input.name) ? kept.get(input.name)! : input)) };
    this.#loadedAt = new Date();
    this.#logProblems(next.problems);
    await this.#gitRepos?.prune(new Set(this.#config.inputs.flatMap((input) => input.discovered.map((dir) => dir.path))));
    return this.#reloaded({ ...result, result: result.failed.length > 0 ? 'partial' : 'ok' }, began);
  }

  #reloaded(result: ReloadResult, began: number): ReloadResult {
    result.durationMs = Math.round((performance.now() - began) * 10) / 10;
    this.#lastReload = result;
    this.metrics.reloads.inc({ result: result.result });
    const changes = (['added', 'removed', 'restarted', 'updated', 'runner'] as const)
      .filter((key) => result[key].length > 0)
      .map((key) => `${key === 'runner' ? 'applied [runner]' : key} ${result[key].join(', ')}`);
    const summary = `reload (${result.trigger}) ${result.result} in ${result.durationMs} ms: ${changes.join('; ') || 'nothing changed'}`;
    if (result.result === 'error') this.#log.error(`reload (${result.trigger}): ${result.error}`);
    else if (result.result === 'partial')
      this.#log.error(`${summary}; kept the running version of ${result.failed.map((f) => `${f.input} (${f.error})`).join('; ')}`);
    else this.#log.info(summary);
    if (result.needsRestart.length > 0)
      this.#log.warn(`reload: ${result.needsRestart.map((key) => `[runner] ${key}`).join(', ')} changed, which applies only when pythond restarts`);
    return result;
  }

  #logProblems(problems: readonly InputProblem[]): void {
    for (const problem of problems) this.#log.error({ input: problem.input }, `input ${problem.input ?? '(unnamed)'} cannot be used: ${problem.message}`);
  }

  #createOutput(output: Config['outputs'][number]): RunningOutput {
    return createRunningOutput(output, { dataDir: this.#config.runner.data_dir, metrics: this.metrics, log: this.#log, loopToken: this.loopToken });
  }
}
