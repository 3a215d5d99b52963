import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { filePath } from '../../config/fields.js';
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
    this.#handle ??= mkdir(path.dirname(this.#path), { recursive: true }).then(() => open(this.#path, 'a'));
    const handle = await this.#handle;
    await handle.write(batch.jsonl!);
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle) {
      const opened = await handle;
      await opened.sync();
      await opened.close();
    }
  }
}
