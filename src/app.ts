import { createHash, randomUUID } from 'node:crypto';
import os from 'node:os';
import type { ClusterMember, ClusterStatus } from './cluster/cluster-member.js';
import { nextGridTick } from './cluster/tick-grid.js';
import type { Config, InputConfig, InputProblem, RepoCheckout } from './config/load.js';
import { errorMessage } from './errors.js';
import { GitRepos, type RepoStatus } from './gitrepos/git-repos.js';
import { HostStarts } from './hosts/host-starts.js';
import { InputSet } from './inputs/input-set.js';
import { LastErrors } from './inputs/last-errors.js';
import type { InputStatus, RunningInput } from './inputs/running-input.js';
import { WriteApiInput, type WriteApiResult } from './inputs/write-api-input.js';
import type { Logger } from './telemetry/logger.js';
import { DirectOutput } from './outputs/direct-output.js';
import type { Output } from './outputs/output.js';
import { createRunningOutput } from './outputs/registry.js';
import { OutputSet, type OutputHealth, type OutputStatus, type RunningOutput } from './outputs/running-output.js';
import { PointPipeline, type WriteRequest } from './points/pipeline.js';
import { planReload, type ReloadPlan } from './reload/plan.js';
import { instanceId } from './runtimes/docker/labels.js';
import type { Runtime } from './runtimes/runtime.js';
import { selectRuntime } from './runtimes/select-runtime.js';
import { systemClock, type Clock } from './scheduler/clock.js';
import { TickQueue } from './scheduler/tick-queue.js';
import { DELIVERY_LOG_EVERY_MS, DeliveryLog } from './telemetry/delivery-log.js';
import { ReloadEvents } from './telemetry/events/reload-events.js';
import { createMetrics, type Metrics } from './telemetry/metrics.js';
import { VERSION } from './version.js';

/** An input as /healthz reports it: ok while every one of its scripts runs. */
export interface InputHealth {
  input: string;
  ok: boolean;
  /** Why not: its host cannot start, or scripts failed to load. */
  error?: string;
}

/**
 * An input as GET /v1/collectors shows it. With [cluster], a shared input
 * (`cluster = "one"`) that another member runs is `standby` here, and
 * `owner` names the member holding it (none while it changes hands, or while
 * this member cannot reach etcd: `error` says so).
 */
export interface AppInputStatus extends Omit<InputStatus, 'state'> {
  state: InputStatus['state'] | 'standby';
  cluster?: InputConfig['cluster'];
  owner?: string;
}

/** The input changes one application of a plan made (a reload, or a change of what this cluster member owns). */
type InputChanges = Pick<ReloadResult, 'added' | 'removed' | 'restarted' | 'updated' | 'failed'>;

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
  readonly #events: ReloadEvents;
  readonly #clock: Clock;
  readonly #source: ConfigSource;
  readonly #outputs: OutputSet;
  readonly #pipeline: PointPipeline;
  readonly #writeApi: WriteApiInput;
  readonly #queue: TickQueue;
  readonly #hostStarts: HostStarts;
  readonly #startedAt = Date.now();
  #config: Config;
  #loadedAt = new Date();
  #runtime: Runtime | undefined;
  #inputs: InputSet | undefined;
  #gitRepos: GitRepos | undefined;
  #cluster: ClusterMember | undefined;
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
    this.#events = new ReloadEvents(this.#log, this.metrics);
    this.#outputs = new OutputSet(
      options.outputs
        ? Object.entries(options.outputs).map(([id, output]) => new DirectOutput(id, output, this.metrics, this.#log))
        : config.outputs.map((output) => this.#createOutput(output)),
    );
    this.#pipeline = new PointPipeline({ workers: config.runner.workers, encodings: () => this.#outputs.encodings });
    this.#writeApi = new WriteApiInput({ pipeline: this.#pipeline, outputs: this.#outputs, metrics: this.metrics });
    this.#hostStarts = new HostStarts(config.runner.host_starts);
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
      firstDueAt: (input, collector) => this.#firstDueAt(input, collector.id, collector.interval * 1000),
      pipeline: this.#pipeline,
      outputs: this.#outputs,
      metrics: this.metrics,
      log: this.#log,
      lastErrors: this.lastErrors,
      quarantine: () => ({ after: this.#config.runner.quarantine_after, intervalMs: this.#config.runner.quarantine_interval }),
      hostStarts: this.#hostStarts,
    });
    this.#inputs = inputs;
    if (this.#config.cluster) await this.#joinCluster(this.#config.cluster, inputs);
    // As a plan, in turn with the changes of owners the cluster may have applied already.
    await this.#inTurn(() => this.#applyOwned(inputs));
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
    return this.#inTurn(() => this.#reload(trigger));
  }

  health(): AppHealth {
    const state = this.#stopping ? 'stopping' : this.#started ? 'running' : 'starting';
    const inputs = this.status().map(
      ({ input, state, error }): InputHealth => (state === 'running' || (state === 'standby' && !error) ? { input, ok: true } : { input, ok: false, error }),
    );
    return { state, outputs: this.#outputs.health(), inputs };
  }

  /** Points posted to the write API; resolves once every output kept them or failed to (see WriteApiInput). */
  write(request: WriteRequest): Promise<WriteApiResult> {
    return this.#writeApi.write(request);
  }

  /**
   * Every input and collector with its state, every shared input another
   * cluster member runs, and every input that cannot be used, for GET
   * /v1/collectors.
   */
  status(): AppInputStatus[] {
    const cluster = this.#cluster;
    const running = this.inputs.map((input): AppInputStatus => {
      const status: AppInputStatus = input.status();
      return cluster ? { ...status, cluster: input.config.cluster, ...(input.config.cluster === 'one' ? { owner: cluster.member } : {}) } : status;
    });
    const here = new Set(running.map((status) => status.input));
    const standby = cluster
      ? this.#config.inputs
          .filter((input) => input.cluster === 'one' && !here.has(input.name))
          .map(
            (input): AppInputStatus => ({
              input: input.name,
              executor: this.runtimeKind ?? '',
              mode: input.mode,
              state: 'standby',
              cluster: 'one',
              ...(cluster.state === 'member' ? { owner: cluster.ownerOf(input.name) } : { error: this.#notInCluster(cluster) }),
              loadErrors: [],
              collectors: [],
            }),
          )
      : [];
    const unusable = this.#config.problems.map(
      (problem): AppInputStatus => ({
        input: problem.input ?? '',
        executor: this.runtimeKind ?? '',
        mode: 'warm',
        state: 'failed',
        error: problem.message,
        loadErrors: [],
        collectors: [],
      }),
    );
    return [...running, ...standby, ...unusable];
  }

  /** Why a shared input cannot run anywhere this member knows of: it is not in the cluster, or fenced. */
  #notInCluster(cluster: ClusterMember): string {
    const why = cluster.lastError ? `: ${cluster.lastError}` : '';
    return cluster.state === 'fenced'
      ? `stopped here: etcd does not confirm the lease of member ${cluster.member}${why}`
      : `member ${cluster.member} has not joined the cluster yet${why || ': waiting for etcd'}`;
  }

  /** The cluster as this member sees it, for GET /v1/cluster; undefined without [cluster]. */
  clusterStatus(): Promise<ClusterStatus> | undefined {
    return this.#cluster?.status();
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
    // A reload may be building an input's new image: not worth waiting minutes for.
    await this.#inputs?.abandonTrials();
    await this.#reloading;
    const graceMs = this.#config.runner.shutdown_timeout;
    const deadline = Date.now() + graceMs;
    this.#inputs?.stopSchedule();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#queue.onIdle(), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    await this.#inputs?.close(Math.min(graceMs, 5_000));
    await this.#runtime?.removeAll();
    // Its inputs have stopped: leaving now hands them to the other members at once.
    await this.#cluster?.close();
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
    const plan = planReload(this.#running(inputs), this.#effective(next));
    const graceMs = Math.min(next.runner.shutdown_timeout, 5_000);
    result.needsRestart = plan.runner.restart;
    result.runner = plan.runner.live;
    if (plan.runner.live.includes('concurrency')) this.#queue.concurrency = next.runner.concurrency;
    if (plan.runner.live.includes('host_starts')) this.#hostStarts.limit = next.runner.host_starts;
    await this.#outputs.change(
      plan.outputs.add.map((output) => this.#createOutput(output)),
      plan.outputs.remove.map((output) => output.id),
      graceMs,
    );

    const kept = new Map(this.#config.inputs.map((input) => [input.name, input]));
    const stayed = await this.#applyInputs(inputs, plan, graceMs, result);
    // What runs now: the new config, but the old version of an input whose new one did not load.
    this.#config = { ...next, inputs: next.inputs.map((input) => (stayed.has(input.name) ? kept.get(input.name)! : input)) };
    this.#loadedAt = new Date();
    this.#cluster?.setInputs(sharedInputs(this.#config));
    this.#cluster?.settled();
    this.#logProblems(next.problems);
    await this.#gitRepos?.prune(new Set(this.#config.inputs.flatMap((input) => input.discovered.map((dir) => dir.path))));
    return this.#reloaded({ ...result, result: result.failed.length > 0 ? 'partial' : 'ok' }, began);
  }

  /**
   * Applies the input part of a plan: changes in place, removals, additions,
   * and new versions tried in new hosts. Returns the inputs whose new
   * version did not load (their old one runs on). A shared input this
   * cluster member may no longer run (fenced, or given up meanwhile) is not
   * started.
   */
  async #applyInputs(inputs: InputSet, plan: ReloadPlan, graceMs: number, changes: InputChanges): Promise<Set<string>> {
    for (const { next: input, live } of plan.keep) {
      if (live.length === 0) continue;
      inputs.update(input);
      changes.updated.push(input.name);
    }
    const running = new Map(inputs.all.map((input) => [input.name, input.config]));
    await Promise.all(
      plan.remove.map(async (name) => {
        await inputs.remove(name, this.#graceFor(running.get(name), graceMs));
        changes.removed.push(name);
      }),
    );
    await Promise.all(
      plan.add.map(async (input) => {
        if (!this.#mayRun(input)) return;
        await inputs.add(input);
        changes.added.push(input.name);
      }),
    );
    const stayed = new Set<string>();
    await Promise.all(
      plan.restart.map(async ({ next: input, why }) => {
        if (!this.#mayRun(input)) return;
        this.#log.info({ input: input.name }, `reload: input ${input.name} changed (${why.join(', ')}): trying the new version in new hosts`);
        const outcome = await inputs.replace(input, this.#graceFor(input, graceMs));
        if (outcome.replaced) changes.restarted.push(input.name);
        // Stopped meanwhile (a cluster member fenced): the new version starts when it may run again.
        else if (inputs.get(input.name)) {
          stayed.add(input.name);
          changes.failed.push({ input: input.name, error: outcome.error });
        }
      }),
    );
    return stayed;
  }

  /** The config this member runs: without [cluster], all of it; with it, the inputs it runs `each` and the shared ones it holds, told their member. */
  #effective(config: Config): Config {
    const cluster = this.#cluster;
    if (!cluster) return config;
    const member = `PYTHOND_MEMBER=${cluster.member}`;
    return { ...config, inputs: config.inputs.filter((input) => this.#mayRun(input)).map((input) => ({ ...input, envs: [...input.envs, member] })) };
  }

  /** The config the inputs running now were started with (a reload's starting point). */
  #running(inputs: InputSet): Config {
    return { ...this.#config, inputs: inputs.all.map((input) => input.config) };
  }

  #mayRun(input: InputConfig): boolean {
    return !this.#cluster || input.cluster === 'each' || this.#cluster.mayRun(input.name);
  }

  /** How long a tick in flight may finish when its input stops: a shared input must be gone before its key can be. */
  #graceFor(input: InputConfig | undefined, graceMs: number): number {
    return this.#cluster && input?.cluster === 'one' ? Math.min(graceMs, this.#cluster.stopGraceMs) : graceMs;
  }

  /** A shared input's collectors tick on the grid every member shares, so a hand-off keeps its schedule. */
  #firstDueAt(input: InputConfig, collector: string, intervalMs: number): number | undefined {
    if (!this.#cluster || input.cluster !== 'one') return undefined;
    const now = Date.now();
    return this.#clock.now() + (nextGridTick(input.name, collector, intervalMs, now) - now);
  }

  async #joinCluster(config: NonNullable<Config['cluster']>, inputs: InputSet): Promise<void> {
    const member = config.member ?? `${os.hostname()}-${instanceId(this.#config.runner.data_dir)}`;
    // Loaded only here: the etcd client (gRPC, protobuf) is about 6 MiB of a runner's memory that a runner outside a cluster does not need.
    const { ClusterMember } = await import('./cluster/cluster-member.js');
    const cluster = new ClusterMember({ config, member, isRunning: (input) => inputs.active(input), log: this.#log, metrics: this.metrics });
    this.#cluster = cluster;
    cluster.on('changed', () => void this.#applyOwnership());
    cluster.on('fence', (graceMs) => void this.#fence(inputs, graceMs));
    await cluster.start(sharedInputs(this.#config));
  }

  /** Runs `work` once the reloads and changes of owners before it are done: one change of the inputs at a time. */
  #inTurn<T>(work: () => Promise<T>): Promise<T> {
    const done = this.#reloading.then(work);
    this.#reloading = done.catch(() => {});
    return done;
  }

  /** Starts the shared inputs this member now holds and stops those it gives up, in turn with reloads. */
  #applyOwnership(): Promise<void> {
    const applied = this.#inTurn(async () => {
      if (!this.#stopping && this.#inputs) await this.#applyOwned(this.#inputs);
    });
    return applied.catch((err) => this.#log.error(`cluster: applying a change of owners failed: ${errorMessage(err)}`));
  }

  /** Runs what the config in effect and this member's share of it say should run here (all of it without [cluster]). */
  async #applyOwned(inputs: InputSet): Promise<void> {
    const changes: InputChanges = { added: [], removed: [], restarted: [], updated: [], failed: [] };
    const graceMs = Math.min(this.#config.runner.shutdown_timeout, 5_000);
    await this.#applyInputs(inputs, planReload(this.#running(inputs), this.#effective(this.#config)), graceMs, changes);
    const cluster = this.#cluster;
    if (!cluster) return;
    const done = [changes.added.length > 0 && `started ${changes.added.join(', ')}`, changes.removed.length > 0 && `stopped ${changes.removed.join(', ')}`];
    if (done.some(Boolean)) this.#log.info(`cluster: member ${cluster.member} ${done.filter(Boolean).join('; ')}`);
    cluster.settled();
  }

  /** etcd does not confirm this member's lease: every shared input stops now, not in turn with reloads. */
  async #fence(inputs: InputSet, graceMs: number): Promise<void> {
    const began = performance.now();
    const shared = inputs.all.filter((input) => input.config.cluster === 'one').map((input) => input.name);
    await Promise.all(shared.map((name) => inputs.remove(name, graceMs)));
    this.#log.warn(`cluster: stopped ${shared.length} shared input(s) in ${Math.round(performance.now() - began)} ms: ${shared.join(', ') || 'none ran'}`);
    this.#cluster?.settled();
  }

  #reloaded(result: ReloadResult, began: number): ReloadResult {
    result.durationMs = Math.round((performance.now() - began) * 10) / 10;
    this.#lastReload = result;
    const changes = (['added', 'removed', 'restarted', 'updated', 'runner'] as const)
      .filter((key) => result[key].length > 0)
      .map((key) => `${key === 'runner' ? 'applied [runner]' : key} ${result[key].join(', ')}`);
    const summary = `reload (${result.trigger}) ${result.result} in ${result.durationMs} ms: ${changes.join('; ') || 'nothing changed'}`;
    if (result.result === 'error') this.#events.refused(result.trigger, result.error ?? '');
    else if (result.result === 'partial') this.#events.partlyApplied(summary, result.failed);
    else this.#events.applied(summary);
    if (result.needsRestart.length > 0) this.#events.needsRestart(result.needsRestart);
    return result;
  }

  #logProblems(problems: readonly InputProblem[]): void {
    for (const problem of problems) this.#events.inputUnusable(problem.input, problem.message);
  }

  #createOutput(output: Config['outputs'][number]): RunningOutput {
    return createRunningOutput(output, { dataDir: this.#config.runner.data_dir, metrics: this.metrics, log: this.#log, loopToken: this.loopToken });
  }
}

/** The inputs of a config that the cluster's members share (`cluster = "one"`). */
function sharedInputs(config: Config): string[] {
  return config.inputs.filter((input) => input.cluster === 'one').map((input) => input.name);
}
