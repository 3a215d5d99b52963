import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { BufferedOutput } from '../../src/outputs/buffered-output.js';
import { DirectOutput } from '../../src/outputs/direct-output.js';
import { FileOutput } from '../../src/outputs/file/file-output.js';
import { InfluxdbOutput } from '../../src/outputs/influxdb/influxdb-output.js';
import { OutputSet } from '../../src/outputs/running-output.js';
import { StdoutOutput } from '../../src/outputs/stdout/stdout-output.js';
import { PointPipeline } from '../../src/points/pipeline.js';
import { POOLED_BYTES } from '../../src/points/tasks.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { BytePool } from '../../workers/byte-pool.js';
import { tempTree, waitFor } from '../helpers/fixtures.js';
import { StubServer } from '../helpers/stub-http.js';

/**
 * Who owns a batch's bytes: a worker writes them, the main thread's outputs
 * read them, and once every output is done (written, or synced to a disk
 * buffer) they go back to the workers and are written over. These tests
 * hold that no output reads bytes after that, whatever it does with them
 * (retries, slow streams), and that the bytes do go back.
 */

const NO_TAGS = { tags: {}, globalTags: {} };

/** A report of `points` metric points of report `n`, each line about 100 bytes: a batch well over POOLED_BYTES.min. */
function report(n: number, points = 2_000): Buffer {
  const data = {
    M: Array.from({ length: points }, (_, i) => ({ measurement: 'owned', tags: { report: String(n) }, fields: { i, pad: 'x'.repeat(40) }, time: i + 1 })),
  };
  return Buffer.from(JSON.stringify({ type: 'report', id: String(n), collector: 'c', data }));
}

const lines = (text: string): string[] => text.split('\n').filter(Boolean);

test('the pool hands out buffers by power-of-two class, reuses what it is given back, and keeps no small, huge or surplus ones', () => {
  const pool = new BytePool();
  const small = pool.take(100);
  assert.equal(small.buffer.byteLength, 100, 'below the pooled size: a buffer of its own, exact');
  const big = pool.take(100_000);
  assert.equal(big.byteLength, 100_000);
  assert.equal(big.buffer.byteLength, 2 ** 17);
  pool.giveBack([big.buffer, small.buffer, new ArrayBuffer(POOLED_BYTES.max * 4)]);
  assert.equal(pool.keptBytes, 2 ** 17, 'only the pooled size is kept');
  const again = pool.take(70_000);
  assert.equal(again.buffer, big.buffer, 'the buffer given back serves the next take of its class');
  assert.equal(pool.keptBytes, 0);
  assert.notEqual(pool.take(70_000).buffer, big.buffer, 'a buffer is handed out once');
  const surplus = Array.from({ length: 40 }, () => new ArrayBuffer(4 * 1024 ** 2));
  pool.giveBack(surplus);
  assert.equal(pool.keptBytes, 16 * 1024 ** 2, 'at most 16 MiB kept; the rest is left to the GC');
});

test('batches the outputs are done with go back to the workers, and what comes out of the reused memory is exact', async () => {
  const pipeline = new PointPipeline({ workers: 1, encodings: () => ['jsonl', 'lineProtocol'] });
  try {
    let previous = await pipeline.decodeReport(report(0), NO_TAGS);
    for (let n = 1; n <= 20; n++) {
      const payloads = previous.batches.flatMap((batch) => [batch.jsonl!, batch.lineProtocol!]);
      pipeline.delivered(previous.batches);
      const next = await pipeline.decodeReport(report(n), NO_TAGS);
      assert.ok(
        payloads.every((bytes) => bytes.byteLength === 0),
        'the delivered batches were moved back with the next task',
      );
      const jsonl = lines(Buffer.from(next.batches[0]!.jsonl!).toString());
      assert.equal(jsonl.length, 2_000);
      assert.ok(
        jsonl.every((line, i) => JSON.parse(line).tags.report === String(n) && JSON.parse(line).fields.i === i),
        `report ${n}: every line its own`,
      );
      assert.equal(lines(Buffer.from(next.batches[0]!.lineProtocol!).toString()).at(-1), `owned,report=${n} i=1999,pad="${'x'.repeat(40)}" 2000`);
      previous = next;
    }
  } finally {
    await pipeline.close();
  }
});

const stub = await StubServer.start();
after(() => stub.close());

test('no output reads a batch after its bytes went back: a file, a slow stream and a remote output that must retry all get every point of every report', async () => {
  const dir = tempTree();
  const metrics = createMetrics('test');
  // A stream that takes each write 20 ms to consume and buffers up to 16 MiB: its write() says "go on" long before it is done.
  const streamed: Buffer[] = [];
  const slow = new Writable({
    highWaterMark: 16 * 1024 ** 2,
    write(chunk: Buffer, _encoding, done) {
      setTimeout(() => {
        streamed.push(Buffer.from(chunk));
        done();
      }, 20);
    },
  });
  let answered = 0;
  stub.requests.length = 0;
  stub.answer = () => ({ status: ++answered <= 2 ? 503 : 204 }); // the first sends fail: the retries must read the disk, not the batches
  const outputs = new OutputSet([
    new DirectOutput('file[0]', new FileOutput({ path: path.join(dir, 'points.jsonl') }), metrics, silentLogger),
    new DirectOutput('stdout[0]', new StdoutOutput(slow), metrics, silentLogger),
    new BufferedOutput(
      'influxdb[0]',
      new InfluxdbOutput({ url: stub.url, database: 'db', timeout: 2_000, username: undefined, password: undefined, token: undefined, tls_ca: undefined }),
      { dir: path.join(dir, 'buffer'), batchSize: 1_000_000, flushIntervalMs: 50, bufferBytes: 256 * 1024 ** 2 },
      metrics,
      silentLogger,
    ),
  ]);
  await outputs.start();
  const pipeline = new PointPipeline({ workers: 1, encodings: () => outputs.encodings });
  const expected: string[] = [];
  try {
    for (let n = 0; n < 12; n++) {
      const result = await pipeline.decodeReport(report(n), NO_TAGS);
      expected.push(...lines(Buffer.from(result.batches[0]!.lineProtocol!).toString()));
      assert.deepEqual(await outputs.deliver(result.batches), []);
      pipeline.delivered(result.batches);
    }
    await waitFor(
      () =>
        stub.accepted().length > 0 &&
        lines(
          stub
            .accepted()
            .map((request) => request.body)
            .join(''),
        ).length >= expected.length,
      'every point sent',
      30_000,
    );
    assert.deepEqual(
      lines(
        stub
          .accepted()
          .map((request) => request.body)
          .join(''),
      ),
      expected,
      'the remote output sent every point once, in order',
    );
    const jsonl = lines(readFileSync(path.join(dir, 'points.jsonl'), 'utf8'));
    assert.equal(jsonl.length, expected.length);
    assert.deepEqual(lines(Buffer.concat(streamed).toString()), jsonl, 'the slow stream got what the file got');
    assert.deepEqual(
      jsonl.map((line) => `${JSON.parse(line).tags.report}/${JSON.parse(line).fields.i}`),
      expected.map((line) => `${/report=(\d+)/.exec(line)![1]}/${/ i=(\d+),/.exec(line)![1]}`),
    );
  } finally {
    await outputs.close(1_000);
    await pipeline.close();
  }
});
