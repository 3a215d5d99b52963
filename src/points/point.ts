/**
 * The DataKit point model, as collectors report it and as outputs receive it.
 * Categories use DataKit's names; the one-letter keys are those of
 * `DataKitFramework.report()`.
 */
export const CATEGORY_BY_KEY = {
  M: 'metric',
  L: 'logging',
  R: 'rum',
  O: 'object',
  CO: 'custom_object',
  E: 'keyevent',
} as const;

export type CategoryKey = keyof typeof CATEGORY_BY_KEY;
export type Category = (typeof CATEGORY_BY_KEY)[CategoryKey];
export const CATEGORIES: readonly Category[] = Object.values(CATEGORY_BY_KEY);

export const PRECISIONS = ['n', 'u', 'ms', 's', 'm', 'h'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Nanoseconds per unit of each precision. */
export const NS_PER_UNIT: Record<Precision, bigint> = {
  n: 1n,
  u: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/**
 * A field value. Integers are `bigint` (line protocol `123i`); every JSON
 * number is a float, as in DataKit, whose JSON API cannot tell 123 from 123.0.
 */
export type FieldValue = number | bigint | string | boolean;

export interface Point {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  /** Nanoseconds since the epoch, as decimal digits (int64 range). */
  time: string;
}

/** How an output wants its points: JSON Lines, InfluxDB line protocol, or one of the two Prometheus encodings. */
export type Encoding = 'jsonl' | 'lineProtocol' | 'remoteWrite' | 'exposition';

/**
 * The categories an encoding can carry: Prometheus holds metrics only.
 * Workers encode nothing else for these; outputs count other points as skipped.
 */
export const METRIC_ONLY_ENCODINGS: ReadonlySet<Encoding> = new Set(['remoteWrite', 'exposition']);

/**
 * Points of one category, already encoded by a worker thread. The main
 * thread moves these bytes to outputs without looking inside.
 */
export interface EncodedBatch {
  category: Category;
  points: number;
  /** One point per line: {"category","measurement","tags","fields","time"} with time in ns. */
  jsonl?: Uint8Array;
  /** InfluxDB line protocol with ns timestamps. */
  lineProtocol?: Uint8Array;
  /** Metric points only: a snappy-compressed Prometheus remote write WriteRequest, each series' samples in time order. */
  remoteWrite?: Uint8Array;
  /** Metric points only: text exposition lines, `name{labels} value timestamp_ms`, each series' latest sample. */
  exposition?: Uint8Array;
  /** Fields an encoding left out, by encoding: the Prometheus ones leave out string fields. */
  fieldsLeftOut?: Partial<Record<Encoding, number>>;
}
