import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

/**
 * What happens to this runner as a member of a cluster: its state, etcd
 * answering or not, inputs changing hands, and what the app does about it.
 * Each method is one event: it says what happened in the log and counts it
 * on /metrics, so an operator who alerts on the metrics misses nothing the
 * log says is wrong.
 */
export class ClusterEvents {
  readonly #log: Logger;
  readonly #metrics: Metrics;

  constructor(log: Logger, metrics: Metrics) {
    this.#log = log;
    this.#metrics = metrics;
  }

  /** The member starts joining: it asks etcd for a lease, registers and reads the cluster. */
  joining(member: string, etcd: readonly string[], prefix: string): void {
    this.#log.info(`cluster: joining as member ${member} through etcd ${etcd.join(', ')} (prefix ${prefix})`);
  }

  /** The member's state changed: `joining`, `member`, `fenced`, `closed` (cluster/member-state.ts has the transitions). */
  transition(member: string, from: string, to: string): void {
    this.#metrics.clusterTransitions.inc({ from, to });
    this.#log.debug(`cluster: member ${member} is ${to} (was ${from})`);
  }

  /** A step of joining is done, or must be done again: what the next pass does. */
  step(member: string, from: string, to: string): void {
    this.#log.debug(`cluster: member ${member} next ${to} (was ${from})`);
  }

  /** A request to etcd failed, or etcd did not answer in time: the member retries. Logged when the error is not the one before. */
  etcdFailed(etcd: readonly string[], error: string, again: boolean): void {
    this.#metrics.clusterErrors.inc({ reason: 'etcd' });
    if (!again) this.#log.error(`cluster: etcd ${etcd.join(', ')}: ${error}; retrying`);
  }

  /** etcd answers again after etcdFailed. */
  etcdAnswers(etcd: readonly string[]): void {
    this.#log.info(`cluster: etcd answers again (${etcd.join(', ')})`);
  }

  /** The member's name is registered under another lease: it waits for that lease to go. */
  nameTaken(member: string): void {
    this.#metrics.clusterErrors.inc({ reason: 'name_taken' });
    // A replica restarted under the same name waits for its earlier run's lease to expire; two live replicas must not share a name.
    this.#log.warn(
      `cluster: member name ${member} is held by another lease (an earlier run of this replica whose lease has not expired yet, or another replica with the same [cluster] member); waiting for it to go`,
    );
  }

  /** etcd has not confirmed the lease for too long: the member stops its `held` shared inputs before the lease can expire. */
  fenced(member: string, confirmedMsAgo: number, ttlMs: number, held: number): void {
    this.#metrics.clusterErrors.inc({ reason: 'fenced' });
    this.#log.error(
      `cluster: etcd has not confirmed the lease of member ${member} for ${(confirmedMsAgo / 1000).toFixed(1)} s (lease_ttl ${ttlMs / 1000} s): stopping its ${held} shared input(s) before the lease can expire, so that no other member runs them at the same time; they resume when etcd answers`,
    );
  }

  /** etcd confirms the lease again after the member fenced itself. */
  resumed(member: string): void {
    this.#log.info(`cluster: etcd confirms the lease of member ${member} again: resuming its inputs`);
  }

  /** etcd says the lease is gone (it expired, or was revoked): its keys are gone too; the member joins again under a new one. */
  leaseExpired(member: string): void {
    this.#metrics.clusterErrors.inc({ reason: 'lease_expired' });
    this.#log.error(`cluster: etcd says the lease of member ${member} is gone: joining again under a new lease`);
  }

  /** The member took a free input that belongs to it. */
  took(member: string, input: string): void {
    this.#metrics.clusterHandoffs.inc({ direction: 'in' });
    this.#log.info({ input }, `cluster: member ${member} takes input ${input}`);
  }

  /** The member stopped an input that belongs elsewhere and deleted its key. */
  gaveUp(member: string, input: string): void {
    this.#metrics.clusterHandoffs.inc({ direction: 'out' });
    this.#log.info({ input }, `cluster: member ${member} stopped input ${input} and gave it up`);
  }

  /** The member left: etcd deleted its keys with its lease. */
  left(member: string): void {
    this.#log.info(`cluster: member ${member} left; its inputs go to the other members now`);
  }

  /** The member could not revoke its lease when it left: the others wait for it to expire. */
  leaveFailed(member: string, error: string): void {
    this.#metrics.clusterErrors.inc({ reason: 'leave_failed' });
    this.#log.warn(`cluster: could not revoke the lease of member ${member} (${error}); the other members take its inputs over once it expires`);
  }

  /** The app could not start or stop the shared inputs a change of owners asked for. */
  applyFailed(error: string): void {
    this.#metrics.clusterErrors.inc({ reason: 'apply_failed' });
    this.#log.error(`cluster: applying a change of owners failed: ${error}`);
  }

  /** The app started the shared inputs this member took and stopped those it gave up (`done` says which). */
  ownersApplied(member: string, done: string): void {
    this.#log.info(`cluster: member ${member} ${done}`);
  }

  /** The app stopped every shared input (`stopped`, the ones that ran) on a fence, in `ms`. */
  fenceStopped(stopped: readonly string[], ms: number): void {
    this.#metrics.clusterFenceStop.observe(ms / 1000);
    this.#log.warn(`cluster: stopped ${stopped.length} shared input(s) in ${Math.round(ms)} ms: ${stopped.join(', ') || 'none ran'}`);
  }
}
