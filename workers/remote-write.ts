import type { SeriesLabels } from './prometheus-naming.js';
import { varintLength, writeVarint } from './varint.js';

/**
 * Prometheus remote write 1.0's WriteRequest, written by hand (the schema is
 * four messages; github.com/prometheus/prometheus prompb/types.proto):
 *
 *   WriteRequest { repeated TimeSeries timeseries = 1; }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   Label        { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp = 2; }   // ms
 *
 * Two WriteRequests one after the other are one WriteRequest holding the
 * series of both (repeated fields concatenate), which is how a request is
 * made of several buffered batches.
 */

/** One series of a request: its name and labels, and its samples in time order. */
export interface RemoteWriteSeries {
  name: string;
  labels: SeriesLabels;
  values: number[];
  /** ms since the epoch, ascending. */
  times: number[];
}

/** An int64 as protobuf writes it: a negative one is its 64-bit two's complement, ten bytes. */
const int64Length = (value: number): number => (value < 0 ? 10 : varintLength(value));

/** A Label field (tag 1 of TimeSeries), whole. */
function labelField(name: string, value: string): Buffer {
  const nameBytes = Buffer.from(name);
  const valueBytes = Buffer.from(value);
  const inner = 1 + varintLength(nameBytes.length) + nameBytes.length + 1 + varintLength(valueBytes.length) + valueBytes.length;
  const field = Buffer.allocUnsafe(1 + varintLength(inner) + inner);
  let at = field.writeUInt8(0x0a, 0);
  at = writeVarint(field, at, inner);
  at = field.writeUInt8(0x0a, at);
  at = writeVarint(field, at, nameBytes.length);
  at += nameBytes.copy(field, at);
  at = field.writeUInt8(0x12, at);
  at = writeVarint(field, at, valueBytes.length);
  valueBytes.copy(field, at);
  return field;
}

function writeInt64(out: Buffer, at: number, value: number): number {
  if (value >= 0) return writeVarint(out, at, value);
  let bits = BigInt.asUintN(64, BigInt(value));
  for (let i = 0; i < 9; i++, bits >>= 7n) out[at++] = Number(bits & 0x7fn) | 0x80;
  out[at++] = Number(bits);
  return at;
}

/** A label set's fields, encoded once per label set, split where __name__ sorts in. */
interface EncodedLabels {
  before: Buffer[];
  after: Buffer[];
  bytes: number;
}

const encodedLabels = new WeakMap<SeriesLabels, EncodedLabels>();
/** The __name__ label field of each metric name; bounded, as names come from user data. */
let nameFields = new Map<string, Buffer>();

function labelsOf(labels: SeriesLabels): EncodedLabels {
  let encoded = encodedLabels.get(labels);
  if (!encoded) {
    const fields = labels.pairs.map(([name, value]) => labelField(name, value));
    // Labels go sorted by name; uppercase names sort before "__name__".
    const cut = labels.pairs.findIndex(([name]) => name > '__name__');
    const at = cut === -1 ? fields.length : cut;
    encoded = { before: fields.slice(0, at), after: fields.slice(at), bytes: fields.reduce((sum, field) => sum + field.length, 0) };
    encodedLabels.set(labels, encoded);
  }
  return encoded;
}

function nameField(name: string): Buffer {
  let field = nameFields.get(name);
  if (!field) {
    if (nameFields.size >= 100_000) nameFields = new Map();
    field = labelField('__name__', name);
    nameFields.set(name, field);
  }
  return field;
}

/** A Sample message's length: the double (tag + 8 bytes) and the timestamp (tag + varint). */
const sampleLength = (time: number): number => 9 + 1 + int64Length(time);

/** The series as one WriteRequest (uncompressed). */
export function encodeWriteRequest(series: Iterable<RemoteWriteSeries>): Buffer {
  const parts: { series: RemoteWriteSeries; labels: EncodedLabels; name: Buffer; length: number }[] = [];
  let total = 0;
  for (const one of series) {
    const labels = labelsOf(one.labels);
    const name = nameField(one.name);
    let length = labels.bytes + name.length;
    for (const time of one.times) {
      const sample = sampleLength(time);
      length += 1 + varintLength(sample) + sample;
    }
    parts.push({ series: one, labels, name, length });
    total += 1 + varintLength(length) + length;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const { series: one, labels, name, length } of parts) {
    out[at++] = 0x0a;
    at = writeVarint(out, at, length);
    for (const field of labels.before) at += field.copy(out, at);
    at += name.copy(out, at);
    for (const field of labels.after) at += field.copy(out, at);
    for (let i = 0; i < one.times.length; i++) {
      const time = one.times[i]!;
      out[at++] = 0x12;
      at = writeVarint(out, at, sampleLength(time));
      out[at++] = 0x09;
      at = out.writeDoubleLE(one.values[i]!, at);
      out[at++] = 0x10;
      at = writeInt64(out, at, time);
    }
  }
  return out;
}
