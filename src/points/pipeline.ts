import { Piscina } from 'piscina';
import type { Encoding } from './point.js';
import type { DecodeResult, ReportTask, TaskName, WorkerTasks, WriteResult, WriteTask } from './tasks.js';

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

  async close(): Promise<void> {
    await this.#pool.destroy();
  }

  #run<N extends TaskName>(name: N, task: Parameters<WorkerTasks[N]>[0], transferList: ArrayBuffer[]): Promise<ReturnType<WorkerTasks[N]>> {
    return this.#pool.run(task, { name, transferList });
  }
}
