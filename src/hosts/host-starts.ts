import PQueue from 'p-queue';

/**
 * How many collector hosts may be starting at once, all inputs together
 * (`[runner] host_starts`): from asking the runtime for one (a container
 * create, attach and start) until it has said hello (its Python imports
 * done). Many inputs starting together (the runner's start, a reload that
 * adds fifty) reach the engine a few at a time, in the order they asked,
 * instead of all at once: a herd of creates and imports takes the engine
 * and the CPU from the hosts already up, whose ticks then run late, and
 * the whole herd takes longer than the same starts in turn.
 */
export class HostStarts {
  readonly #queue: PQueue;

  constructor(limit: number) {
    this.#queue = new PQueue({ concurrency: limit });
  }

  /** Changes the limit; starts under way keep going. */
  set limit(limit: number) {
    this.#queue.concurrency = limit;
  }

  get limit(): number {
    return this.#queue.concurrency;
  }

  /** Runs `start` once fewer than `limit` others are running; settles with it. */
  run<T>(start: () => Promise<T>): Promise<T> {
    return this.#queue.add(start);
  }
}
