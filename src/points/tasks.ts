import type { BodyEncoding } from './body-encoding.js';
import type { Category, EncodedBatch, Encoding, Precision } from './point.js';

/**
 * The tasks the main thread hands to the worker threads (workers/), in one
 * place: each task's name, what it is given and what it answers. The main
 * thread calls them through PointPipeline; workers/index.ts exports one
 * function per name.
 */

/**
 * The sizes of batch buffers that go back to the workers for reuse once the
 * outputs are done with them (workers/byte-pool.ts): smaller ones are not
 * worth the trip, larger ones are rare.
 */
export const POOLED_BYTES = { min: 64 * 1024, max: 16 * 1024 ** 2 } as const;

/** What every task carries besides its own input. */
interface TaskBase {
  /** Buffers of earlier batches that the outputs are done with, moved back to be written into again. */
  recycled?: ArrayBuffer[];
}

/** Decode one `report` message of a collector host. */
export interface ReportTask extends TaskBase {
  /** One `report` line from the collector host, as received. */
  line: Uint8Array;
  /** When the runner received the line: the time of points that have none. */
  receivedAtNs: string;
  /** The input's `tags`, added to points that lack them. */
  tags: Readonly<Record<string, string>>;
  /** The global tags of the input (host or election), added after its `tags` unless the report sets ignore_global_tags. */
  globalTags: Readonly<Record<string, string>>;
  encodings: Encoding[];
}

/** How a write body is written: `Content-Type: application/json`, or line protocol (DataKit's default). */
export type WriteFormat = 'json' | 'lineProtocol';

/** What `?echo=` asks the write API to answer with: the points as stored, as line protocol or as a JSON list. */
export type EchoFormat = 'lp' | 'json';

/** Parse one `/v1/write/<category>` body. */
export interface WriteTask extends TaskBase {
  /** The request body, as received. */
  body: Uint8Array;
  /** How the body is compressed, if it is: it is inflated first, to at most `maxBodySize` bytes. */
  compression?: BodyEncoding;
  /** The largest body taken, inflated. */
  maxBodySize: number;
  format: WriteFormat;
  category: Category;
  /** The unit of the body's timestamps. */
  precision: Precision;
  /** The global tags the request asked for (host, election), added to points that lack them. */
  tags: Readonly<Record<string, string>>;
  /** When the request arrived: the time of points that have none. */
  receivedAtNs: string;
  encodings: Encoding[];
  echo?: EchoFormat;
}

/** Points validated and encoded by a worker. */
export interface DecodeResult {
  batches: EncodedBatch[];
  /** Points accepted. */
  points: number;
  /** Points rejected (or whole messages that could not be read). */
  invalid: number;
  /** The first few rejections, each naming the point. */
  errors: string[];
}

/** A body refused whole: none of its points reach the outputs. */
export interface WriteRejection {
  /**
   * `unreadable`: not UTF-8 or not JSON; `invalid`: some points are bad;
   * `empty`: no points at all; `undecodable`: not in the compression it
   * says; `tooLarge`: it inflates past max_body_size.
   */
  rejected: 'unreadable' | 'invalid' | 'empty' | 'undecodable' | 'tooLarge';
  /** For the client: what is wrong and where (`line 3, column 14: ...`), the first few problems. */
  message: string;
  /** Points that failed validation (0 when the body as a whole could not be read). */
  invalid: number;
}

/** A body taken: its points, and with `echo`, those points as stored. */
export interface WriteAccepted extends DecodeResult {
  echo?: Uint8Array;
}

export type WriteResult = WriteAccepted | WriteRejection;

/** Every task: its name (the worker's export), what it takes and what it returns. */
export interface WorkerTasks {
  decodeReport(task: ReportTask): DecodeResult;
  parseWrite(task: WriteTask): WriteResult;
}

export type TaskName = keyof WorkerTasks;
