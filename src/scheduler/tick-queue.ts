import PQueue from 'p-queue';

/**
 * The two concurrency limits a tick passes: its input's (`concurrency` in
 * `[[inputs.pythond]]`) and then the runner's (`[runner].concurrency`). A tick
 * holds its input slot while it waits for a runner slot, so one input can
 * never take more than its share.
 */
export class TickQueue {
  readonly #global: PQueue;
  readonly #inputs = new Map<string, PQueue>();
  readonly #onChange: (waiting: number, running: number) => void;
  #waiting = 0;
  #running = 0;

  constructor(options: { concurrency: number; onChange?: (waiting: number, running: number) => void }) {
    this.#global = new PQueue({ concurrency: options.concurrency });
    this.#onChange = options.onChange ?? (() => {});
  }

  /** Adds an input's limit, or changes it (ticks already running keep their slots). */
  setInput(name: string, concurrency: number): void {
    const queue = this.#inputs.get(name);
    if (queue) queue.concurrency = concurrency;
    else this.#inputs.set(name, new PQueue({ concurrency }));
  }

  /**
   * Forgets an input once its queued and running ticks are done, unless
   * `unused()` then says a new input of that name has taken the queue over.
   */
  async removeInput(name: string, unused: () => boolean = () => true): Promise<void> {
    const queue = this.#inputs.get(name);
    await queue?.onIdle();
    if (this.#inputs.get(name) === queue && queue?.size === 0 && queue.pending === 0 && unused()) this.#inputs.delete(name);
  }

  /** Changes the runner's limit; ticks already running keep their slots. */
  set concurrency(concurrency: number) {
    this.#global.concurrency = concurrency;
  }

  get concurrency(): number {
    return this.#global.concurrency;
  }

  /** Runs `task` once both limits allow; settles with it. */
  add(input: string, task: () => Promise<void>): Promise<void> {
    const queue = this.#inputs.get(input);
    if (!queue) throw new Error(`TickQueue: unknown input ${input}`);
    this.#changed(+1, 0);
    return queue.add(() =>
      this.#global.add(async () => {
        this.#changed(-1, +1);
        try {
          await task();
        } finally {
          this.#changed(0, -1);
        }
      }),
    ) as Promise<void>;
  }

  get waiting(): number {
    return this.#waiting;
  }

  get running(): number {
    return this.#running;
  }

  /** Resolves when nothing is queued or running. */
  async onIdle(): Promise<void> {
    await Promise.all([...this.#inputs.values()].map((queue) => queue.onIdle()));
    await this.#global.onIdle();
  }

  #changed(waiting: number, running: number): void {
    this.#waiting += waiting;
    this.#running += running;
    this.#onChange(this.#waiting, this.#running);
  }
}
