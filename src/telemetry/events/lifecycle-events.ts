import type { Logger } from '../logger.js';

/** The runner's own start and stop, as `pythond run` goes through them. */
export class LifecycleEvents {
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** A stop was asked for: say how long it may take, and how not to wait. */
  stopRequested(signal: string, graceMs: number): void {
    const again = signal === 'SIGINT' ? 'press Ctrl-C again' : `send ${signal} again`;
    this.#log.info(`${signal} received: stopping, within ${seconds(graceMs)} (shutdown_timeout); ${again} to exit now without waiting`);
  }

  /** Stopping waits for the ticks in flight (`input/collector`) to finish. */
  waitingForTicks(ticks: readonly string[], graceMs: number): void {
    this.#log.info(`waiting for ${ticks.length} tick(s) in flight to finish, at most ${seconds(graceMs)}: ${ticks.join(', ')}`);
  }

  /** Stopping waits for remote outputs to send what their buffers hold; what they cannot send stays there for the next start. */
  waitingForOutputs(outputs: readonly { id: string; points: number; error?: string }[], graceMs: number): void {
    const each = outputs.map(({ id, points, error }) => `${id} ${points} point(s)${error ? ` (it cannot send now: ${error})` : ''}`);
    this.#log.info(
      `sending what the outputs still hold, at most ${seconds(graceMs)}: ${each.join('; ')}; what is not sent stays in their buffers for the next start`,
    );
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

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;
