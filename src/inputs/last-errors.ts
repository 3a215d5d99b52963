/** An error a collector reported: set_lasterror() in the SDK, or POST /v1/lasterror from outside. */
export interface ReportedError {
  input: string;
  error: string;
  /** When the last one arrived (ISO 8601). */
  at: string;
  /** How many arrived for this input since the runner started. */
  count: number;
}

const MAX_INPUTS = 100;
const MAX_INPUT_NAME = 128;
const MAX_ERROR_TEXT = 2000;

const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * The last error of each input that reported one, for the status API. The
 * names come from clients, so the store is bounded: names and texts are
 * clipped, and past MAX_INPUTS names the one reported least recently goes.
 */
export class LastErrors {
  readonly #byInput = new Map<string, ReportedError>();

  record(input: string, error: string, now = new Date()): ReportedError {
    const name = clip(input, MAX_INPUT_NAME);
    const previous = this.#byInput.get(name);
    const entry: ReportedError = { input: name, error: clip(error, MAX_ERROR_TEXT), at: now.toISOString(), count: (previous?.count ?? 0) + 1 };
    // Re-inserting moves the name to the end: the map stays in order of last report.
    this.#byInput.delete(name);
    this.#byInput.set(name, entry);
    if (this.#byInput.size > MAX_INPUTS) this.#byInput.delete(this.#byInput.keys().next().value!);
    return entry;
  }

  /** Most recent first. */
  list(): ReportedError[] {
    return [...this.#byInput.values()].reverse();
  }
}
