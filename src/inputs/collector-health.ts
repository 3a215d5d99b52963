import { Backoff } from '../backoff.js';

/**
 * `healthy`: its last tick went through (or it has not run yet);
 * `backing_off`: its last ticks failed, and it is tried again with growing
 * pauses; `quarantined`: it failed `quarantine_after` times in a row, and is
 * tried only every `quarantine_interval`.
 */
export type HealthState = 'healthy' | 'backing_off' | 'quarantined';

export const HEALTH_STATES: readonly HealthState[] = ['healthy', 'backing_off', 'quarantined'];

/** `[runner] quarantine_after` and `quarantine_interval`, read at each failure so a reload applies them. */
export interface QuarantinePolicy {
  after: number;
  intervalMs: number;
}

/**
 * One collector's failure state, on the scheduler's clock. A collector that
 * keeps failing is not run at every tick: after its n-th failure in a row
 * it waits interval × 2^(n−1) from that tick's due time (the next tick,
 * then every 2nd, 4th, ...), at most quarantine_interval; after
 * quarantine_after failures it is quarantined and waits quarantine_interval
 * each time. The ticks in between are skipped; the first success makes it
 * healthy again.
 */
export class CollectorHealth {
  readonly #policy: () => QuarantinePolicy;
  readonly #backoff: Backoff;
  #state: HealthState = 'healthy';
  /** Clock time before which no tick runs. */
  #retryAt = Number.NEGATIVE_INFINITY;

  constructor(options: { intervalMs: number; policy: () => QuarantinePolicy }) {
    this.#policy = options.policy;
    // The pause is the backoff's wait from the failed tick's due time, capped by the policy in effect.
    this.#backoff = new Backoff({ firstMs: options.intervalMs, maxMs: Number.POSITIVE_INFINITY });
  }

  get state(): HealthState {
    return this.#state;
  }

  /** Failures in a row. */
  get failures(): number {
    return this.#backoff.failures;
  }

  /** Clock time of its next try, while it is not healthy. */
  get retryAt(): number | undefined {
    return this.#state === 'healthy' ? undefined : this.#retryAt;
  }

  /** Whether a tick due at `dueAt` (clock time) runs; when not, the reason it is skipped. */
  skipReason(dueAt: number): 'backoff' | 'quarantined' | undefined {
    if (dueAt >= this.#retryAt) return undefined;
    return this.#state === 'quarantined' ? 'quarantined' : 'backoff';
  }

  succeeded(): void {
    this.#backoff.succeeded();
    this.#state = 'healthy';
    this.#retryAt = Number.NEGATIVE_INFINITY;
  }

  /** The tick due at `dueAt` failed. */
  failed(dueAt: number): void {
    const policy = this.#policy();
    const wait = this.#backoff.failed();
    this.#state = this.#backoff.failures >= policy.after ? 'quarantined' : 'backing_off';
    this.#retryAt = dueAt + (this.#state === 'quarantined' ? policy.intervalMs : Math.min(wait, policy.intervalMs));
  }
}
