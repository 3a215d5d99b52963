import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { PointPipeline } from '../../src/points/pipeline.js';
import type { EncodedBatch } from '../../src/points/point.js';

const pipeline = new PointPipeline({ workers: 2, encodings: () => ['jsonl', 'lineProtocol'] });
after(() => pipeline.close());

const RECEIVED = 1_700_000_000_123_456_000n;

function reportLine(data: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify({ type: 'report', id: '1', collector: 'x.X', data }));
}

async function decode(data: Record<string, unknown>, tags: Record<string, string> = {}, globalTags: Record<string, string> = {}) {
  const result = await pipeline.decodeReport(reportLine(data), { tags, globalTags }, RECEIVED);
  const text = (batch: EncodedBatch, key: 'jsonl' | 'lineProtocol') => Buffer.from(batch[key]!).toString('utf8');
  const jsonl = result.batches.flatMap((b) =>
    text(b, 'jsonl')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line)),
  );
  const lineProtocol = result.batches.flatMap((b) => text(b, 'lineProtocol').trim().split('\n'));
  return { ...result, jsonl, lineProtocol };
}

const point = { measurement: 'abc', tags: { t1: 'b' }, fields: { f1: 123, f2: 3.4, f3: 'strval', ok: true } };

describe('report decoding in the worker pool', () => {
  it('maps each report key to its DataKit category', async () => {
    const withName = { ...point, tags: { name: 'n' } };
    const r = await decode({ M: [point], L: [point], R: [point], O: [withName], CO: [withName], E: [point] });
    assert.deepEqual(
      r.batches.map((b) => [b.category, b.points]),
      [
        ['metric', 1],
        ['logging', 1],
        ['rum', 1],
        ['object', 1],
        ['custom_object', 1],
        ['keyevent', 1],
      ],
    );
    assert.equal(r.points, 6);
  });

  it("writes JSON Lines in the file output's shape, time in ns", async () => {
    const r = await decode({ M: [{ ...point, time: 1624550216 }], precision: 's' });
    assert.deepEqual(r.jsonl, [{ category: 'metric', measurement: 'abc', tags: { t1: 'b' }, fields: point.fields, time: 1624550216000000000 }]);
  });

  for (const [precision, time, ns] of [
    ['n', 1624550216123456789n, 1624550216123456789n],
    ['u', 1624550216123456, 1624550216123456000n],
    ['ms', 1624550216123, 1624550216123000000n],
    ['s', 1624550216, 1624550216000000000n],
    ['m', 27075836, 1624550160000000000n],
    ['h', 451263, 1624546800000000000n],
  ] as const) {
    it(`reads time in precision "${precision}"`, async () => {
      // The host sends integers beyond 2^53 as strings (PROTOCOL.md); smaller ones as numbers.
      const r = await decode({ M: [{ ...point, time: typeof time === 'bigint' ? time.toString() : time }], precision });
      assert.match(r.lineProtocol[0]!, new RegExp(` ${ns}$`));
    });
  }

  it('stamps points without time with the moment the runner received them', async () => {
    const r = await decode({ M: [point] });
    assert.match(r.lineProtocol[0]!, new RegExp(` ${RECEIVED}$`));
  });

  it('reads "tags": null and "time": null, as DataKit\'s feed_* helpers send them, as no tags and now', async () => {
    const r = await decode({ M: [{ measurement: 'm', tags: null, fields: { v: 1 }, time: null }] }, { host: 'h1' });
    assert.equal(r.invalid, 0, r.errors.join('; '));
    assert.deepEqual(r.jsonl, [{ category: 'metric', measurement: 'm', tags: { host: 'h1' }, fields: { v: 1 }, time: Number(RECEIVED) }]);
  });

  it("adds the input's tags unless the point sets them", async () => {
    const r = await decode({ M: [point, { ...point, tags: { host: 'mine' } }] }, { host: 'h1', env: 'prod' });
    assert.deepEqual(
      r.jsonl.map((p) => p.tags),
      [
        { t1: 'b', host: 'h1', env: 'prod' },
        { host: 'mine', env: 'prod' },
      ],
    );
  });

  it("adds the global tags after the point's own and the input's: point > input tags > global", async () => {
    const r = await decode({ M: [point, { ...point, tags: { host: 'mine' } }] }, { env: 'prod' }, { host: 'machine', env: 'global', zone: 'z1' });
    assert.deepEqual(
      r.jsonl.map((p) => p.tags),
      [
        { t1: 'b', env: 'prod', host: 'machine', zone: 'z1' },
        { host: 'mine', env: 'prod', zone: 'z1' },
      ],
    );
  });

  for (const value of ['true', true, 'false']) {
    it(`adds no global tag, but the input's, to a report with ignore_global_tags = ${JSON.stringify(value)} (any value, as DataKit reads it)`, async () => {
      const ignored = await decode({ M: [point], ignore_global_tags: value }, { env: 'prod' }, { host: 'machine' });
      assert.deepEqual(ignored.jsonl[0].tags, { t1: 'b', env: 'prod' });
    });
  }

  it('escapes line protocol as InfluxDB reads it', async () => {
    const r = await decode({
      M: [{ measurement: 'my m,x', tags: { 'k y': 'v,=1', empty: '' }, fields: { 's f': 'say "hi" \\ there', n: -1.5e-7 }, time: 1 }],
    });
    assert.equal(r.lineProtocol[0], 'my\\ m\\,x,k\\ y=v\\,\\=1 s\\ f="say \\"hi\\" \\\\ there",n=-1.5e-7 1');
  });

  it('writes tag values that are numbers or booleans as text, as DataKit does', async () => {
    const r = await decode({ M: [{ ...point, tags: { port: 9529, up: true } }] });
    assert.deepEqual(r.jsonl[0].tags, { port: '9529', up: 'true' });
  });

  const invalid: [string, unknown, RegExp][] = [
    ['a point that is not an object', 7, /M\[0\]: must be an object/],
    ['a missing measurement', { fields: { a: 1 } }, /M\[0\]: measurement must be a non-empty string/],
    ['an empty measurement', { measurement: '', fields: { a: 1 } }, /measurement must not be empty/],
    ['no fields', { measurement: 'm', fields: {} }, /fields must have at least one field/],
    ['fields that are a list', { measurement: 'm', fields: [1] }, /fields must be an object/],
    ['a null field (NaN in Python)', { measurement: 'm', fields: { a: null } }, /field "a" is null \(None, NaN or Infinity in Python\)/],
    ['a nested field', { measurement: 'm', fields: { a: { b: 1 } } }, /field "a" must be a number, string or boolean, got object/],
    ['a nested tag', { measurement: 'm', tags: { a: [1] }, fields: { v: 1 } }, /tag "a" must be a string/],
    ['a tag with a line break', { measurement: 'm', tags: { a: 'x\ny' }, fields: { v: 1 } }, /tag "a" must not contain a line break/],
    ['a text time', { measurement: 'm', fields: { v: 1 }, time: 'yesterday' }, /time must be an integer timestamp in precision "n", got "yesterday"/],
    ['a time past int64', { measurement: 'm', fields: { v: 1 }, time: '99999999999999999999' }, /outside the int64 nanosecond range/],
  ];
  for (const [name, raw, message] of invalid) {
    it(`drops ${name} with a message naming the point, keeping the rest`, async () => {
      const r = await decode({ M: [raw, point] });
      assert.equal(r.points, 1);
      assert.equal(r.invalid, 1);
      assert.match(r.errors[0]!, message);
    });
  }

  it('needs a name tag on object and custom_object points', async () => {
    const r = await decode({ O: [point], CO: [point] });
    assert.equal(r.invalid, 2);
    assert.match(r.errors[0]!, /O\[0\]: object points need a "name" tag/);
  });

  it('rejects a whole report whose precision is unknown', async () => {
    const r = await decode({ M: [point], precision: 'd' });
    assert.equal(r.points, 0);
    assert.match(r.errors[0]!, /precision must be one of n, u, ms, s, m, h, got "d"/);
  });

  it('rejects a line that is not JSON without failing the pool', async () => {
    const result = await pipeline.decodeReport(Buffer.from('{"type":"report","id":"1",'), { tags: {}, globalTags: {} });
    assert.match(result.errors[0]!, /not valid JSON/);
    assert.equal((await decode({ M: [point] })).points, 1);
  });
});
