import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { formatBytes } from '../../schema/units.js';
import type { OutputEvents } from '../../telemetry/events/output-events.js';
import { recordBytes, recordHead, SEGMENT_MAGIC, type BufferRecord, type StoredRecord } from './segment-format.js';
import { readRecordsAt, recoverSegments, segmentName, syncDir, writeAck, writeFully, type BufferPosition, type Segment } from './segment-files.js';

/** The records one read returns; acknowledging it moves the buffer past them. */
export interface BufferWindow {
  records: StoredRecord[];
  points: number;
  end: BufferPosition;
  /** Points of the window per segment, for the accounting at `ack`. */
  spans: Map<number, number>;
}

export interface DiskBufferOptions {
  dir: string;
  /** The bound on the segment files together. */
  maxBytes: number;
  /** Where it reports what it found wrong at open. */
  events: OutputEvents;
  /** Points given up to keep within maxBytes; called before `append` resolves. */
  onDrop(points: number, reason: string): void;
}

interface PendingAppend {
  record: BufferRecord;
  /** With whether the record is on disk: false when it was dropped (and reported) to keep within maxBytes. */
  resolve(stored: boolean): void;
  /** Set when the record was given up to keep within maxBytes. */
  dropped?: boolean;
  reject(err: unknown): void;
}

/** The largest segment; the buffer drops whole segments, so this is how much a full buffer gives up at once. */
const MAX_SEGMENT_BYTES = 16 * 1024 ** 2;
/** Bounds of one read when collecting a window; a larger record is read whole. */
const MIN_READ_BYTES = 64 * 1024;
const MAX_READ_BYTES = 4 * 1024 ** 2;
/**
 * A write-ahead log of batches for one output: appends are synced to disk
 * before they resolve (concurrent appends share one write and one fdatasync),
 * a sender reads windows from the oldest unacknowledged record and
 * acknowledges them once delivered, and the acknowledged position survives
 * restarts in ack.json. Segments wholly acknowledged are deleted.
 *
 * Bounded by `maxBytes`: when a batch does not fit, the oldest segments are
 * dropped (and reported through onDrop), except those under the window being
 * sent; if even that is not enough, the new batch is dropped.
 *
 * Windows in flight: the sender may read the next window while the one
 * before it is being sent (reads one after another, each starting where the
 * last one ended) and acknowledges them in the order it read them.
 */
export class DiskBuffer {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  readonly #onDrop: (points: number, reason: string) => void;
  readonly #segments: Segment[] = [];
  #writer: FileHandle | undefined;
  #ack: BufferPosition = { segment: 0, offset: SEGMENT_MAGIC.length };
  /** Windows read and not yet acknowledged, oldest first: their segments are not dropped, and the next read starts after the last. */
  readonly #inFlight: BufferWindow[] = [];
  /** Points of the windows in flight. */
  #inFlightPoints = 0;
  #bytes = 0;
  #points = 0;
  /** Bumped by every dropped segment, so a read that raced with one starts over. */
  #drops = 0;
  #queue: PendingAppend[] = [];
  #committing: Promise<void> | undefined;
  #closed = false;
  /** The first segment this run wrote: older ones are what a previous run left. */
  #firstOfThisRun = 0;
  /**
   * The segment the sender reads, kept open from one window to the next
   * (opening and closing it for every read took as long as the read). Only
   * the sender opens and closes it; a segment deleted meanwhile stays
   * readable until the sender moves on.
   */
  #reader: { seq: number; handle: FileHandle } | undefined;

  private constructor(options: DiskBufferOptions) {
    this.#dir = options.dir;
    this.#maxBytes = options.maxBytes;
    this.#segmentBytes = Math.min(MAX_SEGMENT_BYTES, Math.max(4096, Math.floor(options.maxBytes / 8)));
    this.#onDrop = options.onDrop;
  }

  /** Opens (creating if needed) the buffer in `dir`, recovering what a previous run left. */
  static async open(options: DiskBufferOptions): Promise<DiskBuffer> {
    const buffer = new DiskBuffer(options);
    await mkdir(options.dir, { recursive: true });
    const { segments, ack } = await recoverSegments(options.dir, options.events);
    buffer.#resume(segments, ack);
    await buffer.#startSegment();
    buffer.#firstOfThisRun = buffer.#current.seq;
    return buffer;
  }

  /** Points appended and not yet acknowledged or dropped. */
  get points(): number {
    return this.#points;
  }

  /** Points appended and not yet read into a window: what the next read can take. */
  get unreadPoints(): number {
    return this.#points - this.#inFlightPoints;
  }

  /** Bytes of all segment files. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Resolves true once the record is on disk, false when it was dropped (and reported); rejects on an I/O error. */
  append(record: BufferRecord): Promise<boolean> {
    if (this.#closed) return Promise.reject(new Error(`the buffer in ${this.#dir} is closed`));
    return new Promise((resolve, reject) => {
      this.#queue.push({ record, resolve, reject });
      this.#committing ??= this.#commitQueued();
    });
  }

  /** Up to `maxPoints` points (at least one record) from where the last window in flight ends, else from the oldest unacknowledged one; undefined when there are none. */
  async read(maxPoints: number): Promise<BufferWindow | undefined> {
    for (;;) {
      const drops = this.#drops;
      try {
        const window = await this.#readWindow(this.#inFlight.at(-1)?.end ?? this.#ack, maxPoints);
        if (drops !== this.#drops) continue;
        if (window) {
          this.#inFlight.push(window);
          this.#inFlightPoints += window.points;
        }
        return window;
      } catch (err) {
        // A segment dropped under the read (ENOENT): read again from the new oldest.
        if (drops === this.#drops) throw err;
      }
    }
  }

  /**
   * Marks the window delivered: moves the position past it at once (the next
   * windows are counted from there), then persists it and deletes the
   * segments behind it. One acknowledgement at a time, oldest window first.
   */
  async ack(window: BufferWindow): Promise<void> {
    if (this.#inFlight[0] !== window) throw new Error('buffer: windows must be acknowledged in the order they were read');
    this.#inFlight.shift();
    this.#inFlightPoints -= window.points;
    for (const [seq, points] of window.spans) {
      const segment = this.#segments.find((s) => s.seq === seq);
      if (!segment) continue;
      segment.ackedPoints += points;
      this.#points -= points;
    }
    this.#ack = window.end;
    await writeAck(this.#dir, this.#ack);
    await this.#deleteAcknowledged();
  }

  /** Waits for appends in progress, then closes the segment being written. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#committing;
    await this.#reader?.handle.close().catch(() => {});
    this.#reader = undefined;
    await this.#writer?.close();
    this.#writer = undefined;
  }

  async #commitQueued(): Promise<void> {
    while (this.#queue.length > 0) await this.#commit(this.#queue.splice(0));
    this.#committing = undefined;
  }

  /** Writes a group of appends: one writev and one fdatasync per segment touched. */
  async #commit(group: PendingAppend[]): Promise<void> {
    const settled = new Set<PendingAppend>();
    let batch: { entries: PendingAppend[]; buffers: Uint8Array[]; bytes: number; points: number } = { entries: [], buffers: [], bytes: 0, points: 0 };
    const flush = async (): Promise<void> => {
      const { entries, buffers, bytes, points } = batch;
      batch = { entries: [], buffers: [], bytes: 0, points: 0 };
      if (bytes > 0) {
        const segment = this.#current;
        await writeFully(this.#writer!, buffers, segment.committed);
        await this.#writer!.datasync();
        segment.committed += bytes;
        segment.points += points;
        this.#bytes += bytes;
        this.#points += points;
      }
      for (const entry of entries) {
        entry.resolve(!entry.dropped);
        settled.add(entry);
      }
    };
    try {
      for (const entry of group) {
        const { record } = entry;
        const size = recordBytes(record);
        if (SEGMENT_MAGIC.length + size > this.#maxBytes) {
          this.#onDrop(record.points, `a batch of ${formatBytes(size)} does not fit in buffer_size (${formatBytes(this.#maxBytes)})`);
          entry.dropped = true;
          batch.entries.push(entry);
          continue;
        }
        const filled = this.#current.committed + batch.bytes;
        if (filled > SEGMENT_MAGIC.length && filled + size > this.#segmentBytes) {
          await flush();
          await this.#startSegment();
        }
        while (this.#bytes + batch.bytes + size > this.#maxBytes && (await this.#dropOldest())) {
          // each round frees one segment
        }
        batch.entries.push(entry);
        if (this.#bytes + batch.bytes + size > this.#maxBytes) {
          this.#onDrop(record.points, `buffer_size (${formatBytes(this.#maxBytes)}) is full and what it holds is being sent`);
          entry.dropped = true;
          continue;
        }
        batch.buffers.push(recordHead(record), record.payload);
        batch.bytes += size;
        batch.points += record.points;
      }
      await flush();
    } catch (err) {
      // Nothing past `committed` counts: the next write goes over whatever half-write this left.
      for (const entry of group) if (!settled.has(entry)) entry.reject(err);
    }
  }

  get #current(): Segment {
    return this.#segments[this.#segments.length - 1]!;
  }

  /** Opens a new segment for writing; the previous one is complete from now on. */
  async #startSegment(): Promise<void> {
    const seq = (this.#segments.at(-1)?.seq ?? this.#ack.segment) + 1;
    const file = path.join(this.#dir, segmentName(seq));
    const writer = await open(file, 'wx');
    await writer.write(SEGMENT_MAGIC, 0, SEGMENT_MAGIC.length, 0);
    await writer.datasync();
    await syncDir(this.#dir);
    await this.#writer?.close();
    this.#writer = writer;
    this.#segments.push({ seq, file, committed: SEGMENT_MAGIC.length, points: 0, ackedPoints: 0 });
    this.#bytes += SEGMENT_MAGIC.length;
    if (this.#segments.length === 1) this.#ack = { segment: seq, offset: SEGMENT_MAGIC.length };
    await this.#deleteAcknowledged();
  }

  /** Drops the oldest segment that is neither written nor being sent; false when there is none. */
  async #dropOldest(): Promise<boolean> {
    const inFlightUpTo = this.#inFlight.at(-1)?.end.segment ?? -1;
    const index = this.#segments.findIndex((s) => s !== this.#current && s.seq > inFlightUpTo);
    if (index < 0) return false;
    const [victim] = this.#segments.splice(index, 1) as [Segment];
    this.#drops++;
    await rm(victim.file, { force: true });
    this.#bytes -= victim.committed;
    const lost = victim.points - victim.ackedPoints;
    this.#points -= lost;
    if (this.#ack.segment === victim.seq) this.#ack = { segment: this.#segments[index]!.seq, offset: SEGMENT_MAGIC.length };
    if (lost > 0) this.#onDrop(lost, `buffer_size (${formatBytes(this.#maxBytes)}) is full: its oldest points made room for new ones`);
    return true;
  }

  /** Deletes the segments the acknowledged position has passed, except the one being written. */
  async #deleteAcknowledged(): Promise<void> {
    while (this.#segments.length > 1) {
      const oldest = this.#segments[0]!;
      const passed = oldest.seq < this.#ack.segment || (oldest.seq === this.#ack.segment && this.#ack.offset >= oldest.committed);
      if (!passed) return;
      this.#segments.shift();
      this.#bytes -= oldest.committed;
      if (oldest.seq === this.#ack.segment) this.#ack = { segment: this.#segments[0]!.seq, offset: SEGMENT_MAGIC.length };
      await rm(oldest.file, { force: true });
    }
  }

  async #readWindow(from: BufferPosition, maxPoints: number): Promise<BufferWindow | undefined> {
    const window: BufferWindow = { records: [], points: 0, end: from, spans: new Map() };
    // A copy: appends may add, delete or drop segments while this awaits.
    for (const segment of [...this.#segments]) {
      if (segment.seq < from.segment) continue;
      // What a previous run left (perhaps taken already by a receiver that then refuses it whole) goes in windows of its own.
      if (window.records.length > 0 && window.end.segment < this.#firstOfThisRun && segment.seq >= this.#firstOfThisRun) return window;
      let at = segment.seq === from.segment ? from.offset : SEGMENT_MAGIC.length;
      if (at >= segment.committed) continue;
      const reader = await this.#readerOf(segment);
      while (at < segment.committed) {
        const records = await readRecordsAt(reader, at, this.#readAhead(maxPoints - window.points), segment.committed);
        for (const record of records) {
          if (window.points > 0 && window.points + record.points > maxPoints) return window;
          window.records.push(record);
          window.points += record.points;
          window.spans.set(segment.seq, (window.spans.get(segment.seq) ?? 0) + record.points);
          window.end = { segment: segment.seq, offset: record.end };
          at = record.end;
        }
        if (window.points >= maxPoints) return window;
      }
    }
    return window.records.length > 0 ? window : undefined;
  }

  async #readerOf(segment: Segment): Promise<FileHandle> {
    if (this.#reader?.seq === segment.seq) return this.#reader.handle;
    const previous = this.#reader;
    this.#reader = undefined;
    await previous?.handle.close().catch(() => {});
    const handle = await open(segment.file, 'r');
    this.#reader = { seq: segment.seq, handle };
    return handle;
  }

  /** Bytes to read for `points` more points: what the buffer holds per point on average, and some. */
  #readAhead(points: number): number {
    const bytesPerPoint = this.#bytes / Math.max(1, this.#points);
    return Math.min(MAX_READ_BYTES, Math.max(MIN_READ_BYTES, Math.ceil(points * bytesPerPoint * 1.25)));
  }

  /** Takes over the segments a previous run left, sending from where it was acknowledged. */
  #resume(segments: Segment[], ack: BufferPosition | undefined): void {
    for (const segment of segments) {
      this.#segments.push(segment);
      this.#bytes += segment.committed;
      this.#points += segment.points - segment.ackedPoints;
    }
    const oldest = this.#segments[0];
    if (oldest && ack && oldest.seq === ack.segment && oldest.ackedPoints > 0) this.#ack = ack;
    else if (oldest) this.#ack = { segment: oldest.seq, offset: SEGMENT_MAGIC.length };
    else if (ack) this.#ack = ack;
  }
}
