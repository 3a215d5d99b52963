import type { Category, FieldValue, Point, Precision } from '../src/points/point.js';
import { escapeKey, jsonKey, jsonLineHead, jsonLineTail, lineProtocolSeries, lineProtocolString } from './encode.js';
import { type LineFields, parseLineProtocol } from './line-protocol.js';
import type { PointBatcher } from './point-batcher.js';
import type { TagFiller } from './tag-filler.js';
import { InvalidPoint, missingNameTag, NO_FIELDS, toNanoseconds } from './validate-point.js';

/** What a body's series is encoded as, once: each of its points adds only fields and time. */
interface EncodedSeries {
  measurement: string;
  /** Its tags with the missing global ones added (frozen: the Prometheus encodings cache their labels by it). */
  tags: Readonly<Record<string, string>>;
  /** The JSON line up to the first field, when an output wants JSON Lines. */
  jsonHead: string;
  /** Measurement and tags as line protocol, when an output wants it. */
  lineProtocol: string;
  /** Why each of its points is refused, as the point path would refuse it (an object without a `name` tag). */
  problem?: string;
}

/**
 * Reads a line-protocol write body and encodes each valid point straight
 * into the outputs' encodings: no point object for JSON Lines or line
 * protocol, integers kept as their digits. It applies the point path's
 * rules (validatePoint, TagFiller: the point's tags, then the request's) and
 * writes the same bytes (test/workers/line-transcoder.test.ts holds it to
 * them). Only the Prometheus encodings, which group samples by series,
 * still get a point.
 */
export function transcodeLineProtocol(
  text: string,
  batch: { category: Category; precision: Precision; receivedAtNs: string; tags: TagFiller; batcher: PointBatcher },
): void {
  const { category, precision, receivedAtNs, tags, batcher } = batch;
  const { wants } = batcher;
  parseLineProtocol<EncodedSeries>(text, {
    series(measurement, own) {
      const filled = tags.fill(own);
      return {
        measurement,
        tags: filled,
        jsonHead: wants.jsonl ? jsonLineHead(category, measurement, filled) : '',
        lineProtocol: wants.lineProtocol ? lineProtocolSeries(measurement, filled) : '',
        problem: missingNameTag(category, own),
      };
    },
    point(line, series, fields, rawTime) {
      const problem = series.problem ?? (fields.count === 0 ? NO_FIELDS : undefined);
      if (problem) return batcher.reject(`line ${line}: ${problem}`);
      let time: string;
      try {
        time = toNanoseconds(rawTime, precision, receivedAtNs);
      } catch (err) {
        if (!(err instanceof InvalidPoint)) throw err;
        return batcher.reject(`line ${line}: ${err.message}`);
      }
      const sinks = batcher.next(category);
      sinks.jsonl?.append(jsonLine(series.jsonHead, fields, time));
      sinks.lineProtocol?.append(lineProtocolLine(series.lineProtocol, fields, time));
      sinks.prometheus?.add(pointOf(series, fields, time));
    },
    error: (line, message) => batcher.reject(`line ${line}, ${message}`),
  });
}

/** A number's text in JSON Lines and line protocol, as the point path wrote it (String(-0) is `0`). */
const numberText = (text: string): string => (text === '-0' ? '0' : text);

function jsonLine(head: string, fields: LineFields, time: string): string {
  let line = head;
  for (let i = 0; i < fields.count; i++) {
    const text = fields.texts[i]!;
    line += `${i === 0 ? '' : ','}${jsonKey(fields.keys[i]!)}:${fields.kinds[i] === 'string' ? JSON.stringify(text) : numberText(text)}`;
  }
  return line + jsonLineTail(time);
}

function lineProtocolLine(series: string, fields: LineFields, time: string): string {
  let line = series;
  for (let i = 0; i < fields.count; i++) {
    const text = fields.texts[i]!;
    const kind = fields.kinds[i];
    line += `${i === 0 ? ' ' : ','}${escapeKey(fields.keys[i]!)}=${kind === 'string' ? lineProtocolString(text) : kind === 'integer' ? `${text}i` : numberText(text)}`;
  }
  return `${line} ${time}\n`;
}

const TYPED: Record<LineFields['kinds'][number], (text: string) => FieldValue> = {
  float: Number,
  integer: BigInt,
  boolean: (text) => text === 'true',
  string: (text) => text,
};

function pointOf(series: EncodedSeries, fields: LineFields, time: string): Point {
  const values: Record<string, FieldValue> = {};
  for (let i = 0; i < fields.count; i++) values[fields.keys[i]!] = TYPED[fields.kinds[i]!](fields.texts[i]!);
  return { measurement: series.measurement, tags: series.tags as Record<string, string>, fields: values, time };
}
