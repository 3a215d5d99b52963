import type { Point } from '../src/points/point.js';
import { labelsOf, metricName, sampleValue, seriesText, toMilliseconds } from './prometheus-naming.js';
import { encodeWriteRequest, type RemoteWriteSeries } from './remote-write.js';
import { snappyCompress } from './snappy.js';

interface Series extends RemoteWriteSeries {
  /** `name{labels}` as the exposition writes it; also the series' identity. */
  text: string;
}

/** Values as the text format writes them (Go's ParseFloat reads every JS number text, 1e+21 included). */
const formatValue = (value: number): string => String(value);

/** Samples in time order; stable, so two samples of one time stay in the order reported (the later one wins). */
function sortByTime(series: Series): void {
  const { times, values } = series;
  let sorted = true;
  for (let i = 1; i < times.length && sorted; i++) sorted = times[i - 1]! <= times[i]!;
  if (sorted) return;
  const order = times.map((_, i) => i).sort((a, b) => times[a]! - times[b]!);
  series.times = order.map((i) => times[i]!);
  series.values = order.map((i) => values[i]!);
}

/**
 * The samples of one batch of metric points, grouped by series: a remote
 * write request sends the samples of a series in time order (the spec asks
 * it, Prometheus refuses older samples after newer ones), and the exposition
 * endpoint keeps only each series' latest.
 */
export class PrometheusSamples {
  readonly #series = new Map<string, Series>();
  /** String fields left out: Prometheus holds numbers only. */
  stringFields = 0;

  add(point: Point): void {
    const labels = labelsOf(point);
    let time: number | undefined;
    for (const field in point.fields) {
      const value = sampleValue(point.fields[field]!);
      if (value === undefined) {
        this.stringFields++;
        continue;
      }
      time ??= toMilliseconds(point.time);
      const name = metricName(point.measurement, field);
      const text = seriesText(name, labels);
      let series = this.#series.get(text);
      if (!series) {
        series = { name, labels, text, values: [], times: [] };
        this.#series.set(text, series);
      }
      series.values.push(value);
      series.times.push(time);
    }
  }

  /** A snappy-compressed WriteRequest of every sample. */
  remoteWrite(): Uint8Array<ArrayBuffer> {
    for (const series of this.#series.values()) sortByTime(series);
    return snappyCompress(encodeWriteRequest(this.#series.values()));
  }

  /** Text-format lines, `name{labels} value timestamp_ms`, the latest sample of each series. */
  exposition(): Uint8Array<ArrayBuffer> {
    let text = '';
    for (const series of this.#series.values()) {
      let latest = 0;
      for (let i = 1; i < series.times.length; i++) if (series.times[i]! >= series.times[latest]!) latest = i;
      text += `${series.text} ${formatValue(series.values[latest]!)} ${series.times[latest]}\n`;
    }
    // A buffer of its own, not a slice of Node's shared pool: it is moved to the main thread.
    const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
    bytes.write(text);
    return new Uint8Array(bytes.buffer, 0, bytes.length);
  }
}
