import { METRIC_ONLY_ENCODINGS, type EncodedBatch, type Encoding } from '../points/point.js';
import type { OutputEvents } from '../telemetry/events/output-events.js';
import type { OutputDetails } from './output.js';

/** One output as the status API shows it. */
export interface OutputStatus {
  id: string;
  /** Points accepted and not yet delivered (always 0 for local outputs). */
  bufferedPoints: number;
  lastError?: string;
  /** ISO time of the last error. */
  lastErrorAt?: string;
  /** ISO time of the last batch the destination accepted. */
  lastSuccess?: string;
  /** Where it writes, or where it is scraped (absent for outputs given by a test or `check`). */
  target?: string;
  /** An endpoint's series in memory now. */
  series?: number;
}

/** Whether an output's last write went through, for /healthz. */
export interface OutputHealth {
  output: string;
  ok: boolean;
  /** Why the last write failed, while it is the last one. */
  error?: string;
  /** While not ok: true when the points it could not send wait in its disk buffer and are retried, false when they were dropped. */
  retrying?: boolean;
}

/** Whether a batch is safe in an output (written, or synced to its disk buffer); when not, why: its points were dropped. */
export type WriteOutcome = { stored: true } | { stored: false; error: string };

/** An output that could not keep a delivery's points, and why. */
export interface DeliveryFailure {
  output: string;
  error: string;
}

/**
 * An output at run time, with what every output shares around it: ordering,
 * counting, logging, and for remote outputs the disk buffer and retries.
 * Two kinds: DirectOutput (local writes) and BufferedOutput (remote).
 */
export interface RunningOutput {
  /** `file[0]`, `influxdb[1]`: the label in logs and metrics. */
  readonly id: string;
  readonly encoding: Encoding;
  /** Whether it keeps what it is given in a disk buffer and sends it from there (a remote output), rather than writing it at once. */
  readonly buffered: boolean;
  start(): Promise<void>;
  /**
   * Resolves once the batch is safe (written by a local output, synced to a
   * remote output's disk buffer), or with why it could not be kept. Never
   * rejects: a batch not kept is counted as dropped and logged.
   */
  write(batch: EncodedBatch): Promise<WriteOutcome>;
  /** Delivers what it can within `graceMs`, then closes; a buffered output keeps the rest for the next start. */
  close(graceMs: number): Promise<void>;
  status(): OutputStatus;
  /** Not ok while the last write (a buffered output: the last send) failed. */
  health(): OutputHealth;
}

/**
 * Whether an output takes `batch`: an encoding that holds metrics only
 * (Prometheus) skips the other categories, counted as skipped rather than
 * dropped; the fields its encoding left out (strings) are counted too.
 */
export function takesBatch(batch: EncodedBatch, encoding: Encoding, events: OutputEvents): boolean {
  const leftOut = batch.fieldsLeftOut?.[encoding];
  if (leftOut) events.fieldsLeftOut(leftOut);
  if (!METRIC_ONLY_ENCODINGS.has(encoding) || batch.category === 'metric') return true;
  events.skipped(batch.points);
  return false;
}

/** The status fields an output's details add. */
export const detailsStatus = (details: OutputDetails | undefined): Pick<OutputStatus, 'target' | 'series'> => (details ? { ...details } : {});

/** Every configured output; each batch goes to each of them. */
export class OutputSet {
  #outputs: RunningOutput[];
  #encodings: Encoding[] = [];
  /** While outputs are replaced (change): deliveries wait for it. */
  #swapping: Promise<void> | undefined;

  constructor(outputs: RunningOutput[]) {
    this.#outputs = outputs;
    this.#updateEncodings();
  }

  /** The encodings the workers must produce. */
  get encodings(): Encoding[] {
    return this.#encodings;
  }

  get ids(): string[] {
    return this.#outputs.map((output) => output.id);
  }

  get all(): readonly RunningOutput[] {
    return this.#outputs;
  }

  /**
   * Starts `added` and takes them in; lets the outputs named in `removed`
   * deliver what they can within `graceMs` and closes them (a reload).
   * Batches already handed to an output are delivered by it. An added output
   * with the id of a removed one (its block changed) replaces it: the old one
   * closes first, at once, since the new one takes over what it held (its
   * buffer folder, which it resumes; its listen address), and deliveries wait
   * the few ms of the swap, so no batch misses either.
   */
  async change(added: RunningOutput[], removed: readonly string[], graceMs: number): Promise<void> {
    const leaving = this.#outputs.filter((output) => removed.includes(output.id));
    const replaced = leaving.filter((output) => added.some((next) => next.id === output.id));
    let swapped!: () => void;
    this.#swapping = new Promise((resolve) => (swapped = resolve));
    let failed: PromiseRejectedResult | undefined;
    try {
      await Promise.all(replaced.map((output) => output.close(0)));
      const started = await Promise.allSettled(added.map((output) => output.start()));
      failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      // One that cannot start is left out (its old version, if it had one, is closed): the reload says why.
      const taken = added.filter((_, i) => started[i]!.status === 'fulfilled');
      this.#outputs = [...this.#outputs.filter((output) => !removed.includes(output.id)), ...taken];
      this.#updateEncodings();
    } finally {
      this.#swapping = undefined;
      swapped();
    }
    await Promise.all(leaving.filter((output) => !replaced.includes(output)).map((output) => output.close(graceMs)));
    if (failed) throw failed.reason;
  }

  #updateEncodings(): void {
    this.#encodings = [...new Set(this.#outputs.map((output) => output.encoding))];
  }

  /** Starts every output; if one cannot start, those started are closed again and the error is thrown. */
  async start(): Promise<void> {
    const started = await Promise.allSettled(this.#outputs.map((output) => output.start()));
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (!failed) return;
    await Promise.all(this.#outputs.filter((_, i) => started[i]!.status === 'fulfilled').map((output) => output.close(0)));
    throw failed.reason;
  }

  /**
   * Hands the batches to every output; resolves once each holds them safely
   * (a remote output: in its disk buffer, not yet sent), with the outputs
   * that could not (each named once, with its first error): empty when all did.
   */
  async deliver(batches: EncodedBatch[]): Promise<DeliveryFailure[]> {
    await this.#swapping;
    const outcomes = await Promise.all(
      batches.flatMap((batch) => this.#outputs.map(async (output) => ({ output: output.id, outcome: await output.write(batch) }))),
    );
    const failures = new Map<string, string>();
    for (const { output, outcome } of outcomes) if (!outcome.stored && !failures.has(output)) failures.set(output, outcome.error);
    return [...failures].map(([output, error]) => ({ output, error }));
  }

  async close(graceMs: number): Promise<void> {
    await Promise.all(this.#outputs.map((output) => output.close(graceMs)));
  }

  status(): OutputStatus[] {
    return this.#outputs.map((output) => output.status());
  }

  health(): OutputHealth[] {
    return this.#outputs.map((output) => output.health());
  }
}
