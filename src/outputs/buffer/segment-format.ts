import { crc32 } from 'node:zlib';
import { CATEGORIES, type Category } from '../../points/point.js';

/**
 * The bytes of the output buffer on disk. A segment file starts with
 * SEGMENT_MAGIC, then holds records back to back:
 *
 *     u32le payload length
 *     u32le CRC-32 of everything after this field (points, category, payload)
 *     u32le points
 *     u8    category length, then the category name (ASCII)
 *           payload: the batch in the output's encoding
 *
 * The length comes first so a reader can step over a record without looking
 * inside; the CRC lets recovery tell a record torn by a crash from a whole one.
 */

/** Names the format and its version; a segment without it is not ours. */
export const SEGMENT_MAGIC = Buffer.from('PYDBUF01', 'latin1');

const FIXED_HEAD_BYTES = 13;

/** One batch as the buffer keeps it. */
export interface BufferRecord {
  category: Category;
  points: number;
  payload: Uint8Array;
}

/** A record read back, with where it sits in its segment file. */
export interface StoredRecord extends BufferRecord {
  offset: number;
  end: number;
}

export function recordBytes(record: BufferRecord): number {
  return FIXED_HEAD_BYTES + record.category.length + record.payload.byteLength;
}

/** Everything of a record but its payload, which is written as it is (no copy). */
export function recordHead(record: BufferRecord): Buffer {
  const category = Buffer.from(record.category, 'latin1');
  const head = Buffer.allocUnsafe(FIXED_HEAD_BYTES + category.length);
  head.writeUInt32LE(record.payload.byteLength, 0);
  head.writeUInt32LE(record.points, 8);
  head.writeUInt8(category.length, 12);
  category.copy(head, FIXED_HEAD_BYTES);
  head.writeUInt32LE(crc32(record.payload, crc32(head.subarray(8))), 4);
  return head;
}

/** The size of the record starting at `bytes[0]`, once its head is there. */
export function wholeRecordBytes(bytes: Buffer): number | undefined {
  if (bytes.length < FIXED_HEAD_BYTES) return undefined;
  return FIXED_HEAD_BYTES + bytes.readUInt8(12) + bytes.readUInt32LE(0);
}

export interface ParsedRecords {
  records: StoredRecord[];
  /** File offset just after the last whole record. */
  end: number;
  /** Why reading stopped before the end of `bytes`: a cut-off record, or one that fails its checks. */
  problem?: 'incomplete' | 'corrupt';
}

/**
 * The whole records in `bytes`, which starts at file offset `base`. Payloads
 * are views into `bytes`. With `verify`, CRCs and categories are checked
 * (recovery after a crash); a running buffer reads back only what it wrote.
 */
export function parseRecords(bytes: Buffer, base: number, verify: boolean): ParsedRecords {
  const records: StoredRecord[] = [];
  let at = 0;
  while (at < bytes.length) {
    const size = wholeRecordBytes(bytes.subarray(at));
    if (size === undefined || at + size > bytes.length) return { records, end: base + at, problem: 'incomplete' };
    const categoryLength = bytes.readUInt8(at + 12);
    const category = bytes.toString('latin1', at + FIXED_HEAD_BYTES, at + FIXED_HEAD_BYTES + categoryLength) as Category;
    if (verify) {
      const sum = crc32(bytes.subarray(at + 8, at + size));
      if (sum !== bytes.readUInt32LE(at + 4) || !CATEGORIES.includes(category)) return { records, end: base + at, problem: 'corrupt' };
    }
    records.push({
      category,
      points: bytes.readUInt32LE(at + 8),
      payload: bytes.subarray(at + FIXED_HEAD_BYTES + categoryLength, at + size),
      offset: base + at,
      end: base + at + size,
    });
    at += size;
  }
  return { records, end: base + at };
}
