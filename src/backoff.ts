/**
 * Pacing for something that keeps failing: a host that will not start or
 * keeps dying, an output whose destination is away. The first `free`
 * failures in a row are retried at once; after that the wait starts at
 * `firstMs` and doubles up to `maxMs`. With `jitter` each wait is drawn from
 * [½, 1] of its step, so things that failed together do not retry in step.
 * A success resets it.
 */
export class Backoff {
  readonly #firstMs: number;
  readonly #maxMs: number;
  readonly #free: number;
  readonly #jitter: boolean;
  readonly #now: () => number;
  #failures = 0;
  #retryAt = 0;

  constructor(options: { firstMs: number; maxMs: number; free?: number; jitter?: boolean; now?: () => number }) {
    this.#firstMs = options.firstMs;
    this.#maxMs = options.maxMs;
    this.#free = options.free ?? 0;
    this.#jitter = options.jitter ?? false;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Counts a failure; returns how long to wait before the next attempt. */
  failed(): number {
    this.#failures++;
    const doublings = this.#failures - this.#free - 1;
    const step = doublings < 0 ? 0 : Math.min(this.#firstMs * 2 ** doublings, this.#maxMs);
    const wait = this.#jitter ? Math.round(step * (0.5 + Math.random() / 2)) : step;
    this.#retryAt = this.#now() + wait;
    return wait;
  }

  succeeded(): void {
    this.#failures = 0;
    this.#retryAt = 0;
  }

  /** Milliseconds before the next attempt is due; 0 when it may happen now. */
  remaining(): number {
    return Math.max(0, this.#retryAt - this.#now());
  }

  /** Failures in a row. */
  get failures(): number {
    return this.#failures;
  }
}
