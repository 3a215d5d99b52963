import type { InputConfig } from '../config/load.js';
import type { CollectorInfo } from '../protocol/messages.js';
import type { Runtime } from '../runtimes/runtime.js';
import { toEpochMs } from '../scheduler/clock.js';
import type { TickQueue } from '../scheduler/tick-queue.js';
import { TickScheduler } from '../scheduler/tick-scheduler.js';
import { RunningInput, type InputDeps } from './running-input.js';

/** One collector of one input, as the scheduler ticks it. */
interface Scheduled {
  /** The input's name: the concurrency limit the tick counts against. */
  input: string;
  intervalMs: number;
  /** Its input has `timeout = "0"`: its run is meant to last (see Schedulable). */
  service: boolean;
  owner: RunningInput;
  collector: CollectorInfo;
}

/** The first due time (clock time) of a collector of an input, or undefined for the scheduler's own spread. */
export type FirstDueAt = (input: InputConfig, collector: CollectorInfo) => number | undefined;

/** How a replacement went: the new version runs, or the old one stays and `error` says why. */
export type Replacement = { replaced: true } | { replaced: false; error: string };

/**
 * The running inputs, each with its collectors on the schedule: started,
 * added, removed, changed in place and replaced (a new version tried in
 * new hosts beside the old, which it replaces only once it loads) while
 * the others keep ticking.
 */
export class InputSet {
  readonly #inputs = new Map<string, RunningInput>();
  /** Inputs removed whose hosts are still stopping (a tick in flight finishing). */
  readonly #stopping = new Map<string, Promise<void>>();
  /** New versions being tried by replace(), not running yet. */
  readonly #trials = new Set<RunningInput>();
  /** The pulls of pulledAgain() under way. */
  readonly #pulls = new Set<AbortController>();
  readonly #runtime: Runtime;
  readonly #queue: TickQueue;
  readonly #scheduler: TickScheduler<Scheduled>;
  readonly #schedule: boolean;
  readonly #firstDueAt: FirstDueAt | undefined;
  readonly #deps: InputDeps;

  constructor(
    options: InputDeps & {
      runtime: Runtime;
      queue: TickQueue;
      /** false: no collector ticks by itself (`pythond check` ticks them by hand). */
      schedule: boolean;
      /** Where a collector's first tick goes (clock time); undefined: spread over its first interval. */
      firstDueAt?: FirstDueAt;
    },
  ) {
    const { runtime, queue, schedule, firstDueAt, ...deps } = options;
    const { clock, metrics } = deps;
    this.#runtime = runtime;
    this.#queue = queue;
    this.#schedule = schedule;
    this.#firstDueAt = firstDueAt;
    this.#deps = deps;
    this.#scheduler = new TickScheduler<Scheduled>({
      queue,
      clock,
      run: async ({ owner, collector }, dueAt) => {
        if (!owner.closed) await owner.tick(collector, dueAt);
      },
      overrun: ({ owner, collector }) => owner.overrun(collector.id),
      skipped: ({ owner, collector }, reason, count) => {
        for (let i = 0; i < count; i++) owner.skipped(collector, reason);
      },
      started: (_, latenessMs) => metrics.lateness.observe(latenessMs / 1000),
      planned: ({ owner, collector }, nextDueAt) => owner.planned(collector.id, toEpochMs(nextDueAt)),
    });
  }

  get all(): RunningInput[] {
    return [...this.#inputs.values()];
  }

  get(name: string): RunningInput | undefined {
    return this.#inputs.get(name);
  }

  /** Whether anything of the input may still run here: it is in the set, or removed with its hosts still stopping. */
  active(name: string): boolean {
    return this.#inputs.has(name) || this.#stopping.has(name);
  }

  /**
   * Starts `config` and puts its collectors on the schedule once it has
   * started; resolves after its first start attempt. With a schedule, an
   * input whose image has to be pulled or built resolves once that begins:
   * it may take minutes, and the input starts in the background once it is
   * done, without holding up the runner's start (or its stop).
   */
  async add(config: InputConfig): Promise<RunningInput> {
    // The first would go on running with nothing left to stop it: callers replace() or remove() first.
    if (this.#inputs.has(config.name)) throw new Error(`InputSet: input ${config.name} is running already`);
    const input = this.#create(config);
    this.#inputs.set(config.name, input);
    this.#queue.setInput(config.name, config.concurrency);
    this.#scheduleWhenStarted(input);
    const started = input.start();
    await (this.#schedule ? Promise.race([started, input.imageWaiting]) : started);
    return input;
  }

  /**
   * Takes the input off the schedule and stops it; a tick in flight finishes
   * first (or is killed after `graceMs`). Resolves once its hosts are gone,
   * also when it was being removed already.
   */
  async remove(name: string, graceMs: number): Promise<void> {
    const input = this.#inputs.get(name);
    if (!input) return this.#stopping.get(name);
    this.#inputs.delete(name);
    this.#scheduler.remove((entry) => entry.owner === input);
    input.forget();
    // An input of the same name added meanwhile (a cluster member taking an input back) keeps the queue.
    const stopped = input.close(graceMs).then(() => this.#queue.removeInput(name, () => !this.#inputs.has(name)));
    this.#stopping.set(name, stopped);
    try {
      await stopped;
    } finally {
      if (this.#stopping.get(name) === stopped) this.#stopping.delete(name);
    }
  }

  /** A new version of an input that differs only in keys it takes live: the same hosts, the same schedule. */
  update(config: InputConfig): void {
    this.#inputs.get(config.name)?.update(config);
    this.#queue.setInput(config.name, config.concurrency);
  }

  /**
   * The inputs among `next` (a reload's new config) whose image, with
   * `pull = "always"`, is pulled again now and is not the one their running
   * version's hosts run in: the reload restarts them. The pull is the one
   * their new version then uses.
   */
  async pulledAgain(next: readonly InputConfig[]): Promise<Set<string>> {
    const abort = new AbortController();
    this.#pulls.add(abort);
    try {
      const moved = await Promise.all(
        next
          .filter((config) => config.pull === 'always')
          .map(async (config) => ((await this.#inputs.get(config.name)?.imageMoved(config, abort.signal)) ? config.name : undefined)),
      );
      return new Set(moved.filter((name) => name !== undefined));
    } finally {
      this.#pulls.delete(abort);
    }
  }

  /**
   * Tries `config` in new hosts while the running version keeps ticking. It
   * replaces the old (taking over its collectors' due times) once it has
   * started with every script loaded, or at once when the old is not
   * running well either; otherwise the trial is stopped and the old stays.
   * An input removed while its trial started stays removed.
   */
  async replace(config: InputConfig, graceMs: number): Promise<Replacement> {
    const old = this.#inputs.get(config.name);
    if (!old) {
      await this.add(config);
      return { replaced: true };
    }
    const trial = this.#create(config);
    this.#trials.add(trial);
    await trial.start();
    this.#trials.delete(trial);
    if (this.#inputs.get(config.name) !== old) {
      await trial.close(graceMs);
      return { replaced: false, error: 'the input was stopped while its new version started' };
    }
    const { state, error } = trial.status();
    if (trial.closed) return { replaced: false, error: 'pythond is stopping' };
    if (state !== 'running' && old.status().state === 'running') {
      await trial.close(graceMs);
      return { replaced: false, error: error ?? state };
    }
    const dueAt = new Map([...this.#scheduler.remove((entry) => entry.owner === old)].map(([entry, at]) => [entry.collector.id, at]));
    this.#inputs.set(config.name, trial);
    this.#queue.setInput(config.name, config.concurrency);
    this.#scheduleWhenStarted(trial, dueAt);
    trial.takeOver(old);
    await old.close(graceMs);
    return { replaced: true };
  }

  /**
   * Closes the new versions replace() is trying, abandoning their image
   * builds, and the pulls of pulledAgain(): pythond is stopping, and the old
   * versions stay until then.
   */
  async abandonTrials(): Promise<void> {
    for (const pull of this.#pulls) pull.abort();
    await Promise.all([...this.#trials].map((trial) => trial.close(0)));
  }

  /** Stops scheduling; ticks already queued still run (see TickQueue.onIdle). */
  stopSchedule(): void {
    this.#scheduler.stop();
  }

  async close(graceMs: number): Promise<void> {
    await Promise.all(this.all.map((input) => input.close(graceMs)));
  }

  #create(config: InputConfig): RunningInput {
    return new RunningInput({ config, runtime: this.#runtime, ...this.#deps });
  }

  /** Its collectors on the schedule, now if it has started, else once it does; `dueAt` keeps a replaced version's times. */
  #scheduleWhenStarted(input: RunningInput, dueAt = new Map<string, number>()): void {
    if (!this.#schedule) return;
    const schedule = (collectors: readonly CollectorInfo[]): void => {
      if (input.closed) return;
      for (const collector of collectors) {
        this.#scheduler.add(
          { input: input.name, intervalMs: collector.interval * 1000, service: input.service, owner: input, collector },
          dueAt.get(collector.id) ?? this.#firstDueAt?.(input.config, collector),
        );
      }
    };
    if (input.status().state === 'starting' || input.status().state === 'failed') input.once('started', schedule);
    else schedule(input.collectors);
  }
}
