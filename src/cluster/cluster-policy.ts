import os from 'node:os';
import type { ClusterConfig, Config, InputConfig } from '../config/load.js';
import { errorMessage } from '../errors.js';
import type { InputSet } from '../inputs/input-set.js';
import { instanceId } from '../instance-id.js';
import type { InputChanges, InputPolicy } from '../reload/input-policy.js';
import type { Clock } from '../scheduler/clock.js';
import { ClusterEvents } from '../telemetry/events/cluster-events.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { ClusterMember, ClusterStatus } from './cluster-member.js';
import { nextGridTick } from './tick-grid.js';

/**
 * What a runner in a cluster ([cluster]) runs: every input it runs `each`,
 * and the shared ones (`cluster = "one"`) whose key it holds in etcd. It
 * applies the member's changes of owners (through `converge`, in turn with
 * reloads) and stops every shared input at once when the member is fenced.
 */
export class ClusterPolicy implements InputPolicy {
  readonly #member: ClusterMember;
  readonly #inputs: InputSet;
  readonly #converge: () => Promise<InputChanges>;
  readonly #clock: Clock;
  readonly #events: ClusterEvents;

  private constructor(member: ClusterMember, options: PolicyOptions) {
    this.#member = member;
    this.#inputs = options.inputs;
    this.#converge = options.converge;
    this.#clock = options.clock;
    this.#events = new ClusterEvents(options.log.child({ component: 'cluster' }), options.metrics);
    member.on('changed', () => void this.applyOwnership().catch((err) => this.#events.applyFailed(errorMessage(err))));
    member.on('fence', (graceMs) => void this.#fence(graceMs));
  }

  /** A member named by `[cluster] member`, else by this machine and its runner's instance id; start() joins. */
  static async create(options: PolicyOptions & { config: ClusterConfig; dataDir: string }): Promise<ClusterPolicy> {
    const name = options.config.member ?? `${os.hostname()}-${instanceId(options.dataDir)}`;
    // Loaded only here: the etcd client (gRPC, protobuf) is about 6 MiB of a runner's memory that a runner outside a cluster does not need.
    const { ClusterMember } = await import('./cluster-member.js');
    const member = new ClusterMember({
      config: options.config,
      member: name,
      isRunning: (input) => options.inputs.active(input),
      log: options.log,
      metrics: options.metrics,
    });
    return new ClusterPolicy(member, options);
  }

  /** Joins with the shared inputs of `config`; resolves once the first attempt is over, joined or not (see ClusterMember.start). */
  start(config: Config): Promise<void> {
    return this.#member.start(sharedInputs(config));
  }

  get member(): string {
    return this.#member.member;
  }

  effective(config: Config): Config {
    const member = `PYTHOND_MEMBER=${this.member}`;
    return { ...config, inputs: config.inputs.filter((input) => this.mayRun(input)).map((input) => ({ ...input, envs: [...input.envs, member] })) };
  }

  mayRun(input: InputConfig): boolean {
    return input.cluster === 'each' || this.#member.mayRun(input.name);
  }

  /** A shared input must be gone before its key can be: its tick in flight gets the member's share of the fence lead. */
  graceFor(input: InputConfig | undefined, graceMs: number): number {
    return input?.cluster === 'one' ? Math.min(graceMs, this.#member.stopGraceMs) : graceMs;
  }

  configured(config: Config): void {
    this.#member.setInputs(sharedInputs(config));
  }

  settled(): void {
    this.#member.settled();
  }

  /** A shared input's collectors tick on the grid every member shares, so a hand-off keeps its schedule; undefined: the scheduler's own spread. */
  firstDueAt(input: InputConfig, collector: string, intervalMs: number): number | undefined {
    if (input.cluster !== 'one') return undefined;
    const now = Date.now();
    return this.#clock.now() + (nextGridTick(input.name, collector, intervalMs, now) - now);
  }

  /** Starts the shared inputs this member now holds and stops those it gives up, in turn with reloads. */
  async applyOwnership(): Promise<void> {
    const changes = await this.#converge();
    const done = [changes.added.length > 0 && `started ${changes.added.join(', ')}`, changes.removed.length > 0 && `stopped ${changes.removed.join(', ')}`];
    if (done.some(Boolean)) this.#events.ownersApplied(this.member, done.filter(Boolean).join('; '));
  }

  /** The member holding a shared input, as this member last heard; or why it cannot say (it is not in the cluster, or fenced). */
  ownerOf(input: string): { owner?: string; error?: string } {
    if (this.#member.state === 'member') return { owner: this.#member.ownerOf(input) };
    const why = this.#member.lastError ? `: ${this.#member.lastError}` : '';
    return this.#member.state === 'fenced'
      ? { error: `stopped here: etcd does not confirm the lease of member ${this.member}${why}` }
      : { error: `member ${this.member} has not joined the cluster yet${why || ': waiting for etcd'}` };
  }

  /** The cluster as this member sees it, for GET /v1/cluster. */
  status(): Promise<ClusterStatus> {
    return this.#member.status();
  }

  /** Leaves the cluster: call once its inputs have stopped, so the other members take them at once. */
  close(): Promise<void> {
    return this.#member.close();
  }

  /** etcd does not confirm this member's lease: every shared input stops now, not in turn with reloads. */
  async #fence(graceMs: number): Promise<void> {
    const began = performance.now();
    const shared = this.#inputs.all.filter((input) => input.config.cluster === 'one').map((input) => input.name);
    await Promise.all(shared.map((name) => this.#inputs.remove(name, graceMs)));
    this.#events.fenceStopped(shared, performance.now() - began);
    this.#member.settled();
  }
}

interface PolicyOptions {
  inputs: InputSet;
  /** Applies what mayRun() now allows, in turn with reloads (Reloader.converge). */
  converge: () => Promise<InputChanges>;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
}

/** The inputs of a config that the cluster's members share (`cluster = "one"`). */
function sharedInputs(config: Config): string[] {
  return config.inputs.filter((input) => input.cluster === 'one').map((input) => input.name);
}
