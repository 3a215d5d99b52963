import type { Point } from '../src/points/point.js';
import { labelsOf, metricName, sampleValue, seriesText, toMilliseconds, type SeriesLabels } from './prometheus-naming.js';
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
  /** By label set, then by name: no series text is built to find a series again. */
  readonly #series = new Map<SeriesLabels, Map<string, Series>>();
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
      let byName = this.#series.get(labels);
      if (!byName) {
        byName = new Map();
        this.#series.set(labels, byName);
      }
      let series = byName.get(name);
      if (!series) {
        series = { name, labels, text: seriesText(name, labels), values: [], times: [] };
        byName.set(name, series);
      }
      series.values.push(value);
      series.times.push(time);
    }
  }

  /** A snappy-compressed WriteRequest of every sample. */
  remoteWrite(): Uint8Array<ArrayBuffer> {
    const all = this.#all();
    for (const series of all) sortByTime(series);
    return snappyCompress(encodeWriteRequest(all));
  }

  /** Text-format lines, `name{labels} value timestamp_ms`, the latest sample of each series. */
  exposition(): Uint8Array<ArrayBuffer> {
    let text = '';
    for (const series of this.#all()) {
      let latest = 0;
      for (let i = 1; i < series.times.length; i++) if (series.times[i]! >= series.times[latest]!) latest = i;
      text += `${series.text} ${formatValue(series.values[latest]!)} ${series.times[latest]}\n`;
    }
    // A buffer of its own, not a slice of Node's shared pool: it is moved to the main thread.
    const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
    bytes.write(text);
    return new Uint8Array(bytes.buffer, 0, bytes.length);
  }

  #all(): Series[] {
    return [...this.#series.values()].flatMap((byName) => [...byName.values()]);
  }
}
