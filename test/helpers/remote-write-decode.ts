import { snappyDecode } from './snappy-decode.js';

/** One series of a WriteRequest, as a test reads it back. */
export interface DecodedSeries {
  labels: [string, string][];
  samples: { value: number; ms: number }[];
}

/** Reads protobuf fields: [field number, wire type, value], a length-delimited value as its bytes. */
function* fields(bytes: Buffer): Generator<[number, number, Buffer | bigint]> {
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = bytes[at++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const key = Number(varint());
    const wire = key & 7;
    if (wire === 0) yield [key >>> 3, wire, varint()];
    else if (wire === 1) {
      yield [key >>> 3, wire, bytes.subarray(at, at + 8)];
      at += 8;
    } else if (wire === 2) {
      const length = Number(varint());
      yield [key >>> 3, wire, bytes.subarray(at, at + length)];
      at += length;
    } else throw new Error(`wire type ${wire} at byte ${at}`);
  }
}

/** A snappy-compressed WriteRequest (a remote write body, or a buffered batch) back into series; throws on any field it does not expect. */
export function decodeWriteRequest(body: Uint8Array): DecodedSeries[] {
  const series: DecodedSeries[] = [];
  for (const [number, , value] of fields(snappyDecode(body))) {
    if (number !== 1) throw new Error(`WriteRequest field ${number}`);
    const one: DecodedSeries = { labels: [], samples: [] };
    for (const [tsField, , tsValue] of fields(value as Buffer)) {
      if (tsField === 1) {
        const label: string[] = [];
        for (const [, , text] of fields(tsValue as Buffer)) label.push((text as Buffer).toString('utf8'));
        one.labels.push([label[0]!, label[1]!]);
      } else if (tsField === 2) {
        const sample = { value: 0, ms: 0 };
        for (const [sampleField, , sampleValue] of fields(tsValue as Buffer)) {
          if (sampleField === 1) sample.value = (sampleValue as Buffer).readDoubleLE(0);
          else sample.ms = Number(BigInt.asIntN(64, sampleValue as bigint));
        }
        one.samples.push(sample);
      } else throw new Error(`TimeSeries field ${tsField}`);
    }
    series.push(one);
  }
  return series;
}
