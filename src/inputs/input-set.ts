import type { InputConfig } from '../config/load.js';
import type { Logger } from '../logger.js';
import type { OutputSet } from '../outputs/running-output.js';
import type { PointPipeline } from '../points/pipeline.js';
import type { CollectorInfo } from '../protocol/messages.js';
import type { Runtime } from '../runtimes/runtime.js';
import { toEpochMs, type Clock } from '../scheduler/clock.js';
import type { QuarantinePolicy } from './collector-health.js';
import type { TickQueue } from '../scheduler/tick-queue.js';
import { TickScheduler } from '../scheduler/tick-scheduler.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { LastErrors } from './last-errors.js';
import { RunningInput } from './running-input.js';

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
  readonly #runtime: Runtime;
  readonly #queue: TickQueue;
  readonly #scheduler: TickScheduler<Scheduled>;
  readonly #schedule: boolean;
  readonly #deps: {
    pipeline: PointPipeline;
    outputs: OutputSet;
    metrics: Metrics;
    log: Logger;
    lastErrors: LastErrors;
    clock: Clock;
    quarantine: () => QuarantinePolicy;
  };

  constructor(options: {
    runtime: Runtime;
    queue: TickQueue;
    clock: Clock;
    /** false: no collector ticks by itself (`pythond check` ticks them by hand). */
    schedule: boolean;
    pipeline: PointPipeline;
    outputs: OutputSet;
    metrics: Metrics;
    log: Logger;
    lastErrors: LastErrors;
    /** `[runner] quarantine_after` and `quarantine_interval` in effect. */
    quarantine: () => QuarantinePolicy;
  }) {
    const { runtime, queue, clock, schedule, metrics, ...deps } = options;
    this.#runtime = runtime;
    this.#queue = queue;
    this.#schedule = schedule;
    this.#deps = { ...deps, metrics, clock };
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

  /** Starts `config` and puts its collectors on the schedule once it has started; resolves after its first start attempt. */
  async add(config: InputConfig): Promise<RunningInput> {
    const input = this.#create(config);
    this.#inputs.set(config.name, input);
    this.#queue.setInput(config.name, config.concurrency);
    this.#scheduleWhenStarted(input);
    await input.start();
    return input;
  }

  /** Takes the input off the schedule and stops it; a tick in flight finishes first (or is killed after `graceMs`). */
  async remove(name: string, graceMs: number): Promise<void> {
    const input = this.#inputs.get(name);
    if (!input) return;
    this.#inputs.delete(name);
    this.#scheduler.remove((entry) => entry.owner === input);
    input.forget();
    await input.close(graceMs);
    await this.#queue.removeInput(name);
  }

  /** A new version of an input that differs only in keys it takes live: the same hosts, the same schedule. */
  update(config: InputConfig): void {
    this.#inputs.get(config.name)?.update(config);
    this.#queue.setInput(config.name, config.concurrency);
  }

  /**
   * Tries `config` in new hosts while the running version keeps ticking. It
   * replaces the old (taking over its collectors' due times) once it has
   * started with every script loaded, or at once when the old is not
   * running well either; otherwise the trial is stopped and the old stays.
   */
  async replace(config: InputConfig, graceMs: number): Promise<Replacement> {
    const old = this.#inputs.get(config.name);
    if (!old) {
      await this.add(config);
      return { replaced: true };
    }
    const trial = this.#create(config);
    await trial.start();
    const { state, error } = trial.status();
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
          dueAt.get(collector.id),
        );
      }
    };
    if (input.status().state === 'starting' || input.status().state === 'failed') input.once('started', schedule);
    else schedule(input.collectors);
  }
}
