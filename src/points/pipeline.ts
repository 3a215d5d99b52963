import { Piscina } from 'piscina';
import type { EncodedBatch, Encoding } from './point.js';
import { POOLED_BYTES, type DecodeResult, type ReportTask, type TaskName, type WorkerTasks, type WriteResult, type WriteTask } from './tasks.js';

/** A `/v1/write/<category>` request body, how to read it, and the tags and answer it asks for. */
export type WriteRequest = Omit<WriteTask, 'receivedAtNs' | 'encodings'>;

/** The tags a report's points get besides their own: its input's `tags`, then its global tags. */
export type ReportTags = Pick<ReportTask, 'tags' | 'globalTags'>;

const WORKER_ENTRY = new URL('../../workers/index.js', import.meta.url).href;

/**
 * The buffer to move (not copy) into a worker along with `bytes`, when
 * `bytes` is all of it; small Buffers share Node's pool and are copied.
 * The caller must not read `bytes` afterwards.
 */
function moved(bytes: Uint8Array): ArrayBuffer[] {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? [bytes.buffer as ArrayBuffer] : [];
}

/** The most batch memory waiting here for the next task to take it back to the workers; more is left to the GC. */
const MAX_RECYCLED_BYTES = 16 * 1024 ** 2;

/** Nanoseconds since the epoch, now, with sub-millisecond resolution. */
export function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

/**
 * The main thread's door to the data plane: point data is decoded,
 * validated and encoded in piscina worker threads, never here.
 */
export class PointPipeline {
  /** Worker threads: point data is handled this many messages at once. */
  readonly workers: number;
  readonly #pool: Piscina;
  readonly #encodings: () => Encoding[];
  /** Batch buffers the outputs are done with, for the next task to move back to the workers. */
  #recycled: ArrayBuffer[] = [];
  #recycledBytes = 0;

  /** `encodings`: what the outputs consume now (asked at each task: outputs come and go with reloads). */
  constructor(options: { workers: number; encodings: () => Encoding[] }) {
    this.#encodings = options.encodings;
    this.workers = options.workers;
    this.#pool = new Piscina({
      filename: WORKER_ENTRY,
      minThreads: options.workers,
      maxThreads: options.workers,
      // Unbounded on purpose: what is in flight is bounded by each tick's report budget and by the HTTP API's writes in flight.
      maxQueue: Infinity,
      idleTimeout: Infinity,
    });
  }

  decodeReport(line: Buffer, tags: ReportTags, receivedAtNs: bigint = nowNs()): Promise<DecodeResult> {
    return this.#run('decodeReport', { line, receivedAtNs: receivedAtNs.toString(), ...tags, encodings: this.#encodings() }, moved(line));
  }

  /** Inflates, parses, validates and encodes a write API body; rejects it whole if any point is bad. */
  parseWrite(request: WriteRequest, receivedAtNs: bigint = nowNs()): Promise<WriteResult> {
    return this.#run('parseWrite', { ...request, receivedAtNs: receivedAtNs.toString(), encodings: this.#encodings() }, moved(request.body));
  }

  /**
   * The outputs are done with these batches (each wrote them, or synced
   * them to its disk buffer, which sends from disk): their buffers go back
   * to the workers with the next task, to be written into again. From here
   * on the batches' bytes must not be read: once moved, they are empty.
   */
  delivered(batches: readonly EncodedBatch[]): void {
    for (const batch of batches) {
      for (const bytes of [batch.jsonl, batch.lineProtocol, batch.remoteWrite, batch.exposition]) {
        const buffer = bytes?.buffer as ArrayBuffer | undefined;
        if (!buffer || buffer.byteLength < POOLED_BYTES.min || buffer.byteLength > POOLED_BYTES.max) continue;
        if (this.#recycledBytes + buffer.byteLength > MAX_RECYCLED_BYTES || this.#recycled.includes(buffer)) continue;
        this.#recycled.push(buffer);
        this.#recycledBytes += buffer.byteLength;
      }
    }
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }

  #run<N extends TaskName>(name: N, task: Parameters<WorkerTasks[N]>[0], transferList: ArrayBuffer[]): Promise<ReturnType<WorkerTasks[N]>> {
    if (this.#recycled.length > 0) {
      task.recycled = this.#recycled;
      transferList = [...transferList, ...this.#recycled];
      this.#recycled = [];
      this.#recycledBytes = 0;
    }
    return this.#pool.run(task, { name, transferList });
  }
}
