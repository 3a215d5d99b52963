import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Point } from '../../src/points/point.js';
import { PointPipeline } from '../../src/points/pipeline.js';
import { PrometheusSamples } from '../../workers/prometheus-samples.js';
import { joinSnappyBlocks, snappyCompress } from '../../workers/snappy.js';
import { decodeWriteRequest } from '../helpers/remote-write-decode.js';
import { snappyDecode } from '../helpers/snappy-decode.js';

const NS = '1700000000123456789';
const MS = 1700000000123;

function encode(points: Point[]): { series: Record<string, [number, number][]>; exposition: string; stringFields: number } {
  const samples = new PrometheusSamples();
  for (const point of points) samples.add(point);
  const series: Record<string, [number, number][]> = {};
  for (const one of decodeWriteRequest(samples.remoteWrite())) {
    const name = one.labels.find(([label]) => label === '__name__')![1];
    const labels = one.labels.filter(([label]) => label !== '__name__').map(([label, value]) => `${label}=${value}`);
    series[`${name}{${labels.join(',')}}`] = one.samples.map(({ ms, value }) => [ms, value]);
  }
  return { series, exposition: Buffer.from(samples.exposition()).toString(), stringFields: samples.stringFields };
}

describe('Prometheus naming', () => {
  it('names each numeric field <measurement>_<field>, "value" included, booleans as 1 and 0, strings left out and counted', () => {
    const { series, stringFields } = encode([
      { measurement: 'cpu', tags: { host: 'a' }, fields: { value: 1.5, count: 7n, up: true, down: false, note: 'text' }, time: NS },
    ]);
    assert.deepEqual(series, {
      'cpu_value{host=a}': [[MS, 1.5]],
      'cpu_count{host=a}': [[MS, 7]],
      'cpu_up{host=a}': [[MS, 1]],
      'cpu_down{host=a}': [[MS, 0]],
    });
    assert.equal(stringFields, 1);
  });

  it("sanitises names to Prometheus' charset as VictoriaMetrics' -usePromCompatibleNaming does, and a leading digit gets an underscore", () => {
    const { series } = encode([
      { measurement: 'disk.io', tags: { 'host.name': 'a b', ü: 'x', '9lives': 'y', 'a:b': 'z' }, fields: { 'read-bytes': 1 }, time: NS },
      { measurement: '9p', tags: {}, fields: { 'x:y': 2 }, time: NS },
    ]);
    assert.deepEqual(Object.keys(series).sort(), ['_9p_x:y{}', 'disk_io_read_bytes{_=x,_9lives=y,a_b=z,host_name=a b}'].sort());
  });

  it('sorts labels by name with __name__ among them, leaves out empty values and a __name__ tag, and keeps one of two tags that sanitise alike', () => {
    const samples = new PrometheusSamples();
    samples.add({
      measurement: 'm',
      tags: { b: '2', Z: 'upper', empty: '', __name__: 'other', 'host.name': 'dotted', host_name: 'plain' },
      fields: { f: 1 },
      time: NS,
    });
    const [one] = decodeWriteRequest(samples.remoteWrite());
    assert.deepEqual(one!.labels, [
      ['Z', 'upper'],
      ['__name__', 'm_f'],
      ['b', '2'],
      ['host_name', 'dotted'],
    ]);
  });

  it('sends the samples of one series in time order, whatever order they were reported in, and the exposition keeps the latest', () => {
    const at = (ms: number): string => `${ms}000000`;
    const { series, exposition } = encode([
      { measurement: 'm', tags: { h: 'a' }, fields: { v: 3 }, time: at(3000) },
      { measurement: 'm', tags: { h: 'a' }, fields: { v: 1 }, time: at(1000) },
      { measurement: 'm', tags: { h: 'b' }, fields: { v: 9 }, time: at(500) },
      { measurement: 'm', tags: { h: 'a' }, fields: { v: 2 }, time: at(2000) },
    ]);
    assert.deepEqual(series['m_v{h=a}'], [
      [1000, 1],
      [2000, 2],
      [3000, 3],
    ]);
    assert.equal(exposition, 'm_v{h="a"} 3 3000\nm_v{h="b"} 9 500\n');
  });

  it('escapes label values for the text format and keeps milliseconds, rounding down, before 1970 too', () => {
    const { exposition, series } = encode([
      { measurement: 'm', tags: { path: 'C:\\dir "x"' }, fields: { v: 1e21 }, time: '-1500000' },
      { measurement: 'n', tags: {}, fields: { v: -0.25 }, time: '999999' },
    ]);
    assert.equal(exposition, 'm_v{path="C:\\\\dir \\"x\\""} 1e+21 -2\nn_v -0.25 0\n');
    assert.deepEqual(series['m_v{path=C:\\dir "x"}'], [[-2, 1e21]]);
  });
});

describe('the pipeline', () => {
  it('encodes metric points only for the Prometheus encodings and says how many string fields each left out', async () => {
    const pipeline = new PointPipeline({ workers: 1, encodings: () => ['remoteWrite', 'exposition', 'jsonl'] });
    try {
      const report = {
        type: 'report',
        data: { M: [{ measurement: 'm', fields: { v: 1, s: 'x' }, time: 1 }], L: [{ measurement: 'l', fields: { message: 'x' }, time: 1 }] },
      };
      const { batches } = await pipeline.decodeReport(Buffer.from(JSON.stringify(report)), { tags: {}, globalTags: {} });
      const [metric, logging] = batches;
      assert.ok(metric?.remoteWrite && metric.exposition && metric.jsonl);
      assert.deepEqual(metric.fieldsLeftOut, { remoteWrite: 1, exposition: 1 });
      assert.equal(Buffer.from(metric.exposition).toString(), 'm_v 1 0\n');
      assert.ok(logging?.jsonl && !logging.remoteWrite && !logging.exposition);
    } finally {
      await pipeline.close();
    }
  });
});

describe('snappy', () => {
  const sizes = [0, 1, 14, 15, 16, 100, 65_535, 65_536, 65_537, 200_000];

  it('compresses text and random bytes of every size around its fragment and margin bounds, and they decode to the input', () => {
    for (const size of sizes) {
      const text = Buffer.from(
        Array.from({ length: size }, (_, i) => `m_v{host="h${i % 50}"} ${i} 17000\n`)
          .join('')
          .slice(0, size),
      );
      const random = randomBytes(size);
      for (const input of [text, random, Buffer.alloc(size, 'a')]) assert.deepEqual(snappyDecode(snappyCompress(input)), input, `${size} bytes`);
    }
  });

  it('really compresses: repetitive exposition text to a fraction of its size', () => {
    const text = Buffer.from(
      Array.from({ length: 5_000 }, (_, i) => `pythond_seq_n{host="test",parity="${i % 2 ? 'odd' : 'even'}"} ${i} ${1700000000000 + i}\n`).join(''),
    );
    const compressed = snappyCompress(text);
    assert.ok(compressed.length < text.length / 3, `${compressed.length} of ${text.length} bytes`);
  });

  it('joins blocks compressed apart into one block of their inputs one after the other', () => {
    const parts = [Buffer.from('abcabcabcabcabcabcabcabc'.repeat(100)), randomBytes(70_000), Buffer.alloc(0), Buffer.from('tail tail tail tail')];
    assert.deepEqual(snappyDecode(joinSnappyBlocks(parts.map((part) => snappyCompress(part)))), Buffer.concat(parts));
  });
});
