import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Point } from '../../src/points/point.js';
import { encodeLineProtocol } from '../../workers/encode.js';
import { quoteLongPointTimes } from '../../workers/json-body.js';
import { parseLineProtocol, type LinePoint } from '../../workers/line-protocol.js';

function parse(text: string): { points: [number, LinePoint][]; errors: [number, string][] } {
  const points: [number, LinePoint][] = [];
  const errors: [number, string][] = [];
  parseLineProtocol(text, { point: (line, point) => points.push([line, point]), error: (line, message) => errors.push([line, message]) });
  return { points, errors };
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
    const { points, errors } = parse(`${series} v=1\n${series} v=2\n${series}\n${series}  v=3 7\n`);
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
});

describe('quoteLongPointTimes', () => {
  test("quotes a point's integer time too long for a double, and nothing else", () => {
    const body =
      '[{"measurement":"m","fields":{"time":1700000000000000001,"s":"1700000000000000001"},"time" : -1700000000000000001},{"time":1.7e18},{"time":17000}]';
    assert.equal(
      quoteLongPointTimes(body),
      '[{"measurement":"m","fields":{"time":1700000000000000001,"s":"1700000000000000001"},"time" : "-1700000000000000001"},{"time":1.7e18},{"time":17000}]',
    );
  });

  test('is not fooled by keys and brackets inside strings', () => {
    const body = '[{"measurement":"a \\"time\\": [{","tags":{"k":"}]"},"time":1700000000000000001}]';
    assert.equal(quoteLongPointTimes(body), body.replace('1700000000000000001', '"1700000000000000001"'));
  });
});
