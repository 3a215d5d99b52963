/** How soon after the first a signal is taken as the same one, forwarded by npm. */
export const SAME_SIGNAL_MS = 1_000;

/**
 * SIGINT and SIGTERM during `pythond run`: the first asks for a clean stop
 * (`stopping` resolves with it); a second, SAME_SIGNAL_MS or more later,
 * asks to exit at once. One Ctrl-C can arrive twice: from the terminal, to
 * the whole process group, and again from npm, which forwards it (`npm
 * start`); a repeat within the window is that same signal.
 */
export class StopSignals {
  readonly stopping: Promise<NodeJS.Signals>;
  readonly #now: () => number;
  readonly #exitNow: () => void;
  #resolve!: (signal: NodeJS.Signals) => void;
  #firstAt: number | undefined;

  constructor(options: { exitNow: () => void; now?: () => number }) {
    this.#exitNow = options.exitNow;
    this.#now = options.now ?? (() => performance.now());
    this.stopping = new Promise((resolve) => (this.#resolve = resolve));
  }

  /**
   * Takes SIGINT and SIGTERM from now on, for the whole run: between a
   * once() listener's removal and a new one, node's default (exit) would be back.
   */
  listen(): this {
    const receive = (signal: NodeJS.Signals): void => this.receive(signal);
    process.on('SIGINT', receive).on('SIGTERM', receive);
    return this;
  }

  receive(signal: NodeJS.Signals): void {
    if (this.#firstAt === undefined) {
      this.#firstAt = this.#now();
      this.#resolve(signal);
    } else if (this.#now() - this.#firstAt >= SAME_SIGNAL_MS) this.#exitNow();
  }
}
