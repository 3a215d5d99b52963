import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FieldValue, Point } from '../../src/points/point.js';
import { encodeLineProtocol } from '../../workers/encode.js';
import { type FieldKind, type LineFields, parseLineProtocol } from '../../workers/line-protocol.js';

/** A line as the parser hands it over, its fields' canonical texts read back as values. */
interface LinePoint {
  measurement: string;
  tags: Readonly<Record<string, string>>;
  fields: Record<string, FieldValue>;
  time?: string;
}

const VALUE: Record<FieldKind, (text: string) => FieldValue> = { float: Number, integer: BigInt, boolean: (text) => text === 'true', string: (text) => text };

function valuesOf(fields: LineFields): Record<string, FieldValue> {
  const values: Record<string, FieldValue> = {};
  for (let i = 0; i < fields.count; i++) values[fields.keys[i]!] = VALUE[fields.kinds[i]!](fields.texts[i]!);
  return values;
}

function parse(text: string): { points: [number, LinePoint][]; errors: [number, string][]; series: number } {
  const points: [number, LinePoint][] = [];
  const errors: [number, string][] = [];
  let series = 0;
  parseLineProtocol(text, {
    series: (measurement, tags) => {
      series++;
      return { measurement, tags };
    },
    point: (line, of, fields, time) => points.push([line, { ...of, fields: valuesOf(fields), ...(time === undefined ? {} : { time }) }]),
    error: (line, message) => errors.push([line, message]),
  });
  return { points, errors, series };
}

/** The canonical texts of the one line of `text`'s fields, as `key:kind:text`. */
function texts(text: string): string[] {
  const out: string[] = [];
  parseLineProtocol(text, {
    series: () => undefined,
    point: (_line, _series, fields) => {
      for (let i = 0; i < fields.count; i++) out.push(`${fields.keys[i]}:${fields.kinds[i]}:${fields.texts[i]}`);
    },
    error: (line, message) => assert.fail(`line ${line}, ${message}`),
  });
  return out;
}

describe('parseLineProtocol', () => {
  test('reads back what the line protocol encoder writes, whatever the names and strings hold', () => {
    const point: Point = {
      measurement: 'disk io,\\ "m"=1',
      tags: { 'key with space': 'v,1=2', 'a\\b': 'c\\ d', ünï: 'cödé' },
      fields: { 'f=1': 'text with "quotes", \\backslashes\\ and\na line break', 'i i': -42n, 'x,y': 0.25, ok: false },
      time: '1700000000000000000',
    };
    const { points, errors } = parse(encodeLineProtocol(point));
    assert.deepEqual(errors, []);
    assert.deepEqual(points, [[1, { ...point, time: '1700000000000000000' }]]);
  });

  test('reads every boolean spelling DataKit accepts, and nothing else as a boolean', () => {
    const { points, errors } = parse('m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE\nm x=tRUE\n');
    assert.deepEqual(points[0]![1].fields, { a: true, b: true, c: true, d: true, e: true, f: false, g: false, h: false, i: false, j: false });
    assert.deepEqual(errors, [
      [2, 'column 5: field "x" has the invalid value "tRUE" (strings are double-quoted, integers end in i, unsigned integers in u, booleans are t or f)'],
    ]);
  });

  test('reads integers as bigints and every other number as a float', () => {
    const { points } = parse('m i=-9223372036854775808i,u=9223372036854775807u,f=1,g=-.5,h=1.,e=6.02e23,n=-1E-3\n');
    assert.deepEqual(points[0]![1].fields, { i: -(2n ** 63n), u: 2n ** 63n - 1n, f: 1, g: -0.5, h: 1, e: 6.02e23, n: -0.001 });
  });

  test('skips comments and blank lines, allows extra blanks between sections, and counts lines for messages', () => {
    const { points, errors } = parse('# comment\n\n  \t\n  m,t=1   v=1 \t 5  \n\t# indented comment\nm v=2\r\n');
    assert.deepEqual(errors, []);
    assert.deepEqual(
      points.map(([line, point]) => [line, point.fields.v, point.time]),
      [
        [4, 1, '5'],
        [6, 2, undefined],
      ],
    );
  });

  test('goes on at the next line after a bad one, so every bad line is reported', () => {
    const { points, errors } = parse('m v=\nm v=1\nm,t v=1\nm v=2\n');
    assert.deepEqual(
      points.map(([line]) => line),
      [2, 4],
    );
    assert.deepEqual(
      errors.map(([line]) => line),
      [1, 3],
    );
  });

  test('a series repeated line after line reads the same on every line, escapes included, and its tags cannot be changed', () => {
    const series = 'disk\\ io\\,x,path=/a\\ b,dev\\=1=c\\\\';
    const { points, errors, series: seriesRead } = parse(`${series} v=1\n${series} v=2\n${series}\n${series}  v=3 7\n`);
    assert.equal(seriesRead, 1, 'the series is read once, and its points share what the visitor made of it');
    assert.deepEqual(errors, [[3, 'column 34: the point has no fields']]);
    assert.deepEqual(
      points.map(([line, point]) => [line, point.measurement, point.tags, point.fields.v, point.time]),
      [
        [1, 'disk io,x', { path: '/a b', 'dev=1': 'c\\' }, 1, undefined],
        [2, 'disk io,x', { path: '/a b', 'dev=1': 'c\\' }, 2, undefined],
        [4, 'disk io,x', { path: '/a b', 'dev=1': 'c\\' }, 3, '7'],
      ],
    );
    assert.ok(Object.isFrozen(points[0]![1].tags));
  });

  test('a line that starts like an earlier series but is cut short is refused as it would be alone', () => {
    const { errors } = parse('m,t=a v=1\nm,t=a\\\nm,t= v=1\n');
    assert.deepEqual(errors, [
      [2, 'column 7: the point has no fields'],
      [3, 'column 5: tag "t" has an empty value'],
    ]);
  });

  test('a string without its closing quote is reported at the line and column where it opens', () => {
    const { errors } = parse('m v=1\nm s="never closed\nm v=2\n');
    assert.deepEqual(errors[0], [2, 'column 5: the string value of field "s" has no closing quote']);
  });

  test('refuses binary values and unsigned integers that are negative', () => {
    const { errors } = parse('m b="aGk="b\nm u=-1u\n');
    assert.deepEqual(errors, [
      [1, 'column 11: field "b": binary values ("..."b) are not supported'],
      [2, 'column 5: field "u": unsigned integer -1u is negative'],
    ]);
  });

  // Each bad line: the message the client gets, with the column where the parser stopped.
  const mistakes: [string, string][] = [
    [',t=1 v=1', 'column 1: the measurement name is missing'],
    ['m,=1 v=1', 'column 3: a tag key is missing after measurement "m"'],
    ['m,t v=1', 'column 4: tag "t" has no value (tags are written key=value)'],
    ['m,t= v=1', 'column 5: tag "t" has an empty value'],
    ['m', 'column 2: the point has no fields'],
    ['m,t=1', 'column 6: the point has no fields'],
    ['m  ', 'column 4: the point has no fields'],
    ['m v=1,', 'column 7: the point has no fields'],
    ['m =1', 'column 3: a field key is missing'],
    ['m v', 'column 4: field "v" has no value (fields are written key=value)'],
    ['m v=', 'column 5: field "v" has no value'],
    ['m v=1 12.5', 'column 7: the timestamp "12.5" is not an integer'],
    ['m v=1 5 extra', 'column 9: unexpected text after the timestamp: "extra"'],
    ['m v="x"y', 'column 8: unexpected text after the fields: "y"'],
    ['m,t=1\rx v=1', 'column 6: expected a space before the fields'],
    ['m v=9223372036854775808i', 'column 5: field "v": 9223372036854775808i is outside the int64 range pythond stores integers in'],
    ['m v=-9223372036854775809i', 'column 5: field "v": -9223372036854775809i is outside the int64 range pythond stores integers in'],
    ['m v=9223372036854775808u', 'column 5: field "v": 9223372036854775808u is outside the int64 range pythond stores integers in'],
    ['m v=1e999', 'column 5: field "v": 1e999 is too large for a float'],
    ['m v=[1i,2i]', 'column 5: field "v": array values are not supported'],
    [
      'm v=1.2.3',
      'column 5: field "v" has the invalid value "1.2.3" (strings are double-quoted, integers end in i, unsigned integers in u, booleans are t or f)',
    ],
    ['m v=1i2', 'column 5: field "v" has the invalid value "1i2" (strings are double-quoted, integers end in i, unsigned integers in u, booleans are t or f)'],
    ['m v=x1', 'column 5: field "v" has the invalid value "x1" (strings are double-quoted, integers end in i, unsigned integers in u, booleans are t or f)'],
    [
      'm v=1.5x',
      'column 5: field "v" has the invalid value "1.5x" (strings are double-quoted, integers end in i, unsigned integers in u, booleans are t or f)',
    ],
    [
      'm v=x1.5',
      'column 5: field "v" has the invalid value "x1.5" (strings are double-quoted, integers end in i, unsigned integers in u, booleans are t or f)',
    ],
    ['m v=x1i', 'column 5: field "v" has the invalid value "x1i" (strings are double-quoted, integers end in i, unsigned integers in u, booleans are t or f)'],
    ['m v=1xi', 'column 5: field "v" has the invalid value "1xi" (strings are double-quoted, integers end in i, unsigned integers in u, booleans are t or f)'],
    [`m,${'k'.repeat(64)} v=1`, `column 67: tag "${'k'.repeat(64)}" has no value (tags are written key=value)`],
    [`m,${'k'.repeat(65)} v=1`, `column 68: tag "${'k'.repeat(64)}…" has no value (tags are written key=value)`],
  ];
  for (const [line, message] of mistakes) {
    test(`refuses ${JSON.stringify(line.length > 40 ? `${line.slice(0, 40)}…` : line)}: ${message}`, () => {
      assert.deepEqual(parse(`m ok=1\n${line}\n`).errors, [[2, message]]);
    });
  }

  test('reads the edges of the integer ranges, and numbers in every float spelling', () => {
    const { points, errors } = parse('m a=9223372036854775807i,b=-9223372036854775808i,c=0u,d=-.5,e=.5e1,f=1.E2,g=-1e-2,h=12.25,i=-0.125\n');
    assert.deepEqual(errors, []);
    assert.deepEqual(points[0]![1].fields, { a: 2n ** 63n - 1n, b: -(2n ** 63n), c: 0n, d: -0.5, e: 5, f: 100, g: -0.01, h: 12.25, i: -0.125 });
  });

  test('unescapes what each kind of name escapes, and keeps any other backslash', () => {
    const { points, errors } = parse([String.raw`m\ x\,y\=z\\w,k\ 1\,\=\\=v\ 1\,\=\\ a\ b\,c\=d\\e=1,s="a\"b\\c\d" 5`, String.raw`m\t\n v=1`, ''].join('\n'));
    assert.deepEqual(errors, []);
    assert.deepEqual(points[0]![1], {
      measurement: 'm x,y\\=z\\w',
      tags: { 'k 1,=\\': 'v 1,=\\' },
      fields: { 'a b,c=d\\e': 1, s: 'a"b\\c\\d' },
      time: '5',
    });
    assert.equal(points[1]![1].measurement, 'm\\t\\n');
  });

  test('counts the line breaks inside a string, so later lines are numbered right', () => {
    const { points, errors } = parse('m v="line1\nline2\nline3" 5\nm bad\n');
    assert.deepEqual(points, [[1, { measurement: 'm', tags: {}, fields: { v: 'line1\nline2\nline3' }, time: '5' }]]);
    assert.deepEqual(errors, [[4, 'column 6: field "bad" has no value (fields are written key=value)']]);
  });

  test('reads CRLF line ends, blanks around a timestamp, a negative one, and a last line without a line end', () => {
    const { points, errors } = parse('m v=1 \t 7 \t\r\nm v=2\t-5\r\nm v=3 \nm v=4');
    assert.deepEqual(errors, []);
    assert.deepEqual(
      points.map(([line, point]) => [line, point.fields.v, point.time]),
      [
        [1, 1, '7'],
        [2, 2, '-5'],
        [3, 3, undefined],
        [4, 4, undefined],
      ],
    );
    assert.deepEqual(points[2]![1], { measurement: 'm', tags: {}, fields: { v: 3 } }, 'no time key when the line has no timestamp');
  });

  test('ends a string at a quote after an escaped backslash', () => {
    assert.deepEqual(parse('m s="ends with a backslash\\\\"\n').points[0]![1].fields, { s: 'ends with a backslash\\' });
  });

  test('counts columns from the line break inside a string', () => {
    assert.deepEqual(parse('m v="a\nb" x\n').errors, [[2, 'column 4: the timestamp "x" is not an integer']]);
  });

  test('lets an error of the visitor through, rather than take it for a bad line', () => {
    assert.throws(
      () =>
        parseLineProtocol('m v=1\n', {
          series: () => undefined,
          point: () => {
            throw new TypeError('the visitor failed');
          },
          error: () => {},
        }),
      TypeError,
    );
  });

  test('goes on after a bad last line that has no line end, and after a comment that has none', () => {
    assert.deepEqual(parse('m v=1\nm v=').errors, [[2, 'column 5: field "v" has no value']]);
    assert.deepEqual(parse('m v=1\n# the end').points.length, 1);
  });

  test('hands over each value as the text the point model writes it: floats as JavaScript prints them, integers as plain digits', () => {
    assert.deepEqual(texts('m a=1.50,b=007i,c=-0,d=1e3,e=T,f=-0i,g=0.00001,h=1234567890123456789,i=.5,j=5u,k="a\\"b",l=-0.0,m=1.\n'), [
      'a:float:1.5',
      'b:integer:7',
      'c:float:-0',
      'd:float:1000',
      'e:boolean:true',
      'f:integer:0',
      'g:float:0.00001',
      'h:float:1234567890123456800',
      'i:float:0.5',
      'j:integer:5',
      'k:string:a"b',
      'l:float:-0',
      'm:float:1',
    ]);
  });

  test('keeps a repeated field key at its first place with its last value, and integer-like keys first, as an object holds them', () => {
    assert.deepEqual(texts('m b=1,a=2,b=3,10=4,2=5\n'), ['2:float:5', '10:float:4', 'b:float:3', 'a:float:2']);
  });

  test('takes no word for a boolean that only an object would find (constructor, toString)', () => {
    assert.match(parse('m v=constructor\nm v=toString\n').errors[1]![1], /field "v" has the invalid value "toString"/);
  });
});
