/** How often a failure that keeps repeating unchanged is said again, with its count. */
export const REPEAT_LINE_EVERY_MS = 60_000;

/**
 * How to log one failure: `full` (a new error: with its traceback or
 * stack), `count` (the same error again, a minute or more after it was last
 * said: one short line with how many times in a row), `quiet` (counted on
 * /metrics only).
 */
export type FailureLine = { say: 'full' } | { say: 'count'; times: number } | { say: 'quiet' };

/**
 * Runs of failures of things that fail again and again (a collector's
 * ticks, an output's sends), so that the log shows a failure once in full,
 * then one line a minute with a count while it repeats unchanged, then the
 * success that ends the run, with how many failures it ends: a collector or
 * a destination failing every second does not fill the log.
 */
export class RepeatedFailures {
  readonly #now: () => number;
  /** Per key: the current error, how many times in a row it came, all failures in a row, and when a line last said it. */
  readonly #runs = new Map<string, { error: string; times: number; failures: number; saidAt: number }>();

  /** `now`: milliseconds on any clock that does not go back (the scheduler's, so tests can drive it). */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** `key` failed with `error` (its text, traceback included when it has one): how to log it. */
  failed(key: string, error: string): FailureLine {
    const now = this.#now();
    const run = this.#runs.get(key);
    if (run?.error !== error) {
      this.#runs.set(key, { error, times: 1, failures: (run?.failures ?? 0) + 1, saidAt: now });
      return { say: 'full' };
    }
    run.times++;
    run.failures++;
    if (now - run.saidAt < REPEAT_LINE_EVERY_MS) return { say: 'quiet' };
    run.saidAt = now;
    return { say: 'count', times: run.times };
  }

  /** `key` did not fail: how many failures in a row (of any error) that ends; 0 when it was not failing. */
  succeeded(key: string): number {
    const failures = this.#runs.get(key)?.failures ?? 0;
    this.#runs.delete(key);
    return failures;
  }
}
