import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../src/logger.js';
import { DiskBuffer } from '../../src/outputs/buffer/disk-buffer.js';
import type { BufferRecord } from '../../src/outputs/buffer/segment-format.js';
import type { Category } from '../../src/points/point.js';
import { tempTree } from '../helpers/fixtures.js';

/** A batch of `points` lines of line protocol, numbered from `first`. */
function batch(first: number, points: number, category: Category = 'metric'): BufferRecord {
  let text = '';
  for (let i = first; i < first + points; i++) text += `m,batch=${first} n=${i} ${i}\n`;
  return { category, points, payload: Buffer.from(text) };
}

async function openBuffer(dir: string, maxBytes = 1024 ** 2) {
  const drops: { points: number; reason: string }[] = [];
  const buffer = await DiskBuffer.open({ dir, maxBytes, log: silentLogger, onDrop: (points, reason) => drops.push({ points, reason }) });
  return { buffer, drops };
}

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
  assert.match(drops[0]!.reason, /buffer_size \(64 KiB\) is full: dropped the oldest/);
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

test('a file in the buffer folder that is not a segment stops the open with an error naming it', async () => {
  const dir = tempTree();
  writeFileSync(path.join(dir, '0000000000000001.wal'), 'something else entirely');
  await assert.rejects(openBuffer(dir), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'BUFFER_CORRUPT');
    assert.match(err.message, /0000000000000001\.wal is not a pythond buffer segment.*move it out of/);
    return true;
  });
});
