import type { EncodedBatch, Encoding } from '../points/point.js';

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

/** Every configured output; each batch goes to each of them. */
export class OutputSet {
  #outputs: RunningOutput[];
  #encodings: Encoding[] = [];

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
   * Batches already handed to an output are delivered by it.
   */
  async change(added: RunningOutput[], removed: readonly string[], graceMs: number): Promise<void> {
    const leaving = this.#outputs.filter((output) => removed.includes(output.id));
    await Promise.all(added.map((output) => output.start()));
    this.#outputs = [...this.#outputs.filter((output) => !removed.includes(output.id)), ...added];
    this.#updateEncodings();
    await Promise.all(leaving.map((output) => output.close(graceMs)));
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
