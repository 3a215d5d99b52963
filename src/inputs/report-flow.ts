/**
 * How far one run's report messages may get ahead of the runner: at most
 * `inWorkers` being decoded and `inFlight` decoded or delivered at once. Past
 * either, the host waits (its channel is not read) until one is through: a
 * collector that reports faster than the workers validate waits instead of
 * piling its report up in the runner. With `inWorkers` below the number of
 * worker threads, one run never holds every worker, and another input's
 * report finds one free within one message's time.
 */
export class ReportFlow {
  readonly #inWorkers: number;
  readonly #inFlight: number;
  readonly #decoding = new Set<Promise<unknown>>();
  readonly #delivering = new Set<Promise<unknown>>();

  constructor(limits: { inWorkers: number; inFlight: number }) {
    this.#inWorkers = limits.inWorkers;
    this.#inFlight = limits.inFlight;
  }

  /** Follows one message; answers what to wait for before reading the next, if anything. */
  add(decoded: Promise<unknown>, delivered: Promise<unknown>): Promise<void> | undefined {
    follow(this.#decoding, decoded);
    follow(this.#delivering, delivered);
    if (this.#delivering.size >= this.#inFlight) return firstOf(this.#delivering);
    if (this.#decoding.size >= this.#inWorkers) return firstOf(this.#decoding);
    return undefined;
  }

  /** Resolves once every message followed so far is through. */
  async drained(): Promise<void> {
    await Promise.all(this.#delivering);
  }
}

/** Keeps `promise` in `pending` until it settles. */
function follow(pending: Set<Promise<unknown>>, promise: Promise<unknown>): void {
  pending.add(promise);
  const settled = (): boolean => pending.delete(promise);
  void promise.then(settled, settled);
}

/** Settles when the first of `pending` does, however it does. */
function firstOf(pending: Set<Promise<unknown>>): Promise<void> {
  return Promise.race(pending).then(
    () => undefined,
    () => undefined,
  );
}
