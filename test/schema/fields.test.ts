import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  boolean,
  duration,
  FieldError,
  integer,
  nonEmptyString,
  oneOf,
  optional,
  positiveNumber,
  readTable,
  size,
  string,
  stringList,
  stringMap,
  withDefault,
  type Field,
  type Issue,
} from '../../src/schema/fields.js';

/** What a reader makes of `value`: its result, or the message of its FieldError. */
function read(field: Field<unknown>, value: unknown): unknown {
  try {
    return field.read(value);
  } catch (err) {
    assert.ok(err instanceof FieldError, `a FieldError, got ${String(err)}`);
    return `error: ${err.message}`;
  }
}

// reader, value, what it reads: a value, or the error that completes "<key> ..."
const cases: [string, Field<unknown>, unknown, unknown][] = [
  ['string', string(), 'x', 'x'],
  ['string', string(), 3, 'error: must be a string, got number 3'],
  ['nonEmptyString', nonEmptyString(), '  padded  ', 'padded'],
  ['nonEmptyString', nonEmptyString(), '   ', 'error: must be a non-empty string, got "   "'],
  ['nonEmptyString', nonEmptyString('a name'), null, 'error: must be a name, got nothing'],
  ['boolean', boolean(), false, false],
  ['boolean', boolean(), 'yes', 'error: must be true or false, got "yes"'],
  ['integer', integer(1, 10), 10, 10],
  ['integer', integer(1, 10), 11, 'error: must be an integer from 1 to 10, got number 11'],
  ['integer', integer(1, 10), 0, 'error: must be an integer from 1 to 10, got number 0'],
  ['integer', integer(1, 10), 2.5, 'error: must be an integer from 1 to 10, got number 2.5'],
  ['integer', integer(1, 10), '5', 'error: must be an integer from 1 to 10, got "5"'],
  ['integer', integer(8), 1_000_000, 1_000_000],
  ['integer', integer(8), 7, 'error: must be an integer >= 8, got number 7'],
  ['positiveNumber', positiveNumber(), 0.25, 0.25],
  ['positiveNumber', positiveNumber(), 0, 'error: must be a number > 0, got number 0'],
  ['positiveNumber', positiveNumber(), Number.POSITIVE_INFINITY, 'error: must be a number > 0, got number Infinity'],
  ['positiveNumber', positiveNumber(), '1', 'error: must be a number > 0, got "1"'],
  ['oneOf', oneOf(['a', 'b']), 'b', 'b'],
  ['oneOf', oneOf(['a', 'b']), 'c', 'error: must be one of "a", "b", got "c"'],
  ['oneOf', oneOf(['a', 'b']), ['a'], 'error: must be one of "a", "b", got a list'],
  ['duration', duration(), '1m30s', 90_000],
  ['duration', duration(1), '1ms', 1],
  ['duration', duration(1), '0s', 'error: must be a duration such as "10s", "500ms" or "1m30s" of at least 1 ms, got "0s"'],
  ['duration', duration(), 'soon', 'error: must be a duration such as "10s", "500ms" or "1m30s", got "soon"'],
  ['size', size(1024), '1k', 1024],
  ['size', size(1024), 1023, 'error: must be a size such as "64k", "128m" or "1g" of at least 1 KiB, got number 1023'],
  ['size', size(), {}, 'error: must be a size such as "64k", "128m" or "1g" of at least 1 bytes, got a table'],
  ['size', size(), new Date(0), 'error: must be a size such as "64k", "128m" or "1g" of at least 1 bytes, got a date'],
  ['stringList', stringList({ nonEmpty: true, expected: 'dirs' }), ['a', 'b'], ['a', 'b']],
  ['stringList', stringList({ nonEmpty: true, expected: 'dirs' }), [], 'error: must be dirs, got an empty list'],
  ['stringList', stringList({ nonEmpty: false, expected: 'dirs' }), [], []],
  ['stringList', stringList({ nonEmpty: false, expected: 'dirs' }), ['a', ' '], 'error: must be dirs, got a list'],
  ['stringList', stringList({ nonEmpty: false, expected: 'dirs' }), ['a', 1], 'error: must be dirs, got a list'],
  ['stringList', stringList({ nonEmpty: false, expected: 'dirs' }), 'a', 'error: must be dirs, got "a"'],
  ['stringList', stringList({ nonEmpty: false, expected: 'x', item: (t) => (t === 'bad' ? 'is bad' : undefined) }), ['ok', 'bad'], 'error: [1] is bad'],
  ['stringMap', stringMap(), { a: 'x' }, { a: 'x' }],
  ['stringMap', stringMap(), { a: 1 }, 'error: .a must be a string, got number 1'],
  ['stringMap', stringMap(), ['x'], 'error: must be a table of strings, got a list'],
  ['stringMap', stringMap(), null, 'error: must be a table of strings, got nothing'],
  ['stringMap', stringMap(), new Date(0), 'error: must be a table of strings, got a date'],
  ['stringMap', stringMap(), 'x', 'error: must be a table of strings, got "x"'],
];

describe('field readers', () => {
  for (const [name, field, value, expected] of cases) {
    it(`${name} reads ${JSON.stringify(value) ?? String(value)} as ${JSON.stringify(expected)}`, () => assert.deepEqual(read(field, value), expected));
  }

  it('gives a default, or calls a function for it, when the key is absent; an optional key defaults to undefined', () => {
    assert.equal(withDefault(string(), 'x').fallback!(), 'x');
    assert.equal(withDefault(integer(1), () => 7).fallback!(), 7);
    assert.equal(optional(string()).fallback!(), undefined);
  });
});

describe('readTable', () => {
  const schema = {
    name: string(),
    count: withDefault(integer(1), 3),
    tags: withDefault(stringMap(), {}),
    list: withDefault(stringList({ nonEmpty: false, expected: 'a list' }), []),
  };
  const readIt = (raw: unknown) => {
    const issues: Issue[] = [];
    return { value: readTable(raw, schema, 'block', issues), issues };
  };

  it('reads every key, with the defaults of those absent', () => {
    assert.deepEqual(readIt({ name: 'n' }), { value: { name: 'n', count: 3, tags: {}, list: [] }, issues: [] });
  });

  it('names the key of each problem, continuing the path into lists and tables, and suggests a near known key', () => {
    assert.deepEqual(readIt({ cuont: 2, tags: { a: 1 }, count: 0 }).issues, [
      { path: 'block.cuont', message: 'is not a known key (did you mean "count"?); known keys: name, count, tags, list' },
      { path: 'block.name', message: 'is required' },
      { path: 'block.count', message: 'must be an integer >= 1, got number 0' },
      { path: 'block.tags.a', message: 'must be a string, got number 1' },
    ]);
    assert.deepEqual(readIt({ name: 'n', zzzzzz: 1 }).issues, [{ path: 'block.zzzzzz', message: 'is not a known key; known keys: name, count, tags, list' }]);
  });

  it('says when the table is not a table', () => {
    assert.deepEqual(readIt([1]).issues[0], { path: 'block', message: 'must be a table, got a list' });
    assert.deepEqual(readIt(new Date(0)).issues[0], { path: 'block', message: 'must be a table, got a date' });
  });

  it('lets an error that is not about the value through', () => {
    const issues: Issue[] = [];
    const broken: Field<unknown> = {
      read: () => {
        throw new TypeError('a bug');
      },
    };
    assert.throws(() => readTable({ x: 1 }, { x: broken }, 'block', issues), TypeError);
  });
});
