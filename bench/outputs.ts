import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { silentLogger } from '../src/logger.js';
import { DiskBuffer } from '../src/outputs/buffer/disk-buffer.js';
import { BufferedOutput } from '../src/outputs/buffered-output.js';
import { InfluxdbOutput } from '../src/outputs/influxdb/influxdb-output.js';
import type { EncodedBatch } from '../src/points/point.js';
import { createMetrics } from '../src/telemetry/metrics.js';
import { get, VictoriaMetrics } from '../test/helpers/metric-servers.js';

/**
 * Delivery figures: what the disk buffer costs per point, and how many points
 * per second the influxdb output moves into a local VictoriaMetrics (started
 * here on a free port) through BufferedOutput, buffer included.
 */

/** Batches of line protocol as the workers make them: 100 series, a float and an integer field, ns times. */
function makeBatches(points: number, pointsPerBatch: number): EncodedBatch[] {
  const batches: EncodedBatch[] = [];
  const start = BigInt(Date.now() - 3_600_000) * 1_000_000n;
  for (let first = 0; first < points; first += pointsPerBatch) {
    let text = '';
    const count = Math.min(pointsPerBatch, points - first);
    for (let i = first; i < first + count; i++) {
      text += `pythond_bench,host=host-${i % 100},region=eu-west value=${(i * 0.37).toFixed(2)},count=${i}i ${start + BigInt(i) * 1_000_000n}\n`;
    }
    batches.push({ category: 'metric', points: count, lineProtocol: Buffer.from(text) });
  }
  return batches;
}

const tempDir = (): string => mkdtempSync(path.join(os.tmpdir(), 'pythond-bench-'));

/** Appends `batches` to a fresh buffer, `inFlight` appends at a time; µs per point and MB/s. */
async function measureBufferAppends(batches: EncodedBatch[], inFlight: number): Promise<{ usPerPoint: number; mbPerS: number }> {
  const dir = tempDir();
  const buffer = await DiskBuffer.open({ dir, maxBytes: 1024 ** 3, log: silentLogger, onDrop: () => {} });
  let points = 0;
  let bytes = 0;
  const started = performance.now();
  for (let i = 0; i < batches.length; i += inFlight) {
    await Promise.all(
      batches.slice(i, i + inFlight).map((batch) => {
        points += batch.points;
        bytes += batch.lineProtocol!.byteLength;
        return buffer.append({ category: batch.category, points: batch.points, payload: batch.lineProtocol! });
      }),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  await buffer.close();
  rmSync(dir, { recursive: true, force: true });
  return { usPerPoint: (seconds * 1e6) / points, mbPerS: bytes / 1024 ** 2 / seconds };
}

/** Pushes `batches` through BufferedOutput + InfluxdbOutput into VictoriaMetrics; points/s from the first write to the last point sent. */
async function measureInfluxdbOutput(vm: VictoriaMetrics, batches: EncodedBatch[]): Promise<number> {
  const dir = tempDir();
  const metrics = createMetrics('bench');
  const influx = new InfluxdbOutput({ url: vm.url, database: 'bench', timeout: 30_000, username: undefined, password: undefined, token: undefined, tls_ca: undefined });
  const output = new BufferedOutput('influxdb[0]', influx, { dir, batchSize: 5_000, flushIntervalMs: 1_000, bufferBytes: 1024 ** 3 }, metrics, silentLogger);
  await output.start();
  const total = batches.reduce((sum, batch) => sum + batch.points, 0);
  const sent = async (): Promise<number> => (await metrics.outputPoints.get()).values.find((value) => value.labels.status === 'sent')?.value ?? 0;

  const started = performance.now();
  for (const batch of batches) await output.write(batch);
  while ((await sent()) < total) await new Promise((resolve) => setTimeout(resolve, 5));
  const seconds = (performance.now() - started) / 1000;
  await output.close(10_000);
  rmSync(dir, { recursive: true, force: true });

  const inserted = await get(`${vm.url}/metrics`).then(({ body }) => Number(/^vm_rows_inserted_total\{type="influx"\} (\d+)/m.exec(body)?.[1] ?? 0));
  if (inserted < total * 2) throw new Error(`VictoriaMetrics counted ${inserted} inserted rows, expected ${total * 2} (two fields per point)`);
  return total / seconds;
}

/** The named figures of this benchmark. */
export async function benchOutputs(options: { points?: number } = {}): Promise<Record<string, number>> {
  const points = options.points ?? 1_000_000;
  const batches = makeBatches(points, 1_000);
  const one = await measureBufferAppends(batches, 1);
  const sixteen = await measureBufferAppends(batches, 16);
  const vm = await VictoriaMetrics.start();
  try {
    const pointsPerSecond = await measureInfluxdbOutput(vm, batches);
    return {
      buffer_append_us_per_point: round(one.usPerPoint),
      buffer_append_mb_per_s: round(one.mbPerS),
      buffer_append_16_in_flight_us_per_point: round(sixteen.usPerPoint),
      buffer_append_16_in_flight_mb_per_s: round(sixteen.mbPerS),
      influxdb_output_to_victoriametrics_points_per_s: Math.round(pointsPerSecond),
    };
  } finally {
    await vm.close();
  }
}

const round = (value: number): number => Math.round(value * 1000) / 1000;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchOutputs(), null, 2));
}
