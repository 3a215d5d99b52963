import { move, transferableSymbol, valueSymbol } from 'piscina';
import type { Category, EncodedBatch, Encoding, Precision } from '../src/points/point.js';
import { encodeJsonLine, encodeLineProtocol } from './encode.js';
import { InvalidPoint, validatePoint } from './validate-point.js';

export interface DecodeResult {
  batches: EncodedBatch[];
  /** Points accepted. */
  points: number;
  /** Points rejected (or whole messages that could not be read). */
  invalid: number;
  /** The first few rejections, each naming the point. */
  errors: string[];
}

const MAX_ERRORS = 5;
/**
 * Points per EncodedBatch at most. A report of a million points becomes a
 * hundred batches, so remote outputs can pack requests near their batch_size
 * (servers cap request bodies) without ever parsing line protocol.
 */
export const MAX_POINTS_PER_BATCH = 10_000;

interface CategoryText {
  category: Category;
  points: number;
  jsonl: string;
  lineProtocol: string;
}

/** Collects validated points per category and encodes them, for one task. */
export class PointBatcher {
  // Strings grow by concatenation (V8 keeps them as ropes): far less garbage than arrays of lines joined.
  // The batch being filled, per category; full ones wait in #full.
  readonly #filling = new Map<Category, CategoryText>();
  readonly #full: CategoryText[] = [];
  readonly #jsonl: boolean;
  readonly #lineProtocol: boolean;
  #points = 0;
  #invalid = 0;
  readonly #errors: string[] = [];

  constructor(encodings: Encoding[]) {
    this.#jsonl = encodings.includes('jsonl');
    this.#lineProtocol = encodings.includes('lineProtocol');
  }

  add(category: Category, raw: unknown, where: string, precision: Precision, receivedAtNs: bigint, extraTags: Record<string, string>): void {
    let point;
    try {
      point = validatePoint(raw, category, precision, receivedAtNs);
    } catch (err) {
      if (!(err instanceof InvalidPoint)) throw err;
      this.reject(`${where}: ${err.message}`);
      return;
    }
    for (const key in extraTags) if (!(key in point.tags)) point.tags[key] = extraTags[key]!;

    let entry = this.#filling.get(category);
    if (!entry || entry.points === MAX_POINTS_PER_BATCH) {
      if (entry) this.#full.push(entry);
      this.#filling.set(category, (entry = { category, points: 0, jsonl: '', lineProtocol: '' }));
    }
    entry.points++;
    this.#points++;
    if (this.#jsonl) entry.jsonl += encodeJsonLine(category, point);
    if (this.#lineProtocol) entry.lineProtocol += encodeLineProtocol(point);
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

  /** The result, with its byte buffers moved (not copied) to the main thread. */
  finish(): DecodeResult {
    const encoder = new TextEncoder();
    const batches: EncodedBatch[] = [];
    const buffers: ArrayBuffer[] = [];
    const encode = (text: string): Uint8Array => {
      const bytes = encoder.encode(text);
      buffers.push(bytes.buffer as ArrayBuffer);
      return bytes;
    };
    for (const entry of [...this.#full, ...this.#filling.values()]) {
      const batch: EncodedBatch = { category: entry.category, points: entry.points };
      if (this.#jsonl) batch.jsonl = encode(entry.jsonl);
      if (this.#lineProtocol) batch.lineProtocol = encode(entry.lineProtocol);
      batches.push(batch);
    }
    const result: DecodeResult = { batches, points: this.#points, invalid: this.#invalid, errors: this.#errors };
    return move({ [transferableSymbol]: buffers, [valueSymbol]: result } as never) as unknown as DecodeResult;
  }
}
