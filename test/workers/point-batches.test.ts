import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PointPipeline } from '../../src/points/pipeline.js';
import type { DecodeResult } from '../../src/points/tasks.js';
import { TagFiller } from '../../workers/tag-filler.js';
import { PointBatcher } from '../../workers/point-batcher.js';

const NO_TAGS = { tags: {}, globalTags: {} };

test('a report larger than 10,000 points of a category comes back in batches of at most 10,000, in order', async () => {
  const pipeline = new PointPipeline({ workers: 1, encodings: () => ['lineProtocol', 'jsonl'] });
  const points = Array.from({ length: 25_000 }, (_, n) => ({ measurement: 'm', fields: { n }, time: n + 1 }));
  const report = { type: 'report', id: '1', collector: 'c', data: { M: points, L: [{ measurement: 'l', fields: { message: 'x' }, time: 1 }] } };
  try {
    const result = await pipeline.decodeReport(Buffer.from(JSON.stringify(report)), NO_TAGS);
    assert.deepEqual(
      result.batches.map((batch) => [batch.category, batch.points]),
      [
        ['metric', 10_000],
        ['metric', 10_000],
        ['metric', 5_000],
        ['logging', 1],
      ],
    );
    const times = result.batches
      .filter((batch) => batch.category === 'metric')
      .flatMap((batch) => Buffer.from(batch.lineProtocol!).toString().split('\n').filter(Boolean))
      .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
    assert.deepEqual(
      times,
      points.map((point) => point.time),
    );
    assert.equal(Buffer.from(result.batches[0]!.jsonl!).toString().split('\n').filter(Boolean).length, 10_000);
  } finally {
    await pipeline.close();
  }
});

test('a batch of many megabytes of text beyond ASCII comes back byte for byte, whatever character falls on a chunk boundary', async () => {
  const pipeline = new PointPipeline({ workers: 1, encodings: () => ['lineProtocol', 'jsonl'] });
  // Odd lengths of one-, two-, three- and four-byte characters, so that every kind lands on the boundaries.
  const text = (n: number) => `a${'é'.repeat(n % 7)}€${'😀'.repeat(500 + (n % 13))}`;
  const points = Array.from({ length: 2_000 }, (_, n) => ({ measurement: 'm', tags: { t: text(n + 1) }, fields: { s: text(n) }, time: n + 1 }));
  const report = { type: 'report', id: '1', collector: 'c', data: { L: points } };
  try {
    const result = await pipeline.decodeReport(Buffer.from(JSON.stringify(report)), NO_TAGS);
    const [batch] = result.batches;
    const lines = Buffer.from(batch!.jsonl!).toString('utf8').split('\n').filter(Boolean);
    assert.deepEqual(
      lines.map((line) => JSON.parse(line) as { tags: { t: string }; fields: { s: string } }).map((point) => [point.tags.t, point.fields.s]),
      points.map((point) => [point.tags.t, point.fields.s]),
    );
    const lineProtocol = Buffer.from(batch!.lineProtocol!).toString('utf8').split('\n').filter(Boolean);
    assert.deepEqual(
      lineProtocol.map((line) => line.slice(line.indexOf('"') + 1, line.lastIndexOf('"'))),
      points.map((point) => point.fields.s),
    );
  } finally {
    await pipeline.close();
  }
});

test("extra tags go on a point of a line-protocol series alone, never on the series' shared tags", () => {
  const series = Object.freeze({ host: 'a' });
  const batcher = new PointBatcher(['jsonl']);
  assert.equal(batcher.add('metric', { measurement: 'm', tags: series, fields: { v: 1 }, time: '1' }, 'n', '0', new TagFiller({ env: 'prod' })), undefined);
  assert.equal(batcher.add('metric', { measurement: 'm', tags: series, fields: { v: 2 }, time: '2' }, 'n', '0', new TagFiller({})), undefined);
  assert.deepEqual(series, { host: 'a' });
  const result = batcher.finish() as unknown as Record<symbol, DecodeResult>;
  const value = result[Object.getOwnPropertySymbols(result).find((symbol) => symbol.description === 'Piscina.valueOf')!]!;
  const lines = Buffer.from(value.batches[0]!.jsonl!).toString().split('\n').filter(Boolean);
  assert.deepEqual(
    lines.map((line) => (JSON.parse(line) as { tags: Record<string, string> }).tags),
    [{ host: 'a', env: 'prod' }, { host: 'a' }],
  );
});
