import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { DiskBuffer } from '../../src/outputs/buffer/disk-buffer.js';
import type { BufferRecord } from '../../src/outputs/buffer/segment-format.js';
import type { Category } from '../../src/points/point.js';
import { OutputEvents } from '../../src/telemetry/events/output-events.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { tempTree } from '../helpers/fixtures.js';

/** A batch of `points` lines of line protocol, numbered from `first`. */
function batch(first: number, points: number, category: Category = 'metric'): BufferRecord {
  let text = '';
  for (let i = first; i < first + points; i++) text += `m,batch=${first} n=${i} ${i}\n`;
  return { category, points, payload: Buffer.from(text) };
}

async function openBuffer(dir: string, maxBytes = 1024 ** 2) {
  const drops: { points: number; reason: string }[] = [];
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });
  const metrics = createMetrics('test');
  const events = new OutputEvents('influxdb[0]', log, metrics);
  const buffer = await DiskBuffer.open({ dir, maxBytes, events, onDrop: (points, reason) => drops.push({ points, reason }) });
  /** What pythond_output_buffer_errors_total counts, by reason. */
  const errors = async (): Promise<Record<string, number>> =>
    Object.fromEntries((await metrics.outputBufferErrors.get()).values.map(({ labels, value }) => [labels.reason, value]));
  return { buffer, drops, warnings, errors };
}

/** A batch whose record on disk is exactly 1019 bytes (a 13-byte head, "metric", 1000 bytes of payload): 8 fit in a segment of a 64 KiB buffer. */
function kilobatch(n: number): BufferRecord {
  return { category: 'metric', points: 10, payload: Buffer.from(`${`m n=${n}`.padEnd(999, ' ')}\n`) };
}

/** The sizes of the segment files, oldest first. */
const segmentSizes = (dir: string): number[] => segments(dir).map((name) => statSync(path.join(dir, name)).size);

/** Reads and acknowledges everything; the payloads as text. */
async function drain(buffer: DiskBuffer, windowPoints = 1_000_000): Promise<string[]> {
  const payloads: string[] = [];
  for (let window = await buffer.read(windowPoints); window; window = await buffer.read(windowPoints)) {
    payloads.push(...window.records.map((record) => Buffer.from(record.payload).toString()));
    await buffer.ack(window);
  }
  return payloads;
}

const segments = (dir: string): string[] =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.wal'))
    .sort();

test('appended batches come back in order with their category and point count', async () => {
  const { buffer } = await openBuffer(tempTree());
  await Promise.all([buffer.append(batch(0, 3)), buffer.append(batch(3, 2, 'logging')), buffer.append(batch(5, 1))]);
  assert.equal(buffer.points, 6);
  const window = await buffer.read(100);
  assert.deepEqual(
    window?.records.map(({ category, points, payload }) => ({ category, points, text: Buffer.from(payload).toString() })),
    [batch(0, 3), batch(3, 2, 'logging'), batch(5, 1)].map(({ category, points, payload }) => ({ category, points, text: payload.toString() })),
  );
  await buffer.close();
});

test('a window holds up to the points asked for, and always at least one batch', async () => {
  const { buffer } = await openBuffer(tempTree());
  for (const first of [0, 4, 8]) await buffer.append(batch(first, 4));
  const first = await buffer.read(9);
  assert.equal(first?.points, 8);
  await buffer.ack(first!);
  const second = await buffer.read(2);
  assert.equal(second?.points, 4, 'a batch larger than the window is not split');
  await buffer.ack(second!);
  assert.equal(await buffer.read(10), undefined);
  assert.equal(buffer.points, 0);
  await buffer.close();
});

test('a batch larger than one read comes back whole', async () => {
  const { buffer } = await openBuffer(tempTree(), 16 * 1024 ** 2);
  await buffer.append(batch(0, 1));
  await buffer.append(batch(1, 30_000)); // about 800 KiB, while a window of 2 points reads 64 KiB
  await buffer.ack((await buffer.read(2))!);
  const window = await buffer.read(2);
  assert.deepEqual(
    window?.records.map((record) => record.points),
    [30_000],
  );
  assert.equal(Buffer.from(window!.records[0]!.payload).toString(), batch(1, 30_000).payload.toString());
  await buffer.close();
});

test('a reopened buffer resumes after the last acknowledged window', async () => {
  const dir = tempTree();
  const first = await openBuffer(dir);
  for (const start of [0, 10, 20]) await first.buffer.append(batch(start, 10));
  await first.buffer.ack((await first.buffer.read(10))!);
  await first.buffer.close();

  const second = await openBuffer(dir);
  assert.equal(second.buffer.points, 20);
  assert.deepEqual(
    await drain(second.buffer),
    [batch(10, 10), batch(20, 10)].map((b) => b.payload.toString()),
  );
  await second.buffer.close();
});

test('a batch torn by a crash is cut off at open, and the batches before it survive', async () => {
  const dir = tempTree();
  const first = await openBuffer(dir);
  await first.buffer.append(batch(0, 5));
  await first.buffer.append(batch(5, 5));
  await first.buffer.close();
  const [segment] = segments(dir);
  const file = path.join(dir, segment!);
  truncateSync(file, statSync(file).size - 7); // the last write only partly reached the disk

  const second = await openBuffer(dir);
  assert.equal(second.buffer.points, 5);
  assert.deepEqual(await drain(second.buffer), [batch(0, 5).payload.toString()]);
  await second.buffer.close();
});

test('a damaged batch is found by its checksum and cut off with everything after it', async () => {
  const dir = tempTree();
  const first = await openBuffer(dir);
  await first.buffer.append(batch(0, 5));
  await first.buffer.close();
  appendFileSync(path.join(dir, segments(dir)[0]!), Buffer.from([40, 0, 0, 0, 1, 2, 3, 4, 1, 0, 0, 0, 6, ...Buffer.from('metric'), ...Buffer.alloc(40, 120)]));

  const second = await openBuffer(dir);
  assert.deepEqual(await drain(second.buffer), [batch(0, 5).payload.toString()]);
  await second.buffer.close();
});

test('a full buffer drops its oldest segment and reports the points lost', async () => {
  const { buffer, drops } = await openBuffer(tempTree(), 64 * 1024);
  const size = batch(0, 100).payload.length; // about 2.3 KiB
  const batches = Math.ceil((2 * 64 * 1024) / size);
  for (let i = 0; i < batches; i++) await buffer.append(batch(i * 100, 100));

  const dropped = drops.reduce((sum, drop) => sum + drop.points, 0);
  assert.ok(dropped > 0, 'something was dropped');
  assert.match(drops[0]!.reason, /buffer_size \(64 KiB\) is full: its oldest points made room/);
  assert.ok(buffer.bytes <= 64 * 1024);
  assert.equal(buffer.points, batches * 100 - dropped);
  const kept = await drain(buffer);
  assert.equal(kept.at(-1), batch((batches - 1) * 100, 100).payload.toString(), 'the newest batch is kept');
  assert.equal(kept[0], batch(dropped, 100).payload.toString(), 'what is left starts right after what was dropped');
  await buffer.close();
});

test('segments under the window being sent are not dropped; a new batch that does not fit is', async () => {
  const { buffer, drops } = await openBuffer(tempTree(), 64 * 1024);
  const big = batch(0, 1000); // about 25 KiB: one per 8 KiB segment
  await buffer.append(big);
  await buffer.append(batch(1000, 1000));
  const window = await buffer.read(2000);
  assert.equal(window?.points, 2000);

  await buffer.append(batch(2000, 1000));
  assert.deepEqual(
    drops.map((drop) => drop.points),
    [1000],
  );
  assert.match(drops[0]!.reason, /is full and what it holds is being sent/);
  await buffer.ack(window!);
  assert.equal(buffer.points, 0);
  assert.equal(await buffer.append(batch(3000, 10)), true, 'the segment being written was kept');
  assert.deepEqual(await drain(buffer), [batch(3000, 10).payload.toString()]);
  await buffer.close();
});

test('a batch larger than buffer_size is dropped and reported', async () => {
  const { buffer, drops } = await openBuffer(tempTree(), 64 * 1024);
  await buffer.append(batch(0, 5000));
  assert.equal(drops.length, 1);
  assert.match(drops[0]!.reason, /does not fit in buffer_size \(64 KiB\)/);
  assert.equal(buffer.points, 0);
  await buffer.close();
});

test('acknowledged segments are deleted from disk', async () => {
  const dir = tempTree();
  const { buffer } = await openBuffer(dir, 64 * 1024);
  for (let i = 0; i < 10; i++) await buffer.append(batch(i * 200, 200));
  assert.ok(segments(dir).length > 3);
  await drain(buffer);
  assert.equal(segments(dir).length, 1, 'only the segment being written remains');
  await buffer.close();
});

for (const content of ['something else entirely', 'XY']) {
  test(`a file named like a segment that is not one (${JSON.stringify(content)}) stops the open with an error naming it`, async () => {
    const dir = tempTree();
    writeFileSync(path.join(dir, '0000000000000001.wal'), content);
    await assert.rejects(openBuffer(dir), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'BUFFER_CORRUPT');
      assert.match(err.message, /0000000000000001\.wal is not a pythond buffer segment.*move it out of/);
      return true;
    });
  });
}

test('fills a segment up to an eighth of buffer_size, then starts the next one; a batch larger than that gets a segment of its own', async () => {
  const dir = tempTree();
  const { buffer } = await openBuffer(dir, 64 * 1024);
  // 8 + 8 × 1019 = 8160 bytes fit in 8 KiB; the 9th batch opens a new segment.
  await Promise.all(Array.from({ length: 20 }, (_, n) => buffer.append(kilobatch(n))));
  assert.deepEqual(segmentSizes(dir), [8160, 8160, 4084]);
  const big = { category: 'metric' as const, points: 1, payload: Buffer.alloc(10_000, 120) };
  assert.equal(await buffer.append(big), true);
  assert.equal(await buffer.append(kilobatch(20)), true);
  assert.deepEqual(segmentSizes(dir), [8160, 8160, 4084, 10_027, 1027]);
  assert.equal(buffer.bytes, 8160 + 8160 + 4084 + 10_027 + 1027, 'bytes: what the segment files hold');
  await buffer.close();
});

test('keeps a batch as large as buffer_size allows, and drops one a byte larger', async () => {
  const { buffer, drops } = await openBuffer(tempTree(), 4096);
  const payload = (bytes: number) => ({ category: 'metric' as const, points: 1, payload: Buffer.alloc(bytes, 120) });
  // 8 bytes of magic + 13 of head + "metric" + payload = 4096
  assert.equal(await buffer.append(payload(4069)), true);
  assert.equal(buffer.points, 1);
  assert.equal(await buffer.append(payload(4070)), false);
  assert.deepEqual(drops, [{ points: 1, reason: 'a batch of 4089 bytes does not fit in buffer_size (4 KiB)' }]);
  await buffer.close();
});

test('counts its bytes and points as the segment files hold them, through appends, acknowledgements and drops', async () => {
  const dir = tempTree();
  const { buffer } = await openBuffer(dir, 64 * 1024);
  const onDisk = () => segmentSizes(dir).reduce((sum, size) => sum + size, 0);
  for (let n = 0; n < 30; n++) await buffer.append(kilobatch(n));
  assert.deepEqual([buffer.bytes, buffer.points], [onDisk(), 300]);
  await buffer.ack((await buffer.read(95))!); // 9 batches: all of the first segment and one of the second
  assert.deepEqual([buffer.bytes, buffer.points], [onDisk(), 210]);
  for (let n = 30; n < 80; n++) await buffer.append(kilobatch(n)); // past 64 KiB: the oldest segments go
  assert.deepEqual([buffer.bytes, buffer.points], [onDisk(), (await drain(buffer)).length * 10]);
  assert.ok(buffer.bytes <= 64 * 1024);
  await buffer.close();
});

test('deletes a segment as soon as its last batch is acknowledged', async () => {
  const dir = tempTree();
  const { buffer } = await openBuffer(dir, 64 * 1024);
  for (let n = 0; n < 9; n++) await buffer.append(kilobatch(n)); // 8 in the first segment, 1 in the second
  await buffer.ack((await buffer.read(80))!);
  assert.deepEqual(segmentSizes(dir), [1027]);
  await buffer.close();
});

test('counts only the points not yet acknowledged as lost when a full buffer drops a segment', async () => {
  const { buffer, drops } = await openBuffer(tempTree(), 64 * 1024);
  for (let n = 0; n < 8; n++) await buffer.append(kilobatch(n)); // the first segment
  await buffer.ack((await buffer.read(30))!); // 3 of its 8 batches
  // 8 full segments hold 65280 bytes: the 65th batch, in a 9th segment, does not fit in 64 KiB.
  for (let n = 8; n < 65; n++) await buffer.append(kilobatch(n));
  assert.deepEqual(drops[0], { points: 50, reason: 'buffer_size (64 KiB) is full: its oldest points made room for new ones' });
  const kept = await drain(buffer);
  assert.equal(kept[0], kilobatch(8).payload.toString(), 'what is left starts with the second segment');
  await buffer.close();
});

test('drops the oldest segment not under the window being sent when a batch does not fit', async () => {
  const { buffer, drops } = await openBuffer(tempTree(), 64 * 1024);
  for (let n = 0; n < 8; n++) await buffer.append(kilobatch(n)); // the first segment
  const window = (await buffer.read(80))!;
  for (let n = 8; n < 65; n++) await buffer.append(kilobatch(n));
  assert.deepEqual(
    drops.map((drop) => drop.points),
    [80],
    'the second segment, not the one being sent, nor the new batch',
  );
  await buffer.ack(window);
  assert.equal((await drain(buffer))[0], kilobatch(16).payload.toString());
  await buffer.close();
});

test('reads the next window while one is in flight, and counts only the unread points as waiting', async () => {
  const { buffer } = await openBuffer(tempTree());
  for (let n = 0; n < 6; n++) await buffer.append(batch(n * 10, 10));
  const first = (await buffer.read(20))!;
  assert.equal(buffer.unreadPoints, 40);
  const second = (await buffer.read(20))!;
  assert.deepEqual(
    [first, second].map((window) => window.records.map((record) => record.points)),
    [
      [10, 10],
      [10, 10],
    ],
  );
  assert.equal(Buffer.from(second.records[0]!.payload).toString(), batch(20, 10).payload.toString(), 'the second window starts where the first ends');
  assert.equal(buffer.unreadPoints, 20);
  assert.equal(buffer.points, 60, 'points in flight are still held');
  await assert.rejects(buffer.ack(second), /acknowledged in the order they were read/);
  await buffer.ack(first);
  await buffer.ack(second);
  assert.equal(buffer.points, 20);
  assert.deepEqual(
    await drain(buffer),
    [batch(40, 10), batch(50, 10)].map((b) => b.payload.toString()),
  );
  await buffer.close();
});

test('a reopened buffer sends again the windows that were read but not acknowledged, the one acknowledged not', async () => {
  const dir = tempTree();
  const first = await openBuffer(dir);
  for (let n = 0; n < 3; n++) await first.buffer.append(batch(n * 10, 10));
  const acknowledged = (await first.buffer.read(10))!;
  await first.buffer.read(10); // in flight when the runner stopped
  await first.buffer.ack(acknowledged);
  await first.buffer.close();
  const second = await openBuffer(dir);
  assert.deepEqual(
    await drain(second.buffer),
    [batch(10, 10), batch(20, 10)].map((b) => b.payload.toString()),
  );
  await second.buffer.close();
});

test('a full buffer drops no segment under any window in flight', async () => {
  const { buffer, drops } = await openBuffer(tempTree(), 64 * 1024);
  for (let n = 0; n < 16; n++) await buffer.append(kilobatch(n)); // two segments
  const first = (await buffer.read(80))!; // the first segment
  const second = (await buffer.read(80))!; // the second
  for (let n = 16; n < 65; n++) await buffer.append(kilobatch(n));
  assert.deepEqual(
    drops.map((drop) => drop.points),
    [80],
    'the third segment, not the two being sent',
  );
  await buffer.ack(first);
  await buffer.ack(second);
  assert.equal((await drain(buffer))[0], kilobatch(24).payload.toString());
  await buffer.close();
});

test('reads on into the next segments from where it was acknowledged, once reopened too', async () => {
  const dir = tempTree();
  const first = await openBuffer(dir, 64 * 1024);
  for (let n = 0; n < 20; n++) await first.buffer.append(kilobatch(n));
  await first.buffer.ack((await first.buffer.read(30))!);
  await first.buffer.close();

  const second = await openBuffer(dir, 64 * 1024);
  assert.equal(second.buffer.points, 170);
  assert.equal(
    second.buffer.bytes,
    segmentSizes(dir).reduce((sum, size) => sum + size, 0),
  );
  assert.deepEqual(
    await drain(second.buffer, 45),
    Array.from({ length: 17 }, (_, i) => kilobatch(i + 3).payload.toString()),
  );
  await second.buffer.close();
});

test('a reopened buffer with nothing acknowledged yet sends everything again, in order', async () => {
  const dir = tempTree();
  const first = await openBuffer(dir, 64 * 1024);
  for (let n = 0; n < 20; n++) await first.buffer.append(kilobatch(n));
  await first.buffer.close();
  const second = await openBuffer(dir, 64 * 1024);
  assert.deepEqual(
    await drain(second.buffer),
    Array.from({ length: 20 }, (_, n) => kilobatch(n).payload.toString()),
  );
  await second.buffer.close();
});

test('a segment left behind the acknowledged position by a crash before its deletion is deleted at open, not sent again', async () => {
  const dir = tempTree();
  const first = await openBuffer(dir, 64 * 1024);
  for (let n = 0; n < 10; n++) await first.buffer.append(kilobatch(n)); // 8 in the first segment, 2 in the second
  const oldest = segments(dir)[0]!;
  copyFileSync(path.join(dir, oldest), path.join(dir, 'kept'));
  await first.buffer.ack((await first.buffer.read(90))!); // up to the first batch of the second segment
  await first.buffer.close();
  copyFileSync(path.join(dir, 'kept'), path.join(dir, oldest));

  const second = await openBuffer(dir, 64 * 1024);
  assert.ok(!segments(dir).includes(oldest));
  assert.deepEqual(await drain(second.buffer), [kilobatch(9).payload.toString()]);
  assert.deepEqual(second.warnings, []);
  await second.buffer.close();
});

test('segments holding no batch (a start and a stop, a crash before the magic was written) are removed at open', async () => {
  const dir = tempTree();
  await (await openBuffer(dir)).buffer.close();
  writeFileSync(path.join(dir, '0000000000000009.wal'), 'PYD');
  assert.deepEqual(segmentSizes(dir), [8, 3]);
  const { buffer } = await openBuffer(dir);
  assert.deepEqual(segmentSizes(dir), [8], 'only the (new) segment it writes to');
  assert.equal(buffer.points, 0);
  await buffer.close();
});

test('leaves alone files of its folder whose names are not segment names', async () => {
  const dir = tempTree();
  for (const name of ['notes.txt', '0000000000000001.wal.bak', 'x0000000000000002.wal']) writeFileSync(path.join(dir, name), 'not ours');
  const { buffer } = await openBuffer(dir);
  assert.equal(buffer.points, 0);
  assert.deepEqual(readdirSync(dir).sort(), ['0000000000000001.wal', '0000000000000001.wal.bak', 'notes.txt', 'x0000000000000002.wal']);
  await buffer.close();
});

for (const [what, content] of [
  ['is not JSON', 'garbage'],
  ['lacks its offset', '{"segment":1}'],
] as const) {
  test(`sends everything again, and says so, when ack.json ${what}`, async () => {
    const dir = tempTree();
    const first = await openBuffer(dir);
    for (const start of [0, 10]) await first.buffer.append(batch(start, 10));
    await first.buffer.ack((await first.buffer.read(10))!);
    await first.buffer.close();
    writeFileSync(path.join(dir, 'ack.json'), content);

    const second = await openBuffer(dir);
    assert.equal(second.buffer.points, 20);
    assert.deepEqual(second.warnings, [`buffer: ${path.join(dir, 'ack.json')} is unreadable; everything in ${dir} is sent again`]);
    assert.deepEqual(await second.errors(), { ack_unreadable: 1 });
    await second.buffer.close();
  });
}

test('sends a segment again from its start, and says so, when ack.json points inside one of its batches', async () => {
  const dir = tempTree();
  const first = await openBuffer(dir);
  for (const start of [0, 10]) await first.buffer.append(batch(start, 10));
  await first.buffer.close();
  const segment = path.join(dir, segments(dir)[0]!);
  writeFileSync(path.join(dir, 'ack.json'), JSON.stringify({ segment: 1, offset: 20 }));

  const second = await openBuffer(dir);
  assert.equal(second.buffer.points, 20);
  assert.deepEqual(second.warnings, [`buffer: ack.json points inside a record of ${segment} (byte 20); that segment is sent again from its start`]);
  assert.deepEqual(await second.errors(), { ack_mismatch: 1 });
  await second.buffer.close();
});

test('stops the open when ack.json cannot be read for another reason than its absence', async () => {
  const dir = tempTree();
  mkdirSync(path.join(dir, 'ack.json'));
  await assert.rejects(openBuffer(dir), { code: 'EISDIR' });
});

test('says what it cut off at open: a batch cut short by a crash, or a damaged one', async () => {
  const damaged = Buffer.from([40, 0, 0, 0, 1, 2, 3, 4, 1, 0, 0, 0, 6, ...Buffer.from('metric'), ...Buffer.alloc(40, 120)]); // 59 bytes, a wrong CRC
  for (const [problem, damage] of [
    ['a record cut short by a crash', (file: string) => truncateSync(file, statSync(file).size - 7)],
    ['a damaged record', (file: string) => appendFileSync(file, damaged)],
  ] as const) {
    const dir = tempTree();
    const first = await openBuffer(dir);
    await first.buffer.append(batch(0, 5));
    const file = path.join(dir, segments(dir)[0]!);
    const firstEnd = statSync(file).size;
    await first.buffer.append(batch(5, 5));
    await first.buffer.close();
    const whole = statSync(file).size;
    damage(file);
    const [end, kept, cut] = problem === 'a damaged record' ? [whole, 2, 59] : [firstEnd, 1, whole - 7 - firstEnd];

    const second = await openBuffer(dir);
    assert.deepEqual(second.warnings, [
      `buffer segment ${file}: ${problem} at byte ${end}; keeping the ${kept} whole records before it and cutting off ${cut} bytes`,
    ]);
    assert.deepEqual(await second.errors(), { damaged_segment: 1 });
    assert.equal(statSync(file).size, end);
    await second.buffer.close();
  }
});

test('refuses an append once closed', async () => {
  const dir = tempTree();
  const { buffer } = await openBuffer(dir);
  await buffer.close();
  await assert.rejects(buffer.append(batch(0, 1)), { message: `the buffer in ${dir} is closed` });
});

test('fails a read when a segment no longer holds what it wrote (changed under it)', async () => {
  const dir = tempTree();
  const { buffer } = await openBuffer(dir);
  await buffer.append(batch(0, 5));
  const file = path.join(dir, segments(dir)[0]!);
  const size = statSync(file).size;
  writeFileSync(file, Buffer.concat([readFileSync(file).subarray(0, 8), Buffer.alloc(size - 8, 0xff)]));
  await assert.rejects(buffer.read(10), { message: 'buffer: no whole record at byte 8 (the segment is shorter than its index says)' });
  truncateSync(file, 20);
  await assert.rejects(buffer.read(10), { message: 'buffer: unexpected end of segment at byte 20' });
  await buffer.close();
});

test('append says whether the batch was kept', async () => {
  const { buffer } = await openBuffer(tempTree(), 64 * 1024);
  assert.equal(await buffer.append(batch(0, 3)), true);
  assert.equal(await buffer.append(batch(3, 5000)), false);
  await buffer.close();
});

test('keeps a batch that fills a segment to its last byte in that segment', async () => {
  const dir = tempTree();
  const { buffer } = await openBuffer(dir, 64 * 1024);
  for (let n = 0; n < 7; n++) await buffer.append(kilobatch(n)); // 8 + 7 × 1019 = 7141 bytes
  await buffer.append({ category: 'metric', points: 1, payload: Buffer.alloc(8192 - 7141 - 19, 120) });
  assert.deepEqual(segmentSizes(dir), [8192]);
  await buffer.close();
});

test('drops as many old segments as a new batch needs', async () => {
  const { buffer, drops } = await openBuffer(tempTree(), 64 * 1024);
  for (let n = 0; n < 64; n++) await buffer.append(kilobatch(n)); // 8 full segments, 65280 bytes
  assert.equal(await buffer.append({ category: 'metric', points: 1, payload: Buffer.alloc(10_000, 120) }), true);
  assert.deepEqual(
    drops.map((drop) => drop.points),
    [80, 80],
  );
  await buffer.close();
});

test('deletes every segment a window passed, not only the last one', async () => {
  const dir = tempTree();
  const { buffer } = await openBuffer(dir, 64 * 1024);
  for (let n = 0; n < 20; n++) await buffer.append(kilobatch(n)); // segments of 8, 8 and 4 batches
  await buffer.ack((await buffer.read(170))!); // the first two segments and one batch of the third
  assert.deepEqual(segmentSizes(dir), [4084]);
  await buffer.close();
});

test('a reopened buffer acknowledged at the start of a segment resumes there, without a warning', async () => {
  const dir = tempTree();
  const first = await openBuffer(dir);
  for (const start of [0, 10]) await first.buffer.append(batch(start, 10));
  await first.buffer.close();
  writeFileSync(path.join(dir, 'ack.json'), JSON.stringify({ segment: 1, offset: 8 }));
  const second = await openBuffer(dir);
  assert.equal(second.buffer.points, 20);
  assert.deepEqual(second.warnings, []);
  await second.buffer.close();
});

test("sends what a previous run left in windows of their own, never together with this run's batches (a receiver may have taken it and refuse the whole request)", async () => {
  const dir = tempTree();
  const first = await openBuffer(dir);
  await first.buffer.append(batch(0, 3));
  await first.buffer.append(batch(3, 2));
  await first.buffer.close();

  const second = await openBuffer(dir);
  await second.buffer.append(batch(5, 4));
  const left = await second.buffer.read(1_000_000);
  assert.deepEqual(
    left?.records.map((record) => record.points),
    [3, 2],
  );
  await second.buffer.ack(left!);
  const ours = await second.buffer.read(1_000_000);
  assert.deepEqual(
    ours?.records.map((record) => record.points),
    [4],
  );
  await second.buffer.ack(ours!);
  assert.equal(await second.buffer.read(1_000_000), undefined);
  await second.buffer.close();
});
