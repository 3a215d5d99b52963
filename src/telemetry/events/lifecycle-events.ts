import type { Logger } from '../logger.js';

/** The runner's own start and stop, as `pythond run` goes through them. */
export class LifecycleEvents {
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /**
   * A second SIGINT or SIGTERM: the runner exits now, without waiting for
   * ticks in flight or the outputs. Logged, not counted: the process ends
   * on the next line, so no scrape could ever read the count.
   */
  forcedExit(): void {
    this.#log.error('second signal: exiting without waiting');
  }
}
