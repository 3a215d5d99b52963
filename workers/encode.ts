import type { Category, FieldValue, Point } from '../src/points/point.js';

/**
 * The two encodings outputs consume. Both write time as integer nanoseconds;
 * JSON Lines writes integers and floats alike as JSON numbers.
 */

/**
 * Escaped names and tag values, remembered: a report repeats the same few
 * keys and values on every point, and escaping them again was a third of the
 * encoding time.
 */
export class EscapeCache {
  readonly #escape: (text: string) => string;
  #cache = new Map<string, string>();

  constructor(escapeText: (text: string) => string) {
    this.#escape = escapeText;
  }

  get(text: string): string {
    let escaped = this.#cache.get(text);
    if (escaped === undefined) {
      if (this.#cache.size >= 100_000) this.#cache = new Map(); // bounded: high-cardinality values just miss
      escaped = this.#escape(text);
      this.#cache.set(text, escaped);
    }
    return escaped;
  }
}

/** JSON-quoted names and tag values. */
const quoted = new EscapeCache((text) => JSON.stringify(text));

function jsonValue(value: FieldValue): string {
  switch (typeof value) {
    case 'number':
      return String(value); // what JSON.stringify writes for a finite number
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return JSON.stringify(value);
  }
}

/**
 * The encoded tags of a frozen tags object, which cannot change: a
 * line-protocol series' tags, filled once (write-lines.ts), are encoded once.
 */
export class FrozenTagsCache<T = string> {
  readonly #encode: (tags: Readonly<Record<string, string>>) => T;
  readonly #cache = new WeakMap<object, T>();

  constructor(encode: (tags: Readonly<Record<string, string>>) => T) {
    this.#encode = encode;
  }

  get(tags: Readonly<Record<string, string>>): T {
    if (!Object.isFrozen(tags)) return this.#encode(tags);
    let encoded = this.#cache.get(tags);
    if (encoded === undefined) {
      encoded = this.#encode(tags);
      this.#cache.set(tags, encoded);
    }
    return encoded;
  }
}

const jsonTags = new FrozenTagsCache((pointTags) => {
  let tags = '';
  for (const key in pointTags) tags += `${tags ? ',' : ''}${quoted.get(key)}:${quoted.get(pointTags[key]!)}`;
  return tags;
});

/** A JSON line up to its first field: `{"category":…,"measurement":…,"tags":{…},"fields":{`. */
export function jsonLineHead(category: Category, measurement: string, tags: Readonly<Record<string, string>>): string {
  return `{"category":"${category}","measurement":${quoted.get(measurement)},"tags":{${jsonTags.get(tags)}},"fields":{`;
}

/** A JSON-quoted field key. */
export const jsonKey = (key: string): string => quoted.get(key);

/** What follows a JSON line's last field. */
export const jsonLineTail = (time: string): string => `},"time":${time}}\n`;

export function encodeJsonLine(category: Category, point: Point): string {
  let line = jsonLineHead(category, point.measurement, point.tags);
  let first = true;
  for (const key in point.fields) {
    line += `${first ? '' : ','}${quoted.get(key)}:${jsonValue(point.fields[key]!)}`;
    first = false;
  }
  return line + jsonLineTail(point.time);
}

const measurements = new EscapeCache((text) => text.replace(/[\\, ]/g, '\\$&'));
const keys = new EscapeCache((text) => text.replace(/[\\,= ]/g, '\\$&'));
const escapeMeasurement = (text: string): string => measurements.get(text);
/** A tag key, tag value or field key, escaped for line protocol. */
export const escapeKey = (text: string): string => keys.get(text);
/** A string field's value, quoted for line protocol. */
export const lineProtocolString = (text: string): string => `"${text.replace(/[\\"]/g, '\\$&')}"`;

function lineProtocolValue(value: FieldValue): string {
  switch (typeof value) {
    case 'bigint':
      return `${value}i`;
    case 'number':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return lineProtocolString(value);
  }
}

const lineProtocolTags = new FrozenTagsCache((pointTags) => {
  let tags = '';
  for (const key of Object.keys(pointTags).sort()) {
    const value = pointTags[key]!;
    if (value !== '') tags += `,${escapeKey(key)}=${escapeKey(value)}`;
  }
  return tags;
});

/** A line-protocol line's measurement and tags, escaped: what comes before the space before its fields. */
export function lineProtocolSeries(measurement: string, tags: Readonly<Record<string, string>>): string {
  return escapeMeasurement(measurement) + lineProtocolTags.get(tags);
}

/** InfluxDB line protocol, tags sorted by key (as InfluxDB prefers); empty tag values are left out, as line protocol cannot carry them. */
export function encodeLineProtocol(point: Point): string {
  let line = lineProtocolSeries(point.measurement, point.tags);
  let first = true;
  for (const key in point.fields) {
    line += `${first ? ' ' : ','}${escapeKey(key)}=${lineProtocolValue(point.fields[key]!)}`;
    first = false;
  }
  return `${line} ${point.time}\n`;
}
