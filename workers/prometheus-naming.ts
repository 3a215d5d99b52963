import type { Point } from '../src/points/point.js';
import { EscapeCache, FrozenTagsCache } from './encode.js';

/**
 * How a point becomes Prometheus samples, for remote write and the
 * exposition endpoint alike: one sample per numeric field, named
 * `<measurement>_<field>` as VictoriaMetrics names line protocol (its
 * default -influxMeasurementFieldSeparator; a field called "value" is no
 * exception), tags as labels. Names outside Prometheus' charset are
 * sanitised as VictoriaMetrics' -usePromCompatibleNaming does: each other
 * character becomes "_"; a leading digit gets a "_" before it (Prometheus
 * refuses it). Booleans are 1 and 0; strings are left out (counted).
 */

/** A series' labels other than __name__: sanitised names, sorted, no empty values. */
export interface SeriesLabels {
  /** [name, value] pairs sorted by name; never __name__. */
  pairs: readonly (readonly [string, string])[];
  /** The exposition's label text, `a="x",b="y"`, escaped; '' without labels. */
  text: string;
}

const sanitise = (text: string, invalid: RegExp): string => {
  const name = text.replace(invalid, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
};
/** Metric names may hold colons; label names may not. */
const metricNames = new EscapeCache((text) => sanitise(text, /[^a-zA-Z0-9_:]/gu));
const labelNames = new EscapeCache((text) => sanitise(text, /[^a-zA-Z0-9_]/gu));
const labelValues = new EscapeCache((text) => text.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`)));

/** `<measurement>_<field>`, sanitised. */
export function metricName(measurement: string, field: string): string {
  return metricNames.get(`${measurement}_${field}`);
}

function seriesLabels(tags: Readonly<Record<string, string>>): SeriesLabels {
  const byName = new Map<string, string>();
  // In the original keys' order, so when two tags sanitise to one name (host.name, host_name) the result does not depend on the report's order.
  for (const key of Object.keys(tags).sort()) {
    const value = tags[key]!;
    const name = labelNames.get(key);
    // An empty value is no label (Prometheus' rule); __name__ is the metric name's, which a tag cannot change (nor can it in VictoriaMetrics).
    if (value === '' || name === '__name__' || byName.has(name)) continue;
    byName.set(name, value);
  }
  const pairs = [...byName].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { pairs, text: pairs.map(([name, value]) => `${name}="${labelValues.get(value)}"`).join(',') };
}

/**
 * Label sets by the tags they came from, keyed by the tags' text: points of
 * one series (JSON reports repeat their tags on every point) share one, so
 * its names are sanitised and sorted, and its protobuf encoded, once.
 */
let labelsByTags = new Map<string, SeriesLabels>();

function labelsOfText(tags: Readonly<Record<string, string>>): SeriesLabels {
  let key = '';
  for (const name in tags) key += `${name}\u0000${tags[name]}\u0000`;
  let labels = labelsByTags.get(key);
  if (labels === undefined) {
    if (labelsByTags.size >= 100_000) labelsByTags = new Map(); // bounded: high-cardinality tags just miss
    labels = seriesLabels(tags);
    labelsByTags.set(key, labels);
  }
  return labels;
}

const labelsOfFrozenTags = new FrozenTagsCache(labelsOfText);

export function labelsOf(point: Point): SeriesLabels {
  return labelsOfFrozenTags.get(point.tags);
}

/** The exposition's text for a series: `name{labels}`, or `name` alone. */
export function seriesText(name: string, labels: SeriesLabels): string {
  return labels.text === '' ? name : `${name}{${labels.text}}`;
}

/** A field's sample value; undefined for a string (Prometheus holds numbers only). */
export function sampleValue(value: Point['fields'][string]): number | undefined {
  switch (typeof value) {
    case 'number':
      return value;
    case 'bigint':
      return Number(value);
    case 'boolean':
      return value ? 1 : 0;
    default:
      return undefined;
  }
}

/** ns since the epoch (decimal digits) → ms, rounded down as VictoriaMetrics' line protocol import does. */
export function toMilliseconds(ns: string): number {
  if (ns.length > 6 && ns[0] !== '-') return Number(ns.slice(0, -6));
  const whole = BigInt(ns) / 1_000_000n;
  return Number(BigInt(ns) < whole * 1_000_000n ? whole - 1n : whole);
}
