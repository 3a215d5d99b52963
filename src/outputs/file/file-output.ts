import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { EncodedBatch } from '../../points/point.js';
import { filePath } from '../../schema/fields.js';
import type { Output, OutputDetails } from '../output.js';

export const fileOutputSchema = (baseDir: string) => ({ path: filePath(baseDir) });

interface OpenFile {
  handle: FileHandle;
  /** The file's identity, to notice when the path stops naming it (rotated, removed). */
  dev: number;
  ino: number;
  /** Bytes of whole lines in it: a write that fails half-way is cut back to this. */
  size: number;
}

/**
 * Appends JSON Lines to one file, one point per line. The path is what
 * counts: when the file is moved or removed (log rotation, a user freeing
 * space), the next write opens the path anew; a write that fails half-way
 * (a full disk) leaves no half line behind.
 */
export class FileOutput implements Output {
  readonly encoding = 'jsonl' as const;
  readonly #path: string;
  #file: Promise<OpenFile> | undefined;

  constructor(options: { path: string }) {
    this.#path = options.path;
  }

  async write(batch: EncodedBatch): Promise<void> {
    const file = await this.#current();
    const bytes = batch.jsonl!;
    try {
      for (let written = 0; written < bytes.byteLength; ) {
        written += (await file.handle.write(bytes, written)).bytesWritten;
      }
      file.size += bytes.byteLength;
    } catch (err) {
      await file.handle.truncate(file.size).catch(() => {});
      throw err;
    }
  }

  details(): OutputDetails {
    return { target: this.#path };
  }

  async close(): Promise<void> {
    const file = await this.#file?.catch(() => undefined);
    this.#file = undefined;
    // A file that never opened has nothing to flush; its write already failed and was counted.
    if (file) {
      await file.handle.sync();
      await file.handle.close();
    }
  }

  /** The open file the path names now: opened on first use, and again once the path names another file or none. */
  async #current(): Promise<OpenFile> {
    const open = await this.#file?.catch(() => undefined);
    if (open) {
      const now = await stat(this.#path).catch(() => undefined);
      if (now && now.ino === open.ino && now.dev === open.dev) return open;
      await open.handle.close().catch(() => {});
    }
    this.#file = this.#open();
    return this.#file;
  }

  async #open(): Promise<OpenFile> {
    await mkdir(path.dirname(this.#path), { recursive: true });
    const handle = await open(this.#path, 'a');
    const { dev, ino, size } = await handle.stat();
    return { handle, dev, ino, size };
  }
}
