/**
 * Time as the scheduler sees it, injected so tests can drive it by hand.
 * `now()` is monotonic milliseconds: wall-clock jumps do not move ticks.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms)),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Converts a `Clock.now()` reading of the system clock to epoch milliseconds. */
export const toEpochMs = (monotonicMs: number): number => performance.timeOrigin + monotonicMs;
