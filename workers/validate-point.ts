import { NS_PER_UNIT, type Category, type FieldValue, type Point, type Precision } from '../src/points/point.js';
import { isTable } from '../src/schema/table.js';

/** Why one point was rejected; the message names the point and the key. */
export class InvalidPoint extends Error {}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Plain decimal digits without a leading zero: already a canonical integer. */
const CANONICAL_INTEGER = /^-?[1-9]\d{0,17}$/;

/**
 * A point's `time` in the report's precision → ns, as decimal digits; missing
 * time is the moment the runner received it. Nanosecond digits that are
 * plainly in range pass as they are: most points need no BigInt at all.
 */
export function toNanoseconds(value: unknown, precision: Precision, receivedAtNs: string): string {
  if (value === undefined || value === null) return receivedAtNs;
  if (precision === 'n' && typeof value === 'string' && CANONICAL_INTEGER.test(value)) return value;
  const unit = NS_PER_UNIT[precision];
  let ns: bigint;
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) ns = BigInt(value) * unit;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) ns = BigInt(value) * unit;
  else if (typeof value === 'number' && Number.isFinite(value)) ns = BigInt(Math.round(value * Number(unit)));
  else throw new InvalidPoint(`time must be an integer timestamp in precision "${precision}", got ${JSON.stringify(value)}`);
  if (ns < INT64_MIN || ns > INT64_MAX) throw new InvalidPoint(`time ${String(value)} (precision "${precision}") is outside the int64 nanosecond range`);
  return ns.toString();
}

const hasLineBreak = (text: string): boolean => text.includes('\n') || text.includes('\r');

function checkName(kind: string, name: string): void {
  if (name === '') throw new InvalidPoint(`${kind} must not be empty`);
  if (hasLineBreak(name)) throw new InvalidPoint(`${kind} ${JSON.stringify(name)} must not contain a line break`);
}

/** Throws unless `value` is a field value an output can store. */
function fieldValue(key: string, value: unknown): FieldValue {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidPoint(`field "${key}" is ${value}, which no output can store`);
      return value;
    case 'string':
    case 'boolean':
    case 'bigint':
      return value;
    default:
      throw new InvalidPoint(
        value === null
          ? `field "${key}" is null (None, NaN or Infinity in Python); leave the field out instead`
          : `field "${key}" must be a number, string or boolean, got ${Array.isArray(value) ? 'a list' : typeof value}`,
      );
  }
}

/** Why a point of `category` with these tags is refused for its tags alone: objects are known by their `name` tag. */
export function missingNameTag(category: Category, tags: Readonly<Record<string, string>>): string | undefined {
  return (category === 'object' || category === 'custom_object') && !tags.name ? `${category} points need a "name" tag` : undefined;
}

/** Why a point without fields is refused. */
export const NO_FIELDS = 'fields must have at least one field';

/**
 * Checks one JSON point against DataKit's point model: a measurement name,
 * string tags, at least one basic-type field, an optional integer time
 * (`tags` and `time` may be null, as DataKit's framework sends them).
 * Numbers in tags are accepted and written as text, as DataKit does.
 * The point's own tags and fields objects are reused (tags converted in
 * place): they were just parsed and belong to the caller's task, and copying
 * them made garbage collection a large share of the work.
 */
export function validatePoint(raw: unknown, category: Category, precision: Precision, receivedAtNs: string): Point {
  if (!isTable(raw)) throw new InvalidPoint(`must be an object with measurement, tags and fields, got ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}`);
  const { measurement, fields, time } = raw;
  // null as DataKit's framework sends it for a point without tags (its time null means now).
  const tags = raw.tags ?? {};
  if (typeof measurement !== 'string') throw new InvalidPoint('measurement must be a non-empty string');
  checkName('measurement', measurement);

  if (!isTable(tags)) throw new InvalidPoint('tags must be an object of strings');
  for (const key in tags) {
    const value = tags[key];
    checkName('tag key', key);
    if (typeof value === 'number' || typeof value === 'boolean') tags[key] = String(value);
    else if (typeof value !== 'string') throw new InvalidPoint(`tag "${key}" must be a string, got ${value === null ? 'null' : typeof value}`);
    if (hasLineBreak(tags[key] as string)) throw new InvalidPoint(`tag "${key}" must not contain a line break`);
  }
  const unnamed = missingNameTag(category, tags as Record<string, string>);
  if (unnamed) throw new InvalidPoint(unnamed);

  if (!isTable(fields)) throw new InvalidPoint('fields must be an object with at least one field');
  let fieldCount = 0;
  for (const key in fields) {
    checkName('field key', key);
    fieldValue(key, fields[key]);
    fieldCount++;
  }
  if (fieldCount === 0) throw new InvalidPoint(NO_FIELDS);

  return {
    measurement,
    tags: tags as Record<string, string>,
    fields: fields as Record<string, FieldValue>,
    time: toNanoseconds(time, precision, receivedAtNs),
  };
}
