import { move, transferableSymbol, valueSymbol } from 'piscina';
import type { Category, EncodedBatch, Encoding, Point, Precision } from '../src/points/point.js';
import type { DecodeResult, EchoFormat, WriteAccepted } from '../src/points/tasks.js';
import { bytePool } from './byte-pool.js';
import { encodeJsonLine, encodeLineProtocol } from './encode.js';
import type { TagFiller } from './tag-filler.js';
import { Char } from './char-codes.js';
import { PrometheusSamples } from './prometheus-samples.js';
import { InvalidPoint, validatePoint } from './validate-point.js';

const MAX_ERRORS = 5;
/**
 * Points per EncodedBatch at most. A report of a million points becomes a
 * hundred batches, so remote outputs can pack requests near their batch_size
 * (servers cap request bodies) without ever parsing line protocol.
 */
export const MAX_POINTS_PER_BATCH = 10_000;

/** Text gathered before it is written as UTF-8 into a chunk: one write per few hundred lines, not one per line. */
const PENDING_CHARS = 32 * 1024;
/** The size of the chunks a batch's bytes are written into. */
const CHUNK_BYTES = 256 * 1024;

/**
 * A batch's bytes. Lines are gathered into a short string and written as
 * UTF-8 a few hundred at a time into fixed chunks (a write per line cost
 * more than the encoding itself); take() copies them once into a buffer of
 * the exact size. The line strings still die young: a whole batch kept as
 * one concatenated string (a rope) kept every line alive until the batch
 * was done, and made the old-generation GC the biggest cost.
 */
export class ByteSink {
  readonly #chunks: Buffer<ArrayBuffer>[] = [];
  #chunk = Buffer.from(bytePool.take(CHUNK_BYTES).buffer);
  #used = 0;
  #pending = '';

  append(text: string): void {
    this.#pending += text;
    if (this.#pending.length >= PENDING_CHARS) this.#flush();
  }

  /** The bytes, in a buffer of their own (so it can be moved to another thread), from the worker's pool; the sink is done then. */
  take(): Uint8Array<ArrayBuffer> {
    this.#flush();
    const length = this.#chunks.reduce((sum, chunk) => sum + chunk.length, this.#used);
    // Not zeroed: every byte is written below.
    const bytes = bytePool.take(length);
    let at = 0;
    for (const chunk of [...this.#chunks, this.#chunk.subarray(0, this.#used)]) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    bytePool.giveBack([...this.#chunks.map((chunk) => chunk.buffer), this.#chunk.buffer]);
    return bytes;
  }

  #flush(): void {
    const text = this.#pending;
    this.#pending = '';
    let from = 0;
    while (from < text.length) {
      // UTF-8 needs at most 3 bytes per UTF-16 code unit: write what surely fits, then move to a new chunk.
      const fits = Math.floor((this.#chunk.length - this.#used) / 3);
      if (fits < 2) {
        this.#chunks.push(this.#chunk.subarray(0, this.#used));
        this.#chunk = Buffer.from(bytePool.take(CHUNK_BYTES).buffer);
        this.#used = 0;
        continue;
      }
      let to = Math.min(text.length, from + fits);
      // Never between the two halves of a surrogate pair.
      if (to < text.length && (text.charCodeAt(to - 1) & 0xfc00) === 0xd800) to--;
      this.#used += this.#chunk.write(text.slice(from, to), this.#used, 'utf8');
      from = to;
    }
  }
}

/** Where the encodings of one point go: a sink per encoding the outputs want, absent for the others. */
export interface PointSinks {
  jsonl?: ByteSink;
  lineProtocol?: ByteSink;
  /** Metric batches, when an output wants a Prometheus encoding. */
  prometheus?: PrometheusSamples;
}

interface CategoryBatch extends PointSinks {
  category: Category;
  points: number;
}

/** Collects validated points per category and encodes them, for one task. */
export class PointBatcher {
  // The batch being filled, per category; full ones wait in #full.
  readonly #filling = new Map<Category, CategoryBatch>();
  readonly #full: CategoryBatch[] = [];
  readonly #jsonl: boolean;
  readonly #lineProtocol: boolean;
  readonly #remoteWrite: boolean;
  readonly #exposition: boolean;
  #points = 0;
  #invalid = 0;
  readonly #errors: string[] = [];

  constructor(encodings: Encoding[]) {
    this.#jsonl = encodings.includes('jsonl');
    this.#lineProtocol = encodings.includes('lineProtocol');
    this.#remoteWrite = encodings.includes('remoteWrite');
    this.#exposition = encodings.includes('exposition');
  }

  /**
   * Validates one point, adds the tags it lacks and encodes it. Returns what
   * is wrong with it, for the caller to reject with its location (built only
   * then: most points are fine).
   */
  add(category: Category, raw: unknown, precision: Precision, receivedAtNs: string, tags: TagFiller): string | undefined {
    let point: Point;
    try {
      point = validatePoint(raw, category, precision, receivedAtNs);
    } catch (err) {
      if (!(err instanceof InvalidPoint)) throw err;
      return err.message;
    }
    point.tags = tags.fill(point.tags);
    const entry = this.next(category);
    entry.jsonl?.append(encodeJsonLine(category, point));
    entry.lineProtocol?.append(encodeLineProtocol(point));
    entry.prometheus?.add(point);
    return undefined;
  }

  /** The text encodings this batcher's outputs want (a caller that encodes points itself builds only these). */
  get wants(): { jsonl: boolean; lineProtocol: boolean } {
    return { jsonl: this.#jsonl, lineProtocol: this.#lineProtocol };
  }

  /** The sinks of the next accepted point of `category` (counted here), for a caller that encodes it itself. */
  next(category: Category): PointSinks {
    let entry = this.#filling.get(category);
    if (!entry || entry.points === MAX_POINTS_PER_BATCH) {
      if (entry) this.#full.push(entry);
      entry = {
        category,
        points: 0,
        jsonl: this.#jsonl ? new ByteSink() : undefined,
        lineProtocol: this.#lineProtocol ? new ByteSink() : undefined,
        prometheus: category === 'metric' && (this.#remoteWrite || this.#exposition) ? new PrometheusSamples() : undefined,
      };
      this.#filling.set(category, entry);
    }
    entry.points++;
    this.#points++;
    return entry;
  }

  reject(error: string): void {
    this.#invalid++;
    if (this.#errors.length < MAX_ERRORS) this.#errors.push(error);
  }

  /** How the points added so far fared (accepted, rejected, the first rejections), without building batches. */
  get counts(): { points: number; invalid: number; errors: readonly string[] } {
    return { points: this.#points, invalid: this.#invalid, errors: this.#errors };
  }

  rejectAll(error: string): DecodeResult {
    this.reject(error);
    return this.finish();
  }

  /**
   * The result, with its byte buffers moved (not copied) to the main thread;
   * with `echo`, also every point as encoded (the batcher must have been
   * made with that encoding).
   */
  finish(echo?: EchoFormat): WriteAccepted {
    const batches: EncodedBatch[] = [];
    const buffers: ArrayBuffer[] = [];
    const take = (bytes: Uint8Array<ArrayBuffer> | undefined): Uint8Array | undefined => {
      if (bytes) buffers.push(bytes.buffer);
      return bytes;
    };
    for (const entry of [...this.#full, ...this.#filling.values()]) {
      const batch: EncodedBatch = { category: entry.category, points: entry.points };
      const jsonl = take(entry.jsonl?.take());
      const lineProtocol = take(entry.lineProtocol?.take());
      if (jsonl) batch.jsonl = jsonl;
      if (lineProtocol) batch.lineProtocol = lineProtocol;
      if (entry.prometheus) this.#addPrometheus(batch, entry.prometheus, take);
      batches.push(batch);
    }
    const result: WriteAccepted = { batches, points: this.#points, invalid: this.#invalid, errors: this.#errors };
    if (echo) {
      result.echo = echoed(batches, echo);
      buffers.push(result.echo.buffer as ArrayBuffer);
    }
    return move({ [transferableSymbol]: buffers, [valueSymbol]: result } as never) as unknown as WriteAccepted;
  }

  #addPrometheus(batch: EncodedBatch, samples: PrometheusSamples, take: (bytes: Uint8Array<ArrayBuffer>) => Uint8Array | undefined): void {
    const leftOut: EncodedBatch['fieldsLeftOut'] = {};
    if (this.#remoteWrite) {
      batch.remoteWrite = take(samples.remoteWrite());
      leftOut.remoteWrite = samples.stringFields;
    }
    if (this.#exposition) {
      batch.exposition = take(samples.exposition());
      leftOut.exposition = samples.stringFields;
    }
    if (samples.stringFields > 0) batch.fieldsLeftOut = leftOut;
  }
}

/** The encoding each echo is made of. */
export const ECHO_ENCODING: Record<EchoFormat, Encoding> = { lp: 'lineProtocol', json: 'jsonl' };

/**
 * Every point of `batches` as line protocol, or as one JSON list of the
 * JSON Lines points (whose lines hold no raw line break: each is one
 * point). In a buffer of its own (not Node's shared pool): it is moved.
 */
function echoed(batches: readonly EncodedBatch[], echo: EchoFormat): Uint8Array {
  const parts = batches.map((batch) => (echo === 'lp' ? batch.lineProtocol : batch.jsonl)!);
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  if (echo === 'json' && length === 0) return new TextEncoder().encode('[]');
  const bytes = Buffer.allocUnsafeSlow(length + (echo === 'json' ? 1 : 0));
  let at = echo === 'json' ? 1 : 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  if (echo === 'lp') return bytes;
  bytes[0] = Char.OpenBracket;
  for (let i = 1; i < bytes.length; i++) if (bytes[i] === Char.Lf) bytes[i] = Char.Comma;
  bytes[bytes.length - 1] = Char.CloseBracket; // the last point's line break
  return bytes;
}
