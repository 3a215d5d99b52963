import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { filePath } from '../../schema/fields.js';
import type { EncodedBatch } from '../../points/point.js';
import type { Output } from '../output.js';

export const fileOutputSchema = (baseDir: string) => ({ path: filePath(baseDir) });

/** Appends JSON Lines to one file, one point per line. */
export class FileOutput implements Output {
  readonly encoding = 'jsonl' as const;
  readonly #path: string;
  #handle: Promise<FileHandle> | undefined;

  constructor(options: { path: string }) {
    this.#path = options.path;
  }

  async write(batch: EncodedBatch): Promise<void> {
    this.#handle ??= this.#open();
    const handle = await this.#handle;
    await handle.write(batch.jsonl!);
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    // A file that never opened has nothing to flush; its write already failed and was counted.
    const opened = await handle?.catch(() => undefined);
    if (opened) {
      await opened.sync();
      await opened.close();
    }
  }

  /** Opens the file for appending; a failed open is forgotten, so the next write tries again. */
  #open(): Promise<FileHandle> {
    const opening = mkdir(path.dirname(this.#path), { recursive: true }).then(() => open(this.#path, 'a'));
    opening.catch(() => {
      if (this.#handle === opening) this.#handle = undefined;
    });
    return opening;
  }
}
