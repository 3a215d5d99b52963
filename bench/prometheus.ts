import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DirectOutput } from '../src/outputs/direct-output.js';
import { PrometheusOutput } from '../src/outputs/prometheus/prometheus-output.js';
import { RemoteWriteOutput } from '../src/outputs/prometheus-remote-write/remote-write-output.js';
import type { EncodedBatch, Point } from '../src/points/point.js';
import { OutputEvents } from '../src/telemetry/events/output-events.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { createMetrics } from '../src/telemetry/metrics.js';
import { encodeLineProtocol } from '../workers/encode.js';
import { PrometheusSamples } from '../workers/prometheus-samples.js';
import { freePort } from '../test/helpers/fixtures.js';
import { get, VictoriaMetrics } from '../test/helpers/metric-servers.js';
import { alternatingRates, bufferedRate, directRate } from './outputs.js';
import { percentile, type Figure } from './stats.js';

/**
 * The Prometheus outputs: the remote write output's throughput into a local
 * VictoriaMetrics (disk buffer included) beside POSTs of the same encoded
 * bodies, what encoding for it costs in a worker beside line protocol, and
 * what an exposition endpoint of 100,000 series costs: scrape time, memory,
 * and the main thread's delay while it is scraped.
 */

/** Points as collectors report them: 100 series, a float and an integer field, one second apart per series. */
function makePoints(count: number): Point[] {
  const start = BigInt(Date.now() - 3_600_000) * 1_000_000n;
  return Array.from({ length: count }, (_, i) => ({
    measurement: 'pythond_bench',
    tags: { host: `host-${i % 100}`, region: 'eu-west' },
    fields: { value: i * 0.37, count: BigInt(i) },
    time: String(start + BigInt(Math.floor(i / 100)) * 1_000_000_000n),
  }));
}

/** Remote write batches of `perBatch` points, as the workers encode them. */
function remoteWriteBatches(points: Point[], perBatch: number): EncodedBatch[] {
  const batches: EncodedBatch[] = [];
  for (let first = 0; first < points.length; first += perBatch) {
    const samples = new PrometheusSamples();
    const slice = points.slice(first, first + perBatch);
    for (const point of slice) samples.add(point);
    batches.push({ category: 'metric', points: slice.length, remoteWrite: samples.remoteWrite() });
  }
  return batches;
}

/** Points/s encoded, for remote write (grouping, protobuf, snappy) and as line protocol, on one thread. */
function encodeRates(points: Point[]): { remoteWrite: number; lineProtocol: number } {
  let started = performance.now();
  remoteWriteBatches(points, 1_000);
  const remoteWrite = points.length / ((performance.now() - started) / 1000);
  started = performance.now();
  let bytes = 0;
  for (const point of points) bytes += encodeLineProtocol(point).length;
  if (bytes === 0) throw new Error('nothing encoded');
  return { remoteWrite, lineProtocol: points.length / ((performance.now() - started) / 1000) };
}

const remoteWriteOutput = (vm: VictoriaMetrics): RemoteWriteOutput =>
  new RemoteWriteOutput({
    url: `${vm.url}/api/v1/write`,
    headers: {},
    timeout: 30_000,
    username: undefined,
    password: undefined,
    bearer_token: undefined,
    tls_ca: undefined,
  });

async function remoteWriteRows(vm: VictoriaMetrics): Promise<number> {
  const { body } = await get(`${vm.url}/metrics`);
  return Number(/^vm_rows_inserted_total\{type="promremotewrite"\} (\d+)/m.exec(body)?.[1] ?? 0);
}

/** Exposition lines of `series` series, `perBatch` a batch, as the workers write them. */
function expositionBatches(series: number, perBatch: number): EncodedBatch[] {
  const batches: EncodedBatch[] = [];
  const ms = Date.now();
  for (let first = 0; first < series; first += perBatch) {
    let text = '';
    for (let i = first; i < Math.min(series, first + perBatch); i++)
      text += `pythond_bench_value{host="host-${i}",region="eu-west",service="svc-${i % 50}"} ${i * 0.37} ${ms}\n`;
    batches.push({ category: 'metric', points: perBatch, exposition: Buffer.from(text) });
  }
  return batches;
}

function scrapeOnce(url: string): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve({ ms: performance.now() - started, bytes }));
      })
      .on('error', reject);
  });
}

/** The endpoint thread's heap, once it says another figure than `previous`. */
async function waitForHeap(metrics: ReturnType<typeof createMetrics>, previous: number | undefined): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const heap = (await metrics.outputSeriesHeap.get()).values[0]?.value;
    if (heap && heap !== previous) return heap;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the endpoint did not say its heap');
}

/** An endpoint of `series` series: its scrape time beside serving the same bytes ready-made, the memory it takes, and the main thread's delay while scraped. */
async function expositionFigures(series: number): Promise<Figure[]> {
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const port = await freePort();
  const metrics = createMetrics('bench');
  const endpoint = new PrometheusOutput(
    { listen: `127.0.0.1:${port}`, path: '/metrics', max_series: series, expiration: 3_600_000 },
    { loopToken: 'bench', events: new OutputEvents('prometheus[0]', silentLogger, metrics) },
  );
  const output = new DirectOutput('prometheus[0]', endpoint, metrics, silentLogger);
  await output.start();
  const url = `http://127.0.0.1:${port}/metrics`;
  try {
    const batches = expositionBatches(series, 10_000);
    let writeMs = 0;
    for (const batch of batches) {
      const started = performance.now();
      await output.write(batch);
      writeMs += performance.now() - started;
    }
    while (endpoint.details().series! < series) await new Promise((resolve) => setTimeout(resolve, 20));

    const lag = monitorEventLoopDelay({ resolution: 1 });
    lag.enable();
    const scrapes: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 10; i++) {
      const scrape = await scrapeOnce(url);
      scrapes.push(scrape.ms);
      bytes = scrape.bytes;
    }
    lag.disable();
    const rss = (process.memoryUsage().rss - rssBefore) / 1024 ** 2;
    // One more line, for the thread to say its heap after the scrapes.
    const previous = (await metrics.outputSeriesHeap.get()).values[0]?.value;
    await output.write({
      category: 'metric',
      points: 1,
      exposition: Buffer.from(`pythond_bench_value{host="host-0",region="eu-west",service="svc-0"} 1 ${Date.now()}\n`),
    });
    const heap = await waitForHeap(metrics, previous);

    // The baseline: the same number of bytes served ready-made by a plain server.
    const body = Buffer.alloc(bytes, 'x');
    const plain = http.createServer((_, res) => res.end(body));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const plainUrl = `http://127.0.0.1:${(plain.address() as { port: number }).port}/`;
    const plainScrapes: number[] = [];
    for (let i = 0; i < 10; i++) plainScrapes.push((await scrapeOnce(plainUrl)).ms);
    plain.close();

    return [
      {
        name: 'exposition_scrape_ms',
        value: percentile(scrapes, 50),
        unit: 'ms',
        baseline: { name: 'static_body_ms', value: percentile(plainScrapes, 50) },
        target: `${series} series, ${(bytes / 1024 ** 2).toFixed(1)} MB of text; p50 of 10`,
      },
      { name: 'exposition_main_thread_delay_p99_ms', value: lag.percentile(99) / 1e6, unit: 'ms', target: 'while scraped: rendering runs in its own thread' },
      { name: 'exposition_main_thread_write_ms', value: writeMs, unit: 'ms', target: `handing ${series} series to the endpoint, all batches` },
      {
        name: 'exposition_thread_heap_mb',
        value: heap / 1024 ** 2,
        unit: 'MB',
        target: `the endpoint thread's heap in use, ${series} series held, after the scrapes`,
      },
      { name: 'exposition_rss_growth_mb', value: rss, unit: 'MB', target: 'the whole process, the bench client and its batches included' },
    ];
  } finally {
    await output.close();
  }
}

export async function prometheusFigures(quick: boolean): Promise<Figure[]> {
  // First, in a process that has done nothing else yet, so its memory figure is the endpoint's.
  const exposition = await expositionFigures(100_000);
  const points = makePoints(quick ? 200_000 : 1_000_000);
  const encode = encodeRates(points.slice(0, 200_000));
  const batches = remoteWriteBatches(points, 1_000);
  const vm = await VictoriaMetrics.start();
  try {
    const rounds = quick ? 1 : 3;
    const { direct, buffered } = await alternatingRates(
      rounds,
      () => directRate(remoteWriteOutput(vm), batches),
      // 8 writes in flight, as the runner's default concurrency of 8 ticks delivers them (their appends share an fdatasync).
      () => bufferedRate(remoteWriteOutput(vm), batches, 8),
    );
    const rows = await remoteWriteRows(vm);
    if (rows < points.length * 2 * 2 * rounds)
      throw new Error(`VictoriaMetrics counted ${rows} remote write rows, expected ${points.length * 4 * rounds} (two fields, ${rounds * 2} runs)`);
    return [
      {
        name: 'remote_write_encode_points_per_s',
        value: encode.remoteWrite,
        unit: 'points/s',
        baseline: { name: 'line_protocol_encode_points_per_s', value: encode.lineProtocol },
        target: 'one worker thread: grouping by series, protobuf, snappy',
      },
      {
        name: 'remote_write_output_points_per_s',
        value: buffered,
        unit: 'points/s',
        baseline: { name: 'remote_write_direct_post_points_per_s', value: direct },
        target: '>= 0.8×; into VictoriaMetrics, disk buffer included, 8 writes in flight; medians of 3 runs each, in turns',
      },
      ...exposition,
    ];
  } finally {
    await vm.close();
  }
}
