import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { after, test } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { DirectOutput } from '../../src/outputs/direct-output.js';
import { PrometheusOutput } from '../../src/outputs/prometheus/prometheus-output.js';
import { PLUGINS } from '../../src/plugins.js';
import { OutputEvents } from '../../src/telemetry/events/output-events.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { collectedPoints, seqRunnerTree } from '../helpers/collectors.js';
import { freePort, waitFor } from '../helpers/fixtures.js';
import { get, Prometheus } from '../helpers/metric-servers.js';

const scrape = (url: string, accept?: string): Promise<Response> => fetch(url, accept ? { headers: { accept } } : {});

test('a Prometheus scraping [[outputs.prometheus]] gets the series remote write sends, with the samples’ own values and times', async () => {
  const port = await freePort();
  const prometheus = await Prometheus.start({ scrape: [{ job: 'pythond', target: `127.0.0.1:${port}`, path: '/metrics' }] });
  after(() => prometheus.close());
  const { configFile, pointsFile } = seqRunnerTree(`
    [[outputs.prometheus]]
    listen = "127.0.0.1:${port}"
    [[outputs.prometheus_remote_write]]
    url = "${prometheus.writeUrl}"
    flush_interval = "100ms"
  `);
  const app = new App(loadConfig({ file: configFile }, PLUGINS), { log: silentLogger });
  await app.start();
  after(() => app.stop());
  await waitFor(() => collectedPoints(pointsFile).length >= 10, 'five ticks');

  const series = async (job: boolean) =>
    (await prometheus.series(`{__name__=~"pythond_seq_.*", job${job ? '=' : '!='}"pythond"}`)).map(({ metric, samples }) => {
      const { job: _job, instance: _instance, ...labels } = metric;
      return { key: JSON.stringify(Object.entries(labels).sort()), samples };
    });
  const scraped = (await waitFor(async () => {
    const found = await series(true);
    return found.length === 6 && found.every((one) => one.samples.length >= 2) ? found : undefined;
  }, 'two scrapes of n, half and up of both parities'))!;
  // Remote write goes through the disk buffer: what was just scraped may still be on its way there.
  const pushed = (await waitFor(async () => {
    const found = new Map((await series(false)).map(({ key, samples }) => [key, new Map(samples)]));
    return scraped.every(({ key, samples }) => samples.every(([ms]) => found.get(key)?.has(ms))) ? found : undefined;
  }, 'every scraped sample sent by remote write too'))!;
  assert.deepEqual(scraped.map(({ key }) => key).sort(), [...pushed.keys()].sort(), 'the same series both ways');
  for (const { key, samples } of scraped) {
    for (const [ms, value] of samples) assert.equal(pushed.get(key)?.get(ms), value, `${key} at ${ms}: a sample remote write sent too`);
  }
});

test('the endpoint speaks the text format, OpenMetrics when asked, and names its path on any other', async () => {
  const port = await freePort();
  const { configFile, pointsFile } = seqRunnerTree(`[[outputs.prometheus]]\nlisten = "127.0.0.1:${port}"\npath = "/points"`);
  const app = new App(loadConfig({ file: configFile }, PLUGINS), { log: silentLogger });
  await app.start();
  after(() => app.stop());
  await waitFor(() => collectedPoints(pointsFile).length >= 4, 'two ticks');
  const url = `http://127.0.0.1:${port}/points`;

  const text = await scrape(url);
  assert.equal(text.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const families = parsePrometheusTextFormat(await text.text());
  assert.deepEqual(families.map((family) => [family.name, family.type, family.metrics.length]).sort(), [
    ['pythond_seq_half', 'UNTYPED', 2],
    ['pythond_seq_n', 'UNTYPED', 2],
    ['pythond_seq_up', 'UNTYPED', 2],
  ]);

  const openMetrics = await scrape(url, 'application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5');
  assert.equal(openMetrics.headers.get('content-type'), 'application/openmetrics-text; version=1.0.0; charset=utf-8');
  const body = await openMetrics.text();
  assert.match(body, /^# TYPE pythond_seq_n unknown\npythond_seq_n\{host="test",parity="(odd|even)"\} \d+ \d{10}\.\d{3}\n/m);
  assert.ok(body.endsWith('# EOF\n'));

  const elsewhere = await get(`http://127.0.0.1:${port}/metrics`);
  assert.deepEqual(elsewhere, { status: 404, body: 'not found: the samples are at /points\n' });
  const pointsSeries = (await app.metrics.outputSeries.get()).values[0]?.value;
  assert.equal(pointsSeries, 6);
  assert.equal(app.outputs.status().find((status) => status.id === 'prometheus[0]')?.target, url);
});

/** An endpoint run as the runner runs it, fed exposition lines directly. */
async function endpoint(options: { max_series: number; expiration: number | undefined }) {
  const port = await freePort();
  const metrics = createMetrics('test');
  const id = 'prometheus[0]';
  const output = new PrometheusOutput(
    { listen: `127.0.0.1:${port}`, path: '/metrics', ...options },
    { loopToken: 'x', events: new OutputEvents(id, silentLogger, metrics) },
  );
  const running = new DirectOutput(id, output, metrics, silentLogger);
  await running.start();
  after(() => running.close());
  const write = (lines: string[]) => running.write({ category: 'metric', points: lines.length, exposition: Buffer.from(lines.join('')) });
  const series = async () => (await (await scrape(`http://127.0.0.1:${port}/metrics`)).text()).split('\n').filter((line) => line && !line.startsWith('#'));
  return { metrics, write, series };
}

test('the endpoint holds at most max_series series, dropping the least recently reported and counting them', async () => {
  const { metrics, write, series } = await endpoint({ max_series: 1_000, expiration: undefined });
  for (let round = 0; round < 3; round++) await write(Array.from({ length: 1_000 }, (_, i) => `m_v{i="${round * 1_000 + i}"} ${i} 1000\n`));
  const held = await waitFor(async () => {
    const lines = await series();
    return lines.some((line) => line.startsWith('m_v{i="2999"}')) ? lines : undefined;
  }, 'the last batch applied');
  assert.equal(held.length, 1_000);
  assert.ok(
    held.every((line) => Number(/i="(\d+)"/.exec(line)![1]) >= 2_000),
    'the newest thousand',
  );
  const dropped = (await metrics.outputSeriesDropped.get()).values.find(({ labels }) => labels.reason === 'max_series')?.value;
  assert.equal(dropped, 2_000);
  assert.equal((await metrics.outputSeries.get()).values[0]?.value, 1_000);
});

test('a series not reported for the expiration leaves the endpoint', async () => {
  const { write, series } = await endpoint({ max_series: 100, expiration: 1_000 });
  await write(['gone_v 1 1000\n']);
  await waitFor(async () => (await series()).length === 1, 'the series served');
  await waitFor(async () => (await series()).length === 0, 'the series expired', 10_000, 200);
});

test('a reload that changes the endpoint’s block replaces it on the same address', async () => {
  const port = await freePort();
  const { configFile, pointsFile } = seqRunnerTree(`[[outputs.prometheus]]\nlisten = "127.0.0.1:${port}"\nmax_series = 100`);
  const app = new App(loadConfig({ file: configFile }, PLUGINS), { log: silentLogger, source: { load: () => loadConfig({ file: configFile }, PLUGINS) } });
  await app.start();
  after(() => app.stop());
  writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('max_series = 100', 'max_series = 200'));
  const result = await app.reload('test');
  assert.equal(result.result, 'ok', JSON.stringify(result));
  const before = collectedPoints(pointsFile).length;
  await waitFor(() => collectedPoints(pointsFile).length >= before + 4, 'two ticks after the reload');
  const body = await waitFor(async () => {
    const text = await (await scrape(`http://127.0.0.1:${port}/metrics`)).text();
    return text.includes('pythond_seq_n{') ? text : undefined;
  }, 'the new endpoint serving the ticks');
  assert.match(body, /^pythond_seq_n\{host="test",parity="(odd|even)"\} \d+ \d+$/m);
});

test('an endpoint whose address is taken stops the start, naming the address', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  after(() => taken.close());
  const { port } = taken.address() as net.AddressInfo;
  const { configFile } = seqRunnerTree(`[[outputs.prometheus]]\nlisten = "127.0.0.1:${port}"`);
  const app = new App(loadConfig({ file: configFile }, PLUGINS), { log: silentLogger });
  await assert.rejects(app.start(), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use`));
  await app.stop();
});
