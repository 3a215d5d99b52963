import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { EncodedBatch } from '../../points/point.js';
import type { Output, OutputDetails } from '../output.js';

export const stdoutOutputSchema = () => ({});

/** Writes JSON Lines to standard output, honouring back-pressure. */
export class StdoutOutput implements Output {
  readonly encoding = 'jsonl' as const;
  readonly #stream: Writable;

  constructor(stream: Writable = process.stdout) {
    this.#stream = stream;
  }

  async write(batch: EncodedBatch): Promise<void> {
    if (!this.#stream.write(batch.jsonl!)) await once(this.#stream, 'drain');
  }

  details(): OutputDetails {
    return { target: 'standard output' };
  }
}
