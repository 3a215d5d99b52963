import { open, readdir, readFile, rename, rm, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { PythondError } from '../../errors.js';
import type { OutputEvents } from '../../telemetry/events/output-events.js';
import { parseRecords, SEGMENT_MAGIC, wholeRecordBytes, type StoredRecord } from './segment-format.js';

/** Where a record starts: a segment's sequence number and a byte offset in it. */
export interface BufferPosition {
  segment: number;
  offset: number;
}

/** One segment file of a buffer, as the buffer keeps account of it. */
export interface Segment {
  seq: number;
  file: string;
  /** Bytes that hold whole, synced records (the magic included): readers never look past it. */
  committed: number;
  points: number;
  /** Points of this segment acknowledged already; only the oldest segment has any. */
  ackedPoints: number;
}

const SEGMENT_NAME = /^(\d{16})\.wal$/;
const ACK_FILE = 'ack.json';

export const segmentName = (seq: number): string => `${String(seq).padStart(16, '0')}.wal`;

/**
 * The segments a previous run left in `dir`, and the acknowledged position:
 * segments behind it are deleted, a record torn by a crash is cut off (and
 * reported), empty segments go. Each start then writes to a new segment.
 */
export async function recoverSegments(dir: string, events: OutputEvents): Promise<{ segments: Segment[]; ack: BufferPosition | undefined }> {
  const ack = await readAck(dir, events);
  const segments: Segment[] = [];
  const names = (await readdir(dir)).filter((name) => SEGMENT_NAME.test(name)).sort();
  for (const name of names) {
    const seq = Number(SEGMENT_NAME.exec(name)![1]);
    const file = path.join(dir, name);
    if (ack && seq < ack.segment) {
      await rm(file, { force: true });
      continue;
    }
    const bytes = await readFile(file);
    if (bytes.length < SEGMENT_MAGIC.length || !bytes.subarray(0, SEGMENT_MAGIC.length).equals(SEGMENT_MAGIC)) {
      if (bytes.length < SEGMENT_MAGIC.length && SEGMENT_MAGIC.subarray(0, bytes.length).equals(bytes)) {
        await rm(file, { force: true }); // created just before a crash, before its magic was written
        continue;
      }
      throw new PythondError(
        'BUFFER_CORRUPT',
        `${file} is not a pythond buffer segment (it does not start with ${SEGMENT_MAGIC.toString('latin1')}); move it out of ${dir} and start again`,
      );
    }
    const parsed = parseRecords(bytes.subarray(SEGMENT_MAGIC.length), SEGMENT_MAGIC.length, true);
    if (parsed.problem) {
      events.segmentCut(file, parsed.problem, { offset: parsed.end, fileBytes: bytes.length, recordsKept: parsed.records.length });
      await truncate(file, parsed.end);
    }
    const segment: Segment = { seq, file, committed: parsed.end, points: 0, ackedPoints: 0 };
    for (const record of parsed.records) segment.points += record.points;
    if (ack && seq === ack.segment) segment.ackedPoints = pointsBefore(parsed.records, ack.offset, file, events);
    if (segment.points === segment.ackedPoints && (segment.points === 0 || seq === ack?.segment)) {
      await rm(file, { force: true });
      continue;
    }
    segments.push(segment);
  }
  return { segments, ack };
}

/** Points of `records` before `offset`, which must be a record boundary (else the whole segment is sent again). */
function pointsBefore(records: StoredRecord[], offset: number, file: string, events: OutputEvents): number {
  let points = 0;
  for (const record of records) {
    if (record.end > offset) break;
    points += record.points;
    if (record.end === offset) return points;
  }
  if (offset === SEGMENT_MAGIC.length) return 0;
  events.ackInsideRecord(ACK_FILE, file, offset);
  return 0;
}

async function readAck(dir: string, events: OutputEvents): Promise<BufferPosition | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dir, ACK_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const value = JSON.parse(text) as Partial<BufferPosition>;
    if (Number.isSafeInteger(value.segment) && Number.isSafeInteger(value.offset)) return { segment: value.segment!, offset: value.offset! };
  } catch {
    // reported below
  }
  events.ackUnreadable(path.join(dir, ACK_FILE), dir);
  return undefined;
}

/** Replaces ack.json atomically; not synced: losing it to a power cut only means sending some points twice. */
export async function writeAck(dir: string, ack: BufferPosition): Promise<void> {
  const file = path.join(dir, ACK_FILE);
  await writeFile(`${file}.tmp`, JSON.stringify(ack));
  await rename(`${file}.tmp`, file);
}

/** Makes a file created in `dir` survive a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Like writev, but goes on after a short write, which POSIX allows (a disk filling up, a signal). */
export async function writeFully(writer: FileHandle, buffers: Uint8Array[], position: number): Promise<void> {
  let rest = buffers;
  while (rest.length > 0) {
    let { bytesWritten } = await writer.writev(rest, position);
    position += bytesWritten;
    let i = 0;
    while (i < rest.length && bytesWritten >= rest[i]!.byteLength) bytesWritten -= rest[i++]!.byteLength;
    rest = rest.slice(i);
    if (rest.length > 0 && bytesWritten > 0) rest[0] = rest[0]!.subarray(bytesWritten);
  }
}

/** Whole records from `at`, reading `bytes` (or one record whole, when it is larger), never past `end`. */
export async function readRecordsAt(reader: FileHandle, at: number, bytes: number, end: number): Promise<StoredRecord[]> {
  const chunk = await readExactly(reader, at, Math.min(end - at, bytes));
  const { records } = parseRecords(chunk, at, false);
  if (records.length > 0) return records;
  const size = wholeRecordBytes(chunk);
  if (size === undefined || at + size > end) throw new Error(`buffer: no whole record at byte ${at} (the segment is shorter than its index says)`);
  return parseRecords(await readExactly(reader, at, size), at, false).records;
}

async function readExactly(reader: FileHandle, position: number, length: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await reader.read(bytes, filled, length - filled, position + filled);
    if (bytesRead === 0) throw new Error(`buffer: unexpected end of segment at byte ${position + filled}`);
    filled += bytesRead;
  }
  return bytes;
}
