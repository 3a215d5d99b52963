import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { parseRecords, SEGMENT_MAGIC } from '../../src/outputs/buffer/segment-format.js';
import { InfluxdbOutput } from '../../src/outputs/influxdb/influxdb-output.js';
import { collectedPoints, seqRunnerTree } from '../helpers/collectors.js';
import { startRunner } from '../helpers/cli.js';
import { tempTree, waitFor } from '../helpers/fixtures.js';
import { makeCertificates, VictoriaMetrics } from '../helpers/metric-servers.js';
import { PLUGINS } from '../../src/plugins.js';

/** A real VictoriaMetrics (Debian's victoria-metrics) on a free loopback port. */
const vm = await VictoriaMetrics.start();
after(() => vm.close());

const noAuth = { username: undefined, password: undefined, token: undefined, tls_ca: undefined };

test('points from collectors reach VictoriaMetrics through the influxdb output, values and tags equal', async () => {
  const { configFile, pointsFile } = seqRunnerTree(`[[outputs.influxdb]]\nurl = "${vm.url}"\ndatabase = "first"\nflush_interval = "100ms"`);
  const app = new App(loadConfig({ file: configFile }, PLUGINS), { log: silentLogger });
  await app.start();
  await waitFor(() => collectedPoints(pointsFile).length >= 10, 'five ticks');
  await app.stop();

  const collected = collectedPoints(pointsFile).filter((point) => point.category === 'metric');
  // VictoriaMetrics makes a write searchable a second or two after accepting it.
  const series = (await waitFor(async () => {
    const exported = await vm.export('{__name__=~"pythond_seq_(n|half|up)", db="first"}');
    return exported.reduce((sum, { values }) => sum + values.length, 0) >= collected.length * 3 ? exported : undefined;
  }, 'the samples searchable'))!;
  // VictoriaMetrics names a series <measurement>_<field>, adds the database as label db, keeps milliseconds,
  // and keeps every sample it was sent (it deduplicates only when told to): a point sent twice shows twice.
  const samples = new Map<string, unknown[]>();
  for (const { metric, values, timestamps } of series) {
    const { __name__: name, ...labels } = metric;
    for (const [i, value] of values.entries()) {
      const key = `${name} ${JSON.stringify(labels)} ${timestamps[i]}`;
      samples.set(key, [...(samples.get(key) ?? []), value]);
    }
  }
  assert.equal(samples.size, collected.length * 3, 'n, half and up of every point');
  for (const point of collected) {
    const labels = JSON.stringify(Object.fromEntries(Object.entries({ ...point.tags, db: 'first' }).sort()));
    const ms = BigInt(point.time) / 1_000_000n;
    assert.deepEqual(samples.get(`pythond_seq_n ${labels} ${ms}`), [point.fields.n], 'each sample once, with its value');
    assert.deepEqual(samples.get(`pythond_seq_half ${labels} ${ms}`), [point.fields.half]);
    assert.deepEqual(samples.get(`pythond_seq_up ${labels} ${ms}`), [1]);
  }
});

test('an https server whose certificate is signed by tls_ca is trusted, and only then', async () => {
  const certificates = makeCertificates(tempTree());
  const secure = await VictoriaMetrics.start({ tls: certificates });
  after(() => secure.close());
  const body = { category: 'metric' as const, points: 1, lineProtocol: Buffer.from(`pythond_tls value=42 ${Date.now()}000000\n`) };

  const untrusting = new InfluxdbOutput({ ...noAuth, url: secure.url, database: 'tls', timeout: 5_000 });
  await assert.rejects(untrusting.write(body), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'OUTPUT_FAILED', 'retried, not dropped');
    assert.match(err.message, /cannot reach https:\/\/127\.0\.0\.1:\d+\/write\?db=tls&precision=ns: .*(self-signed|unable to verify)/);
    return true;
  });
  await untrusting.close();

  const trusting = new InfluxdbOutput({ ...noAuth, url: secure.url, database: 'tls', timeout: 5_000, tls_ca: certificates.ca });
  await trusting.write(body);
  await trusting.close();
  const [series] = (await waitFor(async () => {
    const exported = await secure.export('pythond_tls_value');
    return exported.length > 0 ? exported : undefined;
  }, 'the sample searchable'))!;
  assert.deepEqual(series?.values, [42]);
});

/** Metric lines in a buffer folder's segments, as a runner left them (read-only: the folder is not opened as a buffer). */
function bufferedMetricTimes(dir: string): string[] {
  const times: string[] = [];
  for (const name of readdirSync(dir)
    .filter((file) => file.endsWith('.wal'))
    .sort()) {
    const bytes = readFileSync(path.join(dir, name));
    for (const record of parseRecords(bytes.subarray(SEGMENT_MAGIC.length), SEGMENT_MAGIC.length, true).records) {
      if (record.category !== 'metric') continue;
      for (const line of Buffer.from(record.payload).toString().split('\n').filter(Boolean)) times.push(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return times;
}

test('points buffered when the runner is killed with SIGKILL while the backend is down arrive after a restart', async () => {
  const backend = await VictoriaMetrics.start();
  after(() => backend.close());
  await backend.stop();
  const { root, configFile } = seqRunnerTree(`[[outputs.influxdb]]\nurl = "${backend.url}"\ndatabase = "crash"\nflush_interval = "100ms"`);
  const bufferDir = path.join(root, 'data/buffer/influxdb-0');

  const first = startRunner(['--config', configFile]);
  after(() => void first.child.kill('SIGKILL'));
  await waitFor(() => {
    try {
      return bufferedMetricTimes(bufferDir).length >= 20;
    } catch {
      return false;
    }
  }, `20 points in ${bufferDir}`);
  first.child.kill('SIGKILL');
  await first.exited('the first runner to die on SIGKILL');
  const buffered = bufferedMetricTimes(bufferDir);

  await backend.start();
  const second = startRunner(['--config', configFile]);
  after(() => void second.child.kill('SIGKILL'));
  const storedMs = async (): Promise<Set<number>> => new Set((await backend.export('pythond_seq_n{db="crash"}')).flatMap((series) => series.timestamps));
  const expectedMs = buffered.map((time) => Number(BigInt(time) / 1_000_000n));
  await waitFor(
    async () => {
      const stored = await storedMs();
      return expectedMs.every((ms) => stored.has(ms));
    },
    `the ${buffered.length} buffered points in VictoriaMetrics (runner log: ${second.log()})`,
    60_000,
  );
  const { code } = await second.stop();
  assert.equal(code, 0, second.log());
});
