import { POOLED_BYTES } from '../src/points/tasks.js';

/**
 * The most a worker keeps for reuse; more given back is left to its GC. What
 * it keeps stays with it for good (after a big report too), so it is a few
 * reports' worth, not a big report's.
 */
const MAX_KEPT_BYTES = 16 * 1024 ** 2;

/**
 * The memory a worker thread writes batches into, reused. Every batch's
 * bytes are moved to the main thread; once the outputs are done with them
 * the main thread moves them back (PointPipeline.delivered), and they are
 * kept here by size class (powers of two) for the next batches. Without it
 * each batch stays external memory on the main thread until a GC finds it
 * dead, and external memory counts towards the old generation's limit: a
 * big report's hundreds of megabytes drove mark-compacts there (with a heap
 * of 22 MB), which the scheduler waits for. Here, moved back, they are
 * detached there at once.
 *
 * Buffers below POOLED_BYTES.min are not worth the round trip; those above
 * POOLED_BYTES.max are rare and would hold much memory idle.
 */
export class BytePool {
  /** Free buffers by size class: class c holds buffers of at least 2^c bytes. */
  readonly #free = new Map<number, ArrayBuffer[]>();
  #keptBytes = 0;

  /** `length` bytes (not zeroed) in a buffer of their own, at least that long: from the pool when it has one. */
  take(length: number): Uint8Array<ArrayBuffer> {
    if (length < POOLED_BYTES.min || length > POOLED_BYTES.max) return new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
    const size = sizeClass(length);
    const buffer = this.#free.get(size)?.pop();
    if (buffer) {
      this.#keptBytes -= buffer.byteLength;
      return new Uint8Array(buffer, 0, length);
    }
    return new Uint8Array(Buffer.allocUnsafeSlow(2 ** size).buffer, 0, length);
  }

  /** Takes back buffers the main thread is done with (their contents are garbage now). */
  giveBack(buffers: readonly ArrayBuffer[]): void {
    for (const buffer of buffers) {
      const bytes = buffer.byteLength;
      if (bytes < POOLED_BYTES.min || bytes > 2 ** sizeClass(POOLED_BYTES.max) || this.#keptBytes + bytes > MAX_KEPT_BYTES) continue;
      // A buffer of 2^c to 2^(c+1)-1 bytes serves class c.
      const size = Math.floor(Math.log2(bytes));
      const free = this.#free.get(size);
      if (free) free.push(buffer);
      else this.#free.set(size, [buffer]);
      this.#keptBytes += bytes;
    }
  }

  /** Bytes kept for reuse now. */
  get keptBytes(): number {
    return this.#keptBytes;
  }
}

/** The smallest c with 2^c >= length. */
function sizeClass(length: number): number {
  return Math.ceil(Math.log2(length));
}

/** This worker thread's pool. */
export const bytePool = new BytePool();
