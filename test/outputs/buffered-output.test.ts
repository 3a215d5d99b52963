import assert from 'node:assert/strict';
import { readdirSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { silentLogger, type Logger } from '../../src/telemetry/logger.js';
import { BufferedOutput } from '../../src/outputs/buffered-output.js';
import { InfluxdbOutput } from '../../src/outputs/influxdb/influxdb-output.js';
import type { Category, EncodedBatch } from '../../src/points/point.js';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import { tempTree, waitFor, within } from '../helpers/fixtures.js';
import { StubServer } from '../helpers/stub-http.js';

/**
 * BufferedOutput with the real influxdb output against a stub server, which
 * plays a destination that is slow, down, or refuses batches.
 */

const stub = await StubServer.start();
after(() => stub.close());

const influxdbDefaults = { username: undefined, password: undefined, token: undefined, tls_ca: undefined };

let next = 0;
/** A batch of `points` numbered lines of line protocol. */
function batch(points: number, category: Category = 'metric'): EncodedBatch {
  let text = '';
  for (let i = 0; i < points; i++, next++) text += `m n=${next} ${next}\n`;
  return { category, points, lineProtocol: Buffer.from(text) };
}

function startOutput(options: { batchSize?: number; flushIntervalMs?: number; dir?: string; url?: string; timeoutMs?: number; log?: Logger } = {}) {
  const metrics = createMetrics('test');
  const output = new BufferedOutput(
    'influxdb[0]',
    new InfluxdbOutput({ ...influxdbDefaults, url: options.url ?? stub.url, database: 'db', timeout: options.timeoutMs ?? 2_000 }),
    { dir: options.dir ?? tempTree(), batchSize: options.batchSize ?? 1000, flushIntervalMs: options.flushIntervalMs ?? 50, bufferBytes: 1024 ** 2 },
    metrics,
    options.log ?? silentLogger,
  );
  return { output, metrics, started: output.start() };
}

async function counted(metrics: Metrics, status: 'sent' | 'failed' | 'dropped'): Promise<number> {
  const { values } = await metrics.outputPoints.get();
  return values.find((value) => value.labels.status === status)?.value ?? 0;
}

/** A logger that keeps what it logs: level and message. */
function keptLog(): { log: Logger; logged: { level: number; msg: string }[] } {
  const logged: { level: number; msg: string }[] = [];
  return { log: pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) }), logged };
}

const lines = (bodies: { body: string }[]): string[] => bodies.flatMap((request) => request.body.split('\n').filter(Boolean));

test('write resolves once the batch is on disk, while the destination does not answer', async () => {
  stub.requests.length = 0;
  stub.answer = () => 'hang';
  // The request waits a minute for an answer that never comes: a write held up by it would not resolve within the deadline.
  const { output, metrics, started } = startOutput({ timeoutMs: 60_000 });
  await started;
  await within(output.write(batch(10)), 30_000, 'the write to resolve while its destination hangs');
  assert.deepEqual(stub.accepted(), [], 'nothing was accepted yet');
  assert.equal(output.status().bufferedPoints, 10);
  assert.equal((await metrics.outputBuffer.get()).values[0]?.value, 10);
  await waitFor(() => stub.requests.length > 0, 'the first attempt');
  await output.close(0);
});

test('a write that comes before start is kept, and sent once the output starts', async () => {
  stub.requests.length = 0;
  stub.answer = () => ({ status: 204 });
  const metrics = createMetrics('test');
  const early = batch(3);
  const output = new BufferedOutput(
    'influxdb[0]',
    new InfluxdbOutput({ ...influxdbDefaults, url: stub.url, database: 'db', timeout: 2_000 }),
    { dir: tempTree(), batchSize: 1000, flushIntervalMs: 50, bufferBytes: 1024 ** 2 },
    metrics,
    silentLogger,
  );
  await output.write(early);
  assert.equal(output.status().bufferedPoints, 3);
  await output.start();
  await waitFor(() => lines(stub.accepted()).length === 3, 'the early points sent');
  assert.deepEqual(lines(stub.accepted()), early.lineProtocol!.toString().split('\n').filter(Boolean));
  await output.close(1000);
});

test('a 400 answer drops the batch and counts it; the next batch is still sent', async () => {
  stub.requests.length = 0;
  stub.answer = (request) => (request.body.includes('bad') ? { status: 400, body: '{"error":"unable to parse"}' } : { status: 204 });
  const { output, metrics, started } = startOutput();
  await started;
  await output.write({ category: 'metric', points: 1, lineProtocol: Buffer.from('bad line\n') });
  await waitFor(async () => (await counted(metrics, 'dropped')) === 1, 'the bad batch dropped');
  await output.write(batch(3));
  await waitFor(async () => (await counted(metrics, 'sent')) === 3, 'the good batch sent');
  assert.equal(stub.requests.filter((request) => request.body.includes('bad')).length, 1, 'the bad batch is not retried');
  assert.match(output.status().lastError ?? '', /dropped 1 points: the destination refused them: .* answered 400 Bad Request: \{"error":"unable to parse"\}/);
  await output.close(1000);
});

test('429, 503 and a refused connection are retried until the destination accepts', async () => {
  stub.requests.length = 0;
  const answers = [429, 503];
  stub.answer = () => ({ status: answers.shift() ?? 204 });
  const { output, metrics, started } = startOutput();
  await started;
  const sent = batch(5);
  await output.write(sent);
  await waitFor(() => output.health().ok === false, 'the output failing');
  assert.match(output.health().error ?? '', /answered (429|503)/);
  await waitFor(async () => (await counted(metrics, 'sent')) === 5, 'the batch sent after two failures');
  assert.deepEqual(output.health(), { output: 'influxdb[0]', ok: true });
  assert.deepEqual(
    stub.requests.map((request) => request.status),
    [429, 503, 204],
  );
  assert.equal(await counted(metrics, 'failed'), 10);
  assert.equal(await counted(metrics, 'dropped'), 0);
  await output.close(1000);

  const down = startOutput({ url: 'http://127.0.0.1:1' });
  await down.started;
  await down.output.write(batch(2));
  await waitFor(async () => (await counted(down.metrics, 'failed')) >= 4, 'several failed attempts');
  assert.match(down.output.status().lastError ?? '', /cannot reach http:\/\/127\.0\.0\.1:1\/write\?db=db&precision=ns: .*ECONNREFUSED/);
  assert.equal(down.output.status().bufferedPoints, 2);
  await down.output.close(0);
});

test('a request left without an answer for timeout is given up and sent again', async () => {
  stub.requests.length = 0;
  let first = true;
  stub.answer = () => {
    if (!first) return { status: 204 };
    first = false;
    return 'hang';
  };
  const { output, metrics, started } = startOutput({ timeoutMs: 300 });
  await started;
  await output.write(batch(4));
  await waitFor(async () => (await counted(metrics, 'sent')) === 4, 'the batch sent on the second attempt');
  assert.equal(stub.requests.length, 2);
  assert.match(output.status().lastError ?? '', /did not answer within 0\.3 s \(timeout\)/);
  await output.close(1000);
});

test('a partial batch waits for flush_interval; the write that fills the batch sends it at once', async () => {
  stub.requests.length = 0;
  stub.answer = () => ({ status: 204 });
  // flush_interval outlasts the test: only a full batch (or close) sends anything.
  const { output, metrics, started } = startOutput({ batchSize: 10, flushIntervalMs: 3_600_000 });
  await started;
  const written = [batch(4), batch(6)];
  await output.write(written[0]!);
  await output.write(written[1]!);
  await waitFor(async () => (await counted(metrics, 'sent')) === 10, 'the full batch sent');
  assert.deepEqual(
    stub.requests.map((request) => lines([request])),
    [written.flatMap((b) => b.lineProtocol!.toString().split('\n').filter(Boolean))],
    'the first 4 points waited for the other 6: one request',
  );
  await output.write(batch(3));
  await within(output.close(60_000), 30_000, 'close to send what is left');
  assert.equal(stub.requests.length, 2, 'what was left went out at close');
  assert.equal(await counted(metrics, 'sent'), 13);
});

test('windows are sent in order, one category per request', async () => {
  stub.requests.length = 0;
  stub.answer = () => ({ status: 204 });
  const { output, started } = startOutput({ batchSize: 100 });
  await started;
  const written = [batch(2), batch(1, 'logging'), batch(2), batch(3, 'logging')];
  for (const b of written) await output.write(b);
  await waitFor(() => lines(stub.accepted()).length === 8, 'every point sent');
  assert.equal(stub.requests.length, 2);
  assert.deepEqual(
    lines(stub.accepted()),
    [written[0]!, written[2]!, written[1]!, written[3]!].flatMap((b) => b.lineProtocol!.toString().split('\n').filter(Boolean)),
  );
  await output.close(1000);
});

test('with the next window read while one is on the wire, every point arrives once and in order, through a retry, and none is sent again after a restart', async () => {
  const dir = tempTree();
  stub.requests.length = 0;
  let answered = 0;
  // Slow answers, so reads and acknowledgements happen while requests are in flight; the third request fails once.
  stub.answer = async () => {
    await new Promise((resolve) => setTimeout(resolve, 15));
    return { status: ++answered === 3 ? 503 : 204 };
  };
  const first = startOutput({ dir, batchSize: 10 });
  await first.started;
  const written = Array.from({ length: 30 }, () => batch(5));
  for (const b of written) await first.output.write(b);
  const all = written.flatMap((b) => b.lineProtocol!.toString().split('\n').filter(Boolean));
  await waitFor(() => lines(stub.accepted()).length >= all.length, 'every point sent', 30_000);
  assert.deepEqual(lines(stub.accepted()), all);
  await waitFor(() => first.output.status().bufferedPoints === 0, 'every window acknowledged');
  await first.output.close(1000);

  stub.requests.length = 0;
  const second = startOutput({ dir, batchSize: 10 });
  await second.started;
  assert.equal(second.output.status().bufferedPoints, 0, 'the acknowledgements were persisted');
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(stub.requests, [], 'nothing sent again');
  await second.output.close(1000);
});

test('close leaves what the destination does not take for the next start, which sends it', async () => {
  const dir = tempTree();
  stub.requests.length = 0;
  stub.answer = () => ({ status: 503 });
  const first = startOutput({ dir });
  await first.started;
  const written = [batch(3), batch(4)];
  for (const b of written) await first.output.write(b);
  // The destination keeps refusing: close gives up after its grace, instead of retrying for ever.
  await within(first.output.close(300), 30_000, 'close to give up after its 300 ms grace');
  assert.equal(first.output.status().bufferedPoints, 7);
  assert.deepEqual((await first.metrics.outputBufferErrors.get()).values, [{ labels: { output: 'influxdb[0]', reason: 'unsent_at_close' }, value: 1 }]);

  stub.requests.length = 0;
  stub.answer = () => ({ status: 204 });
  const second = startOutput({ dir });
  await second.started;
  assert.equal(second.output.status().bufferedPoints, 7);
  await waitFor(() => lines(stub.accepted()).length === 7, 'the buffered points sent after the restart');
  assert.deepEqual(
    lines(stub.accepted()),
    written.flatMap((b) => b.lineProtocol!.toString().split('\n').filter(Boolean)),
  );
  await waitFor(() => second.output.status().bufferedPoints === 0, 'the buffer emptied');
  assert.ok(second.output.status().lastSuccess, 'status has the last success');
  await second.output.close(1000);
});

test('a send failure that repeats is logged in full once (no more within a minute); each is counted, and the recovery said with the count', async () => {
  stub.requests.length = 0;
  const answers = [429, 503, 503, 503, 503];
  stub.answer = () => ({ status: answers.shift() ?? 204 });
  const { log, logged } = keptLog();
  const { output, metrics, started } = startOutput({ log });
  await started;
  await output.write(batch(2));
  await waitFor(async () => (await counted(metrics, 'sent')) === 2, 'the batch sent after five failures', 30_000);
  assert.equal(await counted(metrics, 'failed'), 10, 'every failed attempt counted');
  const said = logged.map(({ level, msg }) => `${level} ${msg.replace(/retrying in \d+\.\d s/, 'retrying in N s')}`);
  assert.equal(said.length, 3, said.join('\n'));
  assert.match(said[0]!, /^40 output influxdb\[0\]: cannot send 2 metric points \(attempt 1\): .* answered 429 .*; retrying in N s$/);
  assert.match(said[1]!, /^40 output influxdb\[0\]: cannot send 2 metric points \(attempt 2\): .* answered 503 .*; retrying in N s$/);
  assert.equal(said[2], '30 output influxdb[0] is ok again after 5 failure(s)');
  await output.close(1000);
});

test('a buffer that cannot be read is retried: said in full once, and counted each time', async () => {
  const dir = tempTree();
  stub.requests.length = 0;
  stub.answer = () => ({ status: 204 });
  const { log, logged } = keptLog();
  // Nothing is read before close: the batch is not full and flush_interval outlasts the test.
  const { output, metrics, started } = startOutput({ dir, batchSize: 1000, flushIntervalMs: 3_600_000, log });
  await started;
  await output.write(batch(5));
  const segment = readdirSync(dir).find((name) => name.endsWith('.wal'))!;
  truncateSync(path.join(dir, segment), 10); // its records gone under it
  await within(output.close(1000), 30_000, 'close to give up after its grace');
  const failures = (await metrics.outputBufferErrors.get()).values.find(({ labels }) => labels.reason === 'disk')?.value ?? 0;
  assert.ok(failures >= 2, `the failed reads counted: ${failures}`);
  const said = logged.filter(({ level }) => level === 50).map(({ msg }) => msg);
  assert.equal(said.length, 1, `${failures} failures within a second: said once`);
  assert.match(said[0]!, new RegExp(`^output influxdb\\[0\\]: buffer in ${dir}: `));
  assert.deepEqual(output.health(), { output: 'influxdb[0]', ok: false, error: said[0]!.slice('output influxdb[0]: '.length), retrying: true });
  assert.deepEqual(stub.requests, [], 'nothing was sent');
});
