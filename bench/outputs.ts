import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../src/telemetry/logger.js';
import { OutputEvents } from '../src/telemetry/events/output-events.js';
import { DiskBuffer } from '../src/outputs/buffer/disk-buffer.js';
import { BufferedOutput } from '../src/outputs/buffered-output.js';
import { InfluxdbOutput } from '../src/outputs/influxdb/influxdb-output.js';
import type { EncodedBatch } from '../src/points/point.js';
import type { Output } from '../src/outputs/output.js';
import { createMetrics } from '../src/telemetry/metrics.js';
import { get, VictoriaMetrics } from '../test/helpers/metric-servers.js';
import { percentile, type Figure } from './stats.js';

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
async function bufferAppends(batches: EncodedBatch[], inFlight: number): Promise<{ usPerPoint: number; mbPerS: number }> {
  const dir = tempDir();
  const events = new OutputEvents('bench', silentLogger, createMetrics('bench'));
  const buffer = await DiskBuffer.open({ dir, maxBytes: 1024 ** 3, events, onDrop: () => {} });
  const started = performance.now();
  for (let i = 0; i < batches.length; i += inFlight) {
    await Promise.all(
      batches.slice(i, i + inFlight).map((batch) => buffer.append({ category: batch.category, points: batch.points, payload: batch.lineProtocol! })),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  await buffer.close();
  rmSync(dir, { recursive: true, force: true });
  return rates(batches, seconds);
}

/** The baseline: the same bytes appended to one file, one write and one fdatasync per batch. */
async function plainAppends(batches: EncodedBatch[]): Promise<{ usPerPoint: number; mbPerS: number }> {
  const dir = tempDir();
  const file = await open(path.join(dir, 'plain'), 'a');
  const started = performance.now();
  for (const batch of batches) {
    await file.write(batch.lineProtocol!);
    await file.datasync();
  }
  const seconds = (performance.now() - started) / 1000;
  await file.close();
  rmSync(dir, { recursive: true, force: true });
  return rates(batches, seconds);
}

function rates(batches: EncodedBatch[], seconds: number): { usPerPoint: number; mbPerS: number } {
  const points = batches.reduce((sum, batch) => sum + batch.points, 0);
  const bytes = batches.reduce((sum, batch) => sum + batch.lineProtocol!.byteLength, 0);
  return { usPerPoint: (seconds * 1e6) / points, mbPerS: bytes / 1024 ** 2 / seconds };
}

const influxdbOutput = (vm: VictoriaMetrics): InfluxdbOutput =>
  new InfluxdbOutput({ url: vm.url, database: 'bench', timeout: 30_000, username: undefined, password: undefined, token: undefined, tls_ca: undefined });

/**
 * Points/s through BufferedOutput around `output` (its disk buffer
 * included), from the first write to the last point sent; `inFlight` writes
 * at a time, as that many ticks deliver at once.
 */
export async function bufferedRate(output: Output, batches: EncodedBatch[], inFlight: number): Promise<number> {
  const dir = tempDir();
  const metrics = createMetrics('bench');
  const buffered = new BufferedOutput('bench[0]', output, { dir, batchSize: 5_000, flushIntervalMs: 1_000, bufferBytes: 1024 ** 3 }, metrics, silentLogger);
  await buffered.start();
  const total = batches.reduce((sum, batch) => sum + batch.points, 0);
  const sent = async (): Promise<number> => (await metrics.outputPoints.get()).values.find((value) => value.labels.status === 'sent')?.value ?? 0;
  const started = performance.now();
  for (let i = 0; i < batches.length; i += inFlight) await Promise.all(batches.slice(i, i + inFlight).map((batch) => buffered.write(batch)));
  while ((await sent()) < total) await new Promise((resolve) => setTimeout(resolve, 5));
  const seconds = (performance.now() - started) / 1000;
  await buffered.close(10_000);
  rmSync(dir, { recursive: true, force: true });
  return total / seconds;
}

/** The baseline: the same batches POSTed straight by `output`, five (5,000 points) a request joined as the buffered output joins them, no buffer. */
export async function directRate(output: Output, batches: EncodedBatch[]): Promise<number> {
  const join = output.join?.bind(output) ?? ((payloads: Uint8Array[]) => Buffer.concat(payloads));
  const total = batches.reduce((sum, batch) => sum + batch.points, 0);
  const started = performance.now();
  for (let i = 0; i < batches.length; i += 5) {
    const group = batches.slice(i, i + 5);
    const points = group.reduce((sum, batch) => sum + batch.points, 0);
    await output.write({ category: 'metric', points, [output.encoding]: join(group.map((batch) => batch[output.encoding]!)) });
  }
  const seconds = (performance.now() - started) / 1000;
  await output.close?.();
  return total / seconds;
}

/**
 * The median of `rounds` runs of each, one after the other in turns: the
 * destination and the JIT warm up over the first runs, and runs of one build
 * on this machine vary by half.
 */
export async function alternatingRates(
  rounds: number,
  direct: () => Promise<number>,
  buffered: () => Promise<number>,
): Promise<{ direct: number; buffered: number }> {
  const directs: number[] = [];
  const buffereds: number[] = [];
  for (let round = 0; round < rounds; round++) {
    directs.push(await direct());
    buffereds.push(await buffered());
  }
  return { direct: percentile(directs, 50), buffered: percentile(buffereds, 50) };
}

async function insertedRows(vm: VictoriaMetrics): Promise<number> {
  const { body } = await get(`${vm.url}/metrics`);
  return Number(/^vm_rows_inserted_total\{type="influx"\} (\d+)/m.exec(body)?.[1] ?? 0);
}

/**
 * The delivery figures, each beside a baseline from the same run: the disk
 * buffer's append cost against plain appends with fdatasync, and the influxdb
 * output's throughput into VictoriaMetrics (buffer included) against posting
 * the same batches directly. 1e6 points, or 2e5 with `quick`.
 */
export async function outputFigures(quick: boolean): Promise<Figure[]> {
  const batches = makeBatches(quick ? 200_000 : 1_000_000, 1_000);
  const plain = await plainAppends(batches);
  const one = await bufferAppends(batches, 1);
  const sixteen = await bufferAppends(batches, 16);
  const vm = await VictoriaMetrics.start();
  try {
    const rounds = quick ? 1 : 3;
    const { direct, buffered } = await alternatingRates(
      rounds,
      () => directRate(influxdbOutput(vm), batches),
      () => bufferedRate(influxdbOutput(vm), batches, 1),
    );
    const total = batches.reduce((sum, batch) => sum + batch.points, 0);
    const inserted = await insertedRows(vm);
    if (inserted < total * 2 * 2 * rounds)
      throw new Error(`VictoriaMetrics counted ${inserted} inserted rows, expected ${total * 4 * rounds} (two fields, ${rounds * 2} runs)`);
    const plainUs = { name: 'plain_append_fdatasync_us_per_point', value: plain.usPerPoint };
    const plainMb = { name: 'plain_append_fdatasync_mb_per_s', value: plain.mbPerS };
    return [
      { name: 'buffer_append_us_per_point', value: one.usPerPoint, unit: 'µs/point', baseline: plainUs, target: '1,000-point batches one at a time' },
      { name: 'buffer_append_mb_per_s', value: one.mbPerS, unit: 'MB/s', baseline: plainMb },
      { name: 'buffer_group_commit_us_per_point', value: sixteen.usPerPoint, unit: 'µs/point', baseline: plainUs, target: '16 batches in flight' },
      { name: 'buffer_group_commit_mb_per_s', value: sixteen.mbPerS, unit: 'MB/s', baseline: plainMb },
      {
        name: 'influxdb_output_points_per_s',
        value: buffered,
        unit: 'points/s',
        baseline: { name: 'direct_post_points_per_s', value: direct },
        target: 'into VictoriaMetrics, disk buffer included; baseline: POSTs of 5,000 points; medians of 3 runs each, in turns',
      },
    ];
  } finally {
    await vm.close();
  }
}
