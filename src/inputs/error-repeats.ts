/**
 * Each collector's current run of identical failures, so that the log shows
 * a traceback once and then only counts it: a collector failing the same way
 * every tick would otherwise fill the log with one traceback per tick.
 */
export class ErrorRepeats {
  readonly #current = new Map<string, { error: string; repeats: number }>();

  /** `collector` failed with `error` (its text and traceback): how many times in a row before this it failed the same way; 0 when the error is new. */
  failed(collector: string, error: string): number {
    const current = this.#current.get(collector);
    if (current?.error === error) return ++current.repeats;
    this.#current.set(collector, { error, repeats: 0 });
    return 0;
  }

  /** `collector` had a tick that did not fail: how many failures in a row that ends (0 when it was not failing). */
  cleared(collector: string): number {
    const current = this.#current.get(collector);
    this.#current.delete(collector);
    return current ? current.repeats + 1 : 0;
  }
}
