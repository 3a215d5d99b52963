import type { OutputHealth, OutputStatus } from './running-output.js';

/**
 * What an output's writes (a buffered output: its sends) came to, as
 * /healthz and /v1/collectors show it: the last error and when, the last
 * success, and whether it is failing now, keeping the points it could not
 * send (to retry them) or losing them.
 */
export class OutputHealthRecord {
  readonly #id: string;
  #lastError: { message: string; at: string } | undefined;
  #lastSuccess: string | undefined;
  /** The error of the last write, and whether its points were kept; cleared by the next write that goes through. */
  #failing: { error: string; kept: boolean } | undefined;

  constructor(id: string) {
    this.#id = id;
  }

  succeeded(): void {
    this.#lastSuccess = new Date().toISOString();
    this.#failing = undefined;
  }

  /** A write failed with `error`; `kept`: its points wait in the disk buffer to be sent again (else they were dropped). */
  failed(error: string, kept: boolean): void {
    this.#lastError = { message: error, at: new Date().toISOString() };
    this.#failing = { error, kept };
  }

  /** The message of the last error, whether or not the output is failing now. */
  get lastError(): string | undefined {
    return this.#lastError?.message;
  }

  health(): OutputHealth {
    if (this.#failing === undefined) return { output: this.#id, ok: true };
    return { output: this.#id, ok: false, error: this.#failing.error, retrying: this.#failing.kept };
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
