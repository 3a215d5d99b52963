import type { Category, FieldValue, Point } from '../src/points/point.js';

/**
 * The two encodings outputs consume. Both write time as integer nanoseconds;
 * JSON Lines writes integers and floats alike as JSON numbers.
 */

function jsonValue(value: FieldValue): string {
  return typeof value === 'bigint' ? value.toString() : JSON.stringify(value);
}

export function encodeJsonLine(category: Category, point: Point): string {
  let fields = '';
  for (const key in point.fields) fields += `${fields ? ',' : ''}${JSON.stringify(key)}:${jsonValue(point.fields[key]!)}`;
  return `{"category":"${category}","measurement":${JSON.stringify(point.measurement)},"tags":${JSON.stringify(point.tags)},"fields":{${fields}},"time":${point.time}}\n`;
}

const escapeMeasurement = (text: string): string => text.replace(/[\\, ]/g, '\\$&');
const escapeKey = (text: string): string => text.replace(/[\\,= ]/g, '\\$&');
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
