import type { Writable } from 'node:stream';
import type { EncodedBatch } from '../../points/point.js';
import type { Output, OutputDetails } from '../output.js';

export const stdoutOutputSchema = () => ({});

/**
 * Writes JSON Lines to standard output, honouring back-pressure. A reader
 * that goes away (`pythond check | head -3`) closes it for good: the write
 * under way and every later one fail with one short error, and `closed`
 * settles, so that whoever printed to it may stop.
 */
export class StdoutOutput implements Output {
  readonly encoding = 'jsonl' as const;
  /** Settles once the stream cannot be written any more (its reader went away, EPIPE). */
  readonly closed: Promise<void>;
  readonly #stream: Writable;
  #error: Error | undefined;

  constructor(stream: Writable = process.stdout) {
    this.#stream = stream;
    // Always listened to: an 'error' of stdout nobody listens to would end the process with a stack trace.
    this.closed = new Promise((resolve) =>
      stream.on('error', (err: NodeJS.ErrnoException) => {
        this.#error ??= new Error(`standard output was closed by its reader (${err.code ?? err.message})`);
        resolve();
      }),
    );
  }

  async write(batch: EncodedBatch): Promise<void> {
    if (this.#error) throw this.#error;
    // Until the stream is done with the bytes (not only until it buffered them): they go back to the workers then.
    await Promise.race([new Promise<void>((resolve) => this.#stream.write(batch.jsonl!, () => resolve())), this.closed]);
    if (this.#error) throw this.#error;
  }

  details(): OutputDetails {
    return { target: 'standard output' };
  }
}
