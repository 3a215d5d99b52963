/**
 * Restart pacing for a host that keeps failing. The first failure restarts
 * at the next tick; from the second consecutive one the wait doubles from
 * `baseMs` up to `maxMs`. Any run that completes resets it.
 */
export class Backoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  #failures = 0;
  #retryAt = 0;

  constructor(options: { baseMs?: number; maxMs?: number } = {}) {
    this.#baseMs = options.baseMs ?? 1_000;
    this.#maxMs = options.maxMs ?? 300_000;
  }

  failed(now = performance.now()): void {
    this.#failures++;
    const wait = this.#failures < 2 ? 0 : Math.min(this.#baseMs * 2 ** (this.#failures - 2), this.#maxMs);
    this.#retryAt = now + wait;
  }

  succeeded(): void {
    this.#failures = 0;
    this.#retryAt = 0;
  }

  remaining(now = performance.now()): number {
    return Math.max(0, this.#retryAt - now);
  }

  get failures(): number {
    return this.#failures;
  }
}
