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
class EscapeCache {
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

export function encodeJsonLine(category: Category, point: Point): string {
  let tags = '';
  for (const key in point.tags) tags += `${tags ? ',' : ''}${quoted.get(key)}:${quoted.get(point.tags[key]!)}`;
  let fields = '';
  for (const key in point.fields) fields += `${fields ? ',' : ''}${quoted.get(key)}:${jsonValue(point.fields[key]!)}`;
  return `{"category":"${category}","measurement":${quoted.get(point.measurement)},"tags":{${tags}},"fields":{${fields}},"time":${point.time}}\n`;
}

const measurements = new EscapeCache((text) => text.replace(/[\\, ]/g, '\\$&'));
const keys = new EscapeCache((text) => text.replace(/[\\,= ]/g, '\\$&'));
const escapeMeasurement = (text: string): string => measurements.get(text);
const escapeKey = (text: string): string => keys.get(text);
const escapeString = (text: string): string => text.replace(/[\\"]/g, '\\$&');

function lineProtocolValue(value: FieldValue): string {
  switch (typeof value) {
    case 'bigint':
      return `${value}i`;
    case 'number':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return `"${escapeString(value)}"`;
  }
}

/** InfluxDB line protocol, tags sorted by key (as InfluxDB prefers); empty tag values are left out, as line protocol cannot carry them. */
export function encodeLineProtocol(point: Point): string {
  let line = escapeMeasurement(point.measurement);
  for (const key of Object.keys(point.tags).sort()) {
    const value = point.tags[key]!;
    if (value !== '') line += `,${escapeKey(key)}=${escapeKey(value)}`;
  }
  let first = true;
  for (const key in point.fields) {
    line += `${first ? ' ' : ','}${escapeKey(key)}=${lineProtocolValue(point.fields[key]!)}`;
    first = false;
  }
  return `${line} ${point.time}\n`;
}
