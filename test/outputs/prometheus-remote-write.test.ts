import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { BufferedOutput } from '../../src/outputs/buffered-output.js';
import { parseRecords, SEGMENT_MAGIC } from '../../src/outputs/buffer/segment-format.js';
import { RemoteWriteOutput } from '../../src/outputs/prometheus-remote-write/remote-write-output.js';
import { PLUGINS } from '../../src/plugins.js';
import type { EncodedBatch } from '../../src/points/point.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { PrometheusSamples } from '../../workers/prometheus-samples.js';
import { startRunner } from '../helpers/cli.js';
import { collectedPoints, seqRunnerTree } from '../helpers/collectors.js';
import { tempTree, waitFor } from '../helpers/fixtures.js';
import { Prometheus, VictoriaMetrics, type ExportedSeries } from '../helpers/metric-servers.js';
import { decodeWriteRequest } from '../helpers/remote-write-decode.js';

/** Real receivers: Debian's prometheus (remote write receiver on) and victoria-metrics, each on free loopback ports. */
const prometheus = await Prometheus.start();
const vm = await VictoriaMetrics.start();
after(() => Promise.all([prometheus.close(), vm.close()]));

const SEQ_FIELDS = ['n', 'half', 'up'] as const;
const msOf = (ns: string): number => Number(BigInt(ns) / 1_000_000n);

/** `name{labels} ms` → values, the labels sorted and without `db`, from VictoriaMetrics' export. */
function samplesOf(series: ExportedSeries[]): Map<string, number[]> {
  const samples = new Map<string, number[]>();
  for (const { metric, values, timestamps } of series) {
    const { __name__: name, db: _db, ...labels } = metric;
    const key = `${name}${JSON.stringify(Object.fromEntries(Object.entries(labels).sort()))}`;
    for (const [i, value] of values.entries()) {
      const sample = `${key} ${timestamps[i]}`;
      samples.set(sample, [...(samples.get(sample) ?? []), value]);
    }
  }
  return samples;
}

test("a collector's points are queryable in Prometheus and VictoriaMetrics through remote write, named, labelled and timed as VictoriaMetrics' line protocol import names them", async () => {
  const { configFile, pointsFile } = seqRunnerTree(`
    [[outputs.prometheus_remote_write]]
    url = "${prometheus.writeUrl}"
    flush_interval = "100ms"
    [[outputs.prometheus_remote_write]]
    url = "${vm.url}/api/v1/write?extra_label=db=rw"
    flush_interval = "100ms"
    [[outputs.influxdb]]
    url = "${vm.url}"
    database = "lp"
    flush_interval = "100ms"
  `);
  const app = new App(loadConfig({ file: configFile }, PLUGINS), { log: silentLogger });
  await app.start();
  await waitFor(() => collectedPoints(pointsFile).length >= 10, 'five ticks');
  await app.stop();
  const collected = collectedPoints(pointsFile).filter((point) => point.category === 'metric');

  const inPrometheus = (await waitFor(async () => {
    const series = await prometheus.series('{__name__=~"pythond_seq_.*"}');
    return series.reduce((sum, one) => sum + one.samples.length, 0) >= collected.length * SEQ_FIELDS.length ? series : undefined;
  }, 'the samples in Prometheus'))!;
  const prometheusSamples = new Map<string, number>();
  for (const { metric, samples } of inPrometheus) {
    const { __name__: name, ...labels } = metric;
    for (const [ms, value] of samples) prometheusSamples.set(`${name}${JSON.stringify(labels)} ${ms}`, value);
  }
  assert.equal(prometheusSamples.size, collected.length * SEQ_FIELDS.length, 'n, half and up of every point; the string field note is left out');
  for (const point of collected) {
    const labels = JSON.stringify({ host: point.tags.host, parity: point.tags.parity });
    const ms = msOf(point.time);
    assert.equal(prometheusSamples.get(`pythond_seq_n${labels} ${ms}`), point.fields.n);
    assert.equal(prometheusSamples.get(`pythond_seq_half${labels} ${ms}`), point.fields.half);
    assert.equal(prometheusSamples.get(`pythond_seq_up${labels} ${ms}`), 1);
  }

  // The same points, by remote write and as line protocol, into one VictoriaMetrics: the same series and samples, but the string field.
  const [remoteWritten, lineProtocol] = (await waitFor(async () => {
    const rw = samplesOf(await vm.export('{__name__=~"pythond_seq_.*", db="rw"}'));
    const lp = samplesOf(await vm.export('{__name__=~"pythond_seq_.*", db="lp"}'));
    return rw.size >= collected.length * 3 && lp.size >= collected.length * 4 ? [rw, lp] : undefined;
  }, 'the samples in VictoriaMetrics both ways'))!;
  const withoutNote = new Map([...lineProtocol].filter(([key]) => !key.startsWith('pythond_seq_note')));
  assert.equal(lineProtocol.size - withoutNote.size, collected.length, 'line protocol stores the string field (as 0)');
  assert.deepEqual(remoteWritten, withoutNote);

  const left = (await app.metrics.outputFieldsLeftOut.get()).values.map(({ labels, value }) => [labels.output, value]);
  assert.deepEqual(left.sort(), [
    ['prometheus_remote_write[0]', collected.length],
    ['prometheus_remote_write[1]', collected.length],
  ]);
  const skipped = (await app.metrics.outputPoints.get()).values.filter(
    ({ labels }) => labels.status === 'skipped' && labels.output === 'prometheus_remote_write[0]',
  );
  assert.ok((skipped[0]?.value ?? 0) >= collected.length - 1, 'the logging points are skipped, not errors');
});

/** A batch of one metric point, encoded as the workers do. */
function batch(value: number, ms: number): EncodedBatch {
  const samples = new PrometheusSamples();
  samples.add({ measurement: 'pythond_refused', tags: { host: 'test' }, fields: { v: value }, time: `${ms}000000` });
  return { category: 'metric', points: 1, remoteWrite: samples.remoteWrite() };
}

test('a batch Prometheus refuses with 400 (a sample older than one it holds) is dropped once and counted, and later batches go through', async () => {
  const metrics = createMetrics('test');
  const output = new BufferedOutput(
    'prometheus_remote_write[0]',
    new RemoteWriteOutput({
      url: prometheus.writeUrl,
      headers: {},
      timeout: 5_000,
      username: undefined,
      password: undefined,
      bearer_token: undefined,
      tls_ca: undefined,
    }),
    { dir: tempTree(), batchSize: 5_000, flushIntervalMs: 50, bufferBytes: 1024 ** 2 },
    metrics,
    silentLogger,
  );
  await output.start();
  const counts = async (): Promise<Record<string, number>> =>
    Object.fromEntries((await metrics.outputPoints.get()).values.map(({ labels, value }) => [labels.status, value]));
  // In the past, so that a query at now sees them all.
  const now = Date.now() - 30_000;
  try {
    await output.write(batch(1, now));
    await waitFor(async () => (await counts()).sent === 1, 'the first batch sent');
    await output.write(batch(2, now - 60_000));
    await waitFor(async () => (await counts()).dropped === 1, 'the older sample dropped');
    assert.match(output.status().lastError ?? '', /answered 400 Bad Request: out of order sample/);
    await output.write(batch(3, now + 10_000));
    await waitFor(async () => (await counts()).sent === 2, 'the third batch sent');
    assert.deepEqual(await counts(), { sent: 2, dropped: 1 }, 'never retried');
    const [series] = await prometheus.series('pythond_refused_v');
    assert.deepEqual(series?.samples, [
      [now, 1],
      [now + 10_000, 3],
    ]);
  } finally {
    await output.close(1_000);
  }
});

/** The pythond_seq_n sample times in a remote write buffer's segments, as a killed runner left them. */
function bufferedTimes(dir: string): number[] {
  const times: number[] = [];
  for (const name of readdirSync(dir)
    .filter((file) => file.endsWith('.wal'))
    .sort()) {
    const bytes = readFileSync(path.join(dir, name));
    for (const record of parseRecords(bytes.subarray(SEGMENT_MAGIC.length), SEGMENT_MAGIC.length, true).records) {
      for (const series of decodeWriteRequest(record.payload)) {
        if (series.labels.some(([label, value]) => label === '__name__' && value === 'pythond_seq_n')) times.push(...series.samples.map(({ ms }) => ms));
      }
    }
  }
  return times;
}

test('receivers away for 20 s and the runner killed with SIGKILL meanwhile: every sample arrives, in order, none lost', async () => {
  const receivers = { prometheus: await Prometheus.start(), vm: await VictoriaMetrics.start() };
  after(() => Promise.all([receivers.prometheus.close(), receivers.vm.close()]));
  const { root, configFile, pointsFile } = seqRunnerTree(`
    [[outputs.prometheus_remote_write]]
    url = "${receivers.prometheus.writeUrl}"
    flush_interval = "100ms"
    [[outputs.prometheus_remote_write]]
    url = "${receivers.vm.url}/api/v1/write"
    flush_interval = "100ms"
  `);
  const collectedMs = (): number[] => collectedPoints(pointsFile).flatMap((point) => (point.category === 'metric' ? [msOf(point.time)] : []));
  const inPrometheus = async (): Promise<number[]> => (await receivers.prometheus.series('pythond_seq_n')).flatMap((one) => one.samples.map(([ms]) => ms));

  const first = startRunner(['--config', configFile]);
  after(() => void first.child.kill('SIGKILL'));
  await waitFor(async () => (await inPrometheus()).length >= 5, 'samples before the outage');
  await Promise.all([receivers.prometheus.stop(), receivers.vm.stop()]);
  const outageFrom = Date.now();
  const before = collectedMs().length;
  await waitFor(() => collectedMs().length >= before + 80, 'collection going on in the outage', 30_000);
  first.child.kill('SIGKILL');
  await first.exited('the first runner to die on SIGKILL');
  const buffered = bufferedTimes(path.join(root, 'data/buffer/prometheus_remote_write-0'));

  const second = startRunner(['--config', configFile]);
  after(() => void second.child.kill('SIGKILL'));
  await waitFor(() => Date.now() - outageFrom >= 20_000, 'a 20 s outage', 30_000, 200);
  const secondFrom = collectedMs().length;
  await Promise.all([receivers.prometheus.start(), receivers.vm.start()]);
  await waitFor(() => collectedMs().length >= secondFrom + 10, 'ticks after the receivers are back');
  const expected = new Set([...buffered, ...collectedMs().slice(secondFrom)]);
  assert.ok(buffered.length >= 80, `${buffered.length} samples buffered by the killed runner`);
  await waitFor(
    async () => {
      const stored = new Set(await inPrometheus());
      return [...expected].every((ms) => stored.has(ms));
    },
    `the ${expected.size} samples of the outage in Prometheus (runner log: ${second.log()})`,
    60_000,
  );
  const { code } = await second.stop();
  assert.equal(code, 0, second.log());
  // Prometheus refuses a sample older than its series' newest with 400: that none was dropped shows they came in order.
  assert.doesNotMatch(second.log(), /dropped/);

  const exported = await receivers.vm.export('pythond_seq_n');
  const copies = new Map<number, number>();
  for (const ms of exported.flatMap((series) => series.timestamps)) copies.set(ms, (copies.get(ms) ?? 0) + 1);
  assert.deepEqual(
    [...expected].filter((ms) => copies.get(ms) !== 1),
    [],
    'VictoriaMetrics keeps every copy it gets: each sample of the outage arrived once',
  );
});
