import type { OutputHealth, OutputStatus } from './running-output.js';

/**
 * What an output's writes (a buffered output: its sends) came to, as
 * /healthz and /v1/collectors show it: the last error and when, the last
 * success, and whether it is failing now. It also counts how many times in
 * a row the output failed with the same error, so that a repeated failure
 * can be logged briefly.
 */
export class OutputHealthRecord {
  readonly #id: string;
  #lastError: { message: string; at: string } | undefined;
  #lastSuccess: string | undefined;
  /** The error of the last write, and how many writes in a row failed with it; cleared by the next write that goes through. */
  #failing: { error: string; times: number } | undefined;

  constructor(id: string) {
    this.#id = id;
  }

  succeeded(): void {
    this.#lastSuccess = new Date().toISOString();
    this.#failing = undefined;
  }

  /** Returns how many times in a row the output failed with this same `error`, this time included. */
  failed(error: string): number {
    this.#lastError = { message: error, at: new Date().toISOString() };
    const times = this.#failing?.error === error ? this.#failing.times + 1 : 1;
    this.#failing = { error, times };
    return times;
  }

  /** The message of the last error, whether or not the output is failing now. */
  get lastError(): string | undefined {
    return this.#lastError?.message;
  }

  health(): OutputHealth {
    return this.#failing === undefined ? { output: this.#id, ok: true } : { output: this.#id, ok: false, error: this.#failing.error };
  }

  status(bufferedPoints: number): OutputStatus {
    return {
      id: this.#id,
      bufferedPoints,
      lastError: this.#lastError?.message,
      lastErrorAt: this.#lastError?.at,
      lastSuccess: this.#lastSuccess,
    };
  }
}
