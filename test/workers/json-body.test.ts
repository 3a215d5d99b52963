import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsonBodyError, parseJsonPoints, quoteLongPointTimes } from '../../workers/json-body.js';

describe('parseJsonPoints', () => {
  test('reads a list of points, every number a float but a long time, which it keeps digit for digit', () => {
    const points = parseJsonPoints(
      '[{"measurement":"m","fields":{"i":12345678901234567890,"f":1.5},"time":1700000000000000001},{"measurement":"n","time":17}]',
    );
    assert.deepEqual(points, [
      { measurement: 'm', fields: { i: 12345678901234567000, f: 1.5 }, time: '1700000000000000001' },
      { measurement: 'n', time: 17 },
    ]);
  });

  const refused: [string, string, RegExp][] = [
    ['an object', '{"measurement":"m"}', /^a JSON body must be a list of points such as \[\{"measurement":"m","fields":\{"f":1\}\}\], got object$/],
    ['null', 'null', /, got null$/],
    ['a number', '42', /, got number$/],
    [
      'text that is not JSON, at the line and column of the mistake',
      '[\n  {"measurement": "m",}\n]',
      /^the body is not valid JSON: line 2, column 23: Expected double-quoted property name$/,
    ],
    ['a string left open, long digits in it', '["12345678901234567890', /^the body is not valid JSON: line 1, column 23: Unterminated string$/],
    ['an empty body', '', /^the body is not valid JSON: Unexpected end of JSON input$/],
  ];
  for (const [what, body, message] of refused) {
    test(`refuses ${what}`, () => {
      assert.throws(
        () => parseJsonPoints(body),
        (err: Error) => err instanceof JsonBodyError && message.test(err.message),
      );
    });
  }
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

  test('quotes the long time of every point, whatever blanks surround it', () => {
    const body = '[{"measurement":"a","time":\t\n 1999999999999999999} , {"measurement":"b",\r\n"time" :\r\n-1999999999999999999}]';
    assert.equal(
      quoteLongPointTimes(body),
      body.replace('1999999999999999999', '"1999999999999999999"').replace('-1999999999999999999', '"-1999999999999999999"'),
    );
  });

  test('quotes from 16 digits on, the minus sign not counted', () => {
    const body =
      '[{"measurement":"m","time":1234567890123456},{"measurement":"m","time":-1234567890123456},{"measurement":"m","time":123456789012345},{"measurement":"m","time":-123456789012345}]';
    assert.equal(
      quoteLongPointTimes(body),
      '[{"measurement":"m","time":"1234567890123456"},{"measurement":"m","time":"-1234567890123456"},{"measurement":"m","time":123456789012345},{"measurement":"m","time":-123456789012345}]',
    );
  });

  test('leaves a time that is not an integer, and a long integer under another key, as they are', () => {
    const body =
      '[{"time":1700000000000000001.5},{"time":1700000000000000001e0},{"time":1700000000000000001E0},{"measurement":"m","count":1700000000000000001}]';
    assert.equal(quoteLongPointTimes(body), body);
  });

  test('is not fooled by escaped quotes inside strings', () => {
    const body = '[{"measurement":"say \\"hi\\"","time":1700000000000000001}]';
    assert.equal(quoteLongPointTimes(body), body.replace('1700000000000000001', '"1700000000000000001"'));
  });

  test('is not fooled by keys and brackets inside strings', () => {
    const body = '[{"measurement":"a \\"time\\": [{","tags":{"k":"}]"},"time":1700000000000000001}]';
    assert.equal(quoteLongPointTimes(body), body.replace('1700000000000000001', '"1700000000000000001"'));
  });
});
