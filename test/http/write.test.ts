import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CATEGORIES, type Category } from '../../src/points/point.js';
import { startApiApp, type ApiApp } from '../helpers/api-app.js';
import { metricValue } from '../helpers/input-harness.js';

/** POSTs `body` to `path`; the answer's status and, when there is one, its JSON. */
async function post(base: string, path: string, body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, { method: 'POST', body, headers });
  const text = await response.text();
  return { status: response.status, text, json: text ? (JSON.parse(text) as { error_code: string; message: string }) : undefined };
}

const LINE_PROTOCOL = { 'Content-Type': 'text/plain; charset=utf-8' };
const JSON_BODY = { 'Content-Type': 'application/json' };

/** Object categories need a `name` tag; every other category takes the same point. */
const tagsFor = (category: Category): Record<string, string> => (category.endsWith('object') ? { host: 'web01', name: 'n1' } : { host: 'web01' });

describe('POST /v1/write/:category', () => {
  let api: ApiApp;
  before(async () => {
    api = await startApiApp({ runner: 'max_body_size = "256KiB"' });
  });
  after(() => api.stop());

  /** The points that landed since `mark` (the count before a request). */
  const landedSince = (mark: number) => api.points().slice(mark);

  for (const category of CATEGORIES) {
    test(`a line protocol body posted to /v1/write/${category} lands in the outputs as ${category} points`, async () => {
      const mark = api.points().length;
      const tags = Object.entries(tagsFor(category))
        .map(([k, v]) => `,${k}=${v}`)
        .join('');
      const answer = await post(api.url, `/v1/write/${category}`, `lp_${category}${tags} value=1.5,count=3i 1700000000000000000\n`, LINE_PROTOCOL);
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.text, '');
      assert.deepEqual(landedSince(mark), [
        { category, measurement: `lp_${category}`, tags: tagsFor(category), fields: { value: 1.5, count: 3 }, time: 1700000000000000000n },
      ]);
    });

    test(`a JSON body posted to /v1/write/${category} lands in the outputs as ${category} points`, async () => {
      const mark = api.points().length;
      const point = JSON.stringify({ measurement: `json_${category}`, tags: tagsFor(category), fields: { value: 1.5, text: 'a "quoted" word' } });
      // A 19-digit time must come through digit for digit, though a plain JSON.parse would round it.
      const body = `[${point.slice(0, -1)},"time":1700000000000000001}]`;
      const answer = await post(api.url, `/v1/write/${category}`, body, JSON_BODY);
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(landedSince(mark), [
        { category, measurement: `json_${category}`, tags: tagsFor(category), fields: { value: 1.5, text: 'a "quoted" word' }, time: 1700000000000000001n },
      ]);
    });
  }

  const PRECISIONS: [precision: string, time: string, ns: bigint][] = [
    ['n', '1700000000123456789', 1700000000123456789n],
    ['u', '1700000000123456', 1700000000123456000n],
    ['ms', '1700000000123', 1700000000123000000n],
    ['s', '1700000000', 1700000000000000000n],
    ['m', '28333333', 1699999980000000000n],
    ['h', '472222', 1699999200000000000n],
  ];
  for (const [precision, time, ns] of PRECISIONS) {
    test(`precision=${precision} turns line protocol and JSON timestamps into ${ns} ns`, async () => {
      const mark = api.points().length;
      const lp = await post(api.url, `/v1/write/metric?precision=${precision}`, `p_${precision} v=1 ${time}`, LINE_PROTOCOL);
      const json = await post(
        api.url,
        `/v1/write/metric?precision=${precision}`,
        `[{"measurement":"p_${precision}","fields":{"v":1},"time":${time}}]`,
        JSON_BODY,
      );
      assert.equal(lp.status, 200, lp.text);
      assert.equal(json.status, 200, json.text);
      assert.deepEqual(
        landedSince(mark).map((point) => point.time),
        [ns, ns],
      );
    });
  }

  test('a point without a timestamp gets the time the request arrived', async () => {
    const mark = api.points().length;
    const before = BigInt(Date.now()) * 1_000_000n;
    assert.equal((await post(api.url, '/v1/write/metric', 'no_time v=1\n', LINE_PROTOCOL)).status, 200);
    const afterNs = BigInt(Date.now()) * 1_000_000n;
    const [point] = landedSince(mark);
    assert.ok(point!.time >= before && point!.time <= afterNs, `time ${point!.time} is not between ${before} and ${afterNs}`);
  });

  test('line protocol field types, escapes, comments and CRLF line ends are read as DataKit reads them', async () => {
    const mark = api.points().length;
    const body = [
      '# a comment, then a blank line',
      '',
      'disk\\ io,path=/var\\,log,dev\\=x=sda\\ 1 int=-7i,uint=7u,float=-1.5e3,t=T,f=false,s="say \\"hi\\"\\\\",multi="line 1',
      'line 2" 1700000000000000000\r',
      '   cpu v=1 1700000000000000000\r',
      '',
    ].join('\n');
    assert.equal((await post(api.url, '/v1/write/metric', body, LINE_PROTOCOL)).status, 200);
    assert.deepEqual(
      landedSince(mark).map(({ measurement, tags, fields }) => ({ measurement, tags, fields })),
      [
        {
          measurement: 'disk io',
          // With the global host tag, as every write without ignore_global_host_tags.
          tags: { path: '/var,log', 'dev=x': 'sda 1', host: api.app.config.host.name },
          fields: { int: -7, uint: 7, float: -1500, t: true, f: false, s: 'say "hi"\\', multi: 'line 1\nline 2' },
        },
        { measurement: 'cpu', tags: { host: api.app.config.host.name }, fields: { v: 1 } },
      ],
    );
  });

  test('a body with good and bad lines is refused whole: none of its points are written', async () => {
    const mark = api.points().length;
    const answer = await post(api.url, '/v1/write/metric', 'good v=1\nbad,host v=1\ngood v=2\nbad v=\n', LINE_PROTOCOL);
    assert.equal(answer.status, 400);
    assert.equal(answer.json?.error_code, 'datakit.invalidLinePoint');
    assert.match(answer.json!.message, /^2 of 4 points are invalid, so none was written:\nline 2, column 9: tag "host" has no value/);
    assert.match(answer.json!.message, /\nline 4, column 7: field "v" has no value$/);
    assert.deepEqual(landedSince(mark), []);
  });

  // [what, path, body, headers, status, error_code, message]
  const MALFORMED: [string, string, string | Uint8Array<ArrayBuffer>, Record<string, string>, number, string, RegExp][] = [
    [
      'an escaped closing quote',
      '/v1/write/metric',
      'm s="abc\\"\n',
      LINE_PROTOCOL,
      400,
      'datakit.invalidLinePoint',
      /line 1, column 5: the string value of field "s" has no closing quote/,
    ],
    [
      'an escaped space that swallows the fields',
      '/v1/write/metric',
      'm,t=a\\ f=1\n',
      LINE_PROTOCOL,
      400,
      'datakit.invalidLinePoint',
      /line 1, column 11: the point has no fields/,
    ],
    [
      'a tag without a value',
      '/v1/write/metric',
      'ok v=1\nm,host v=1\n',
      LINE_PROTOCOL,
      400,
      'datakit.invalidLinePoint',
      /line 2, column 7: tag "host" has no value/,
    ],
    ['a point without fields', '/v1/write/metric', 'm,host=a\n', LINE_PROTOCOL, 400, 'datakit.invalidLinePoint', /line 1, column 9: the point has no fields/],
    ['a field without a value', '/v1/write/metric', 'm v=\n', LINE_PROTOCOL, 400, 'datakit.invalidLinePoint', /line 1, column 5: field "v" has no value/],
    [
      'an unquoted string value',
      '/v1/write/metric',
      'm v=abc\n',
      LINE_PROTOCOL,
      400,
      'datakit.invalidLinePoint',
      /line 1, column 5: field "v" has the invalid value "abc" \(strings are double-quoted/,
    ],
    [
      'an integer past int64',
      '/v1/write/metric',
      'm v=9223372036854775808i\n',
      LINE_PROTOCOL,
      400,
      'datakit.invalidLinePoint',
      /field "v": 9223372036854775808i is outside the int64 range/,
    ],
    ['an array value', '/v1/write/metric', 'm v=[1i,2i]\n', LINE_PROTOCOL, 400, 'datakit.invalidLinePoint', /field "v": array values are not supported/],
    [
      'a timestamp that is not an integer',
      '/v1/write/metric',
      'm v=1 1700000000.5\n',
      LINE_PROTOCOL,
      400,
      'datakit.invalidLinePoint',
      /line 1, column 7: the timestamp "1700000000.5" is not an integer/,
    ],
    [
      'a timestamp past int64 nanoseconds',
      '/v1/write/metric?precision=h',
      'm v=1 1700000000\n',
      LINE_PROTOCOL,
      400,
      'datakit.invalidLinePoint',
      /line 1: time 1700000000 \(precision "h"\) is outside the int64 nanosecond range/,
    ],
    [
      'text after the timestamp',
      '/v1/write/metric',
      'm v=1 1 2\n',
      LINE_PROTOCOL,
      400,
      'datakit.invalidLinePoint',
      /line 1, column 9: unexpected text after the timestamp: "2"/,
    ],
    [
      'an object point without a name tag',
      '/v1/write/object',
      'host_obj v=1\n',
      LINE_PROTOCOL,
      400,
      'datakit.invalidLinePoint',
      /line 1: object points need a "name" tag/,
    ],
    [
      'bytes that are not UTF-8',
      '/v1/write/metric',
      Buffer.concat([Buffer.from('ok v=1\nm s="'), Buffer.from([0xc3, 0x28]), Buffer.from('"\n')]),
      {},
      400,
      'datakit.invalidLinePoint',
      /the body is not valid UTF-8 \(first at line 2\)/,
    ],
    ['an empty body', '/v1/write/metric', '', LINE_PROTOCOL, 400, 'datakit.emptyBody', /the body is empty/],
    ['only comments and blank lines', '/v1/write/metric', '# nothing\n\n', LINE_PROTOCOL, 400, 'datakit.noPoints', /the body has no points/],
    [
      'a line longer than max_body_size',
      '/v1/write/metric',
      `m s="${'x'.repeat(300 * 1024)}"\n`,
      LINE_PROTOCOL,
      413,
      'pythond.bodyTooLarge',
      /larger than max_body_size \(256 KiB\)/,
    ],
    [
      'a Content-Type that is neither line protocol nor JSON',
      '/v1/write/metric',
      '<m/>',
      { 'Content-Type': 'application/xml' },
      415,
      'pythond.unsupportedMediaType',
      /Content-Type "application\/xml" is not accepted/,
    ],
    [
      'a body that is not in its Content-Encoding',
      '/v1/write/metric',
      'm v=1',
      { ...LINE_PROTOCOL, 'Content-Encoding': 'gzip' },
      400,
      'pythond.undecodableBody',
      /the body is not valid gzip: incorrect header check/,
    ],
    [
      'a Content-Encoding zlib has no decoder for',
      '/v1/write/metric',
      'm v=1',
      { ...LINE_PROTOCOL, 'Content-Encoding': 'compress' },
      415,
      'pythond.unsupportedMediaType',
      /Content-Encoding "compress" is not supported; send the body uncompressed or as gzip, deflate, br/,
    ],
    [
      'a Content-Encoding and an encoding parameter that disagree',
      '/v1/write/metric?encoding=br',
      'm v=1',
      { ...LINE_PROTOCOL, 'Content-Encoding': 'gzip' },
      415,
      'pythond.unsupportedMediaType',
      /Content-Encoding "gzip" and \?encoding=br disagree/,
    ],
    [
      'an echo format DataKit has but pythond not',
      '/v1/write/metric?echo=pbjson',
      'm v=1',
      LINE_PROTOCOL,
      400,
      'pythond.badRequest',
      /echo must be lp .* or json/,
    ],
    ['line protocol sent as JSON', '/v1/write/metric', 'm v=1\n', JSON_BODY, 400, 'datakit.invalidJSONPoint', /the body is not valid JSON/],
    [
      'JSON with a syntax error',
      '/v1/write/metric',
      '[\n{"measurement":"m",}\n]',
      JSON_BODY,
      400,
      'datakit.invalidJSONPoint',
      /the body is not valid JSON: line 2, column 20: /,
    ],
    [
      'a JSON object instead of a list',
      '/v1/write/metric',
      '{"measurement":"m","fields":{"v":1}}',
      JSON_BODY,
      400,
      'datakit.invalidJSONPoint',
      /a JSON body must be a list of points/,
    ],
    [
      'a JSON point without fields',
      '/v1/write/metric',
      '[{"measurement":"m","fields":{"v":1}},{"measurement":"m"}]',
      JSON_BODY,
      400,
      'datakit.invalidJSONPoint',
      /1 of 2 points are invalid, so none was written:\npoint 2: fields must be an object/,
    ],
    [
      'a JSON field that is null',
      '/v1/write/metric',
      '[{"measurement":"m","fields":{"v":null}}]',
      JSON_BODY,
      400,
      'datakit.invalidJSONPoint',
      /point 1: field "v" is null/,
    ],
    ['an empty JSON list', '/v1/write/metric', '[]', JSON_BODY, 400, 'datakit.noPoints', /the body has no points/],
    [
      "DataKit's network category",
      '/v1/write/network',
      'm v=1\n',
      LINE_PROTOCOL,
      400,
      'datakit.invalidCategory',
      /invalid category "network": pythond accepts metric, logging, rum, object, custom_object, keyevent/,
    ],
    ["DataKit's security category", '/v1/write/security', 'm v=1\n', LINE_PROTOCOL, 400, 'datakit.invalidCategory', /invalid category "security"/],
    ["DataKit's profiling category", '/v1/write/profiling', 'm v=1\n', LINE_PROTOCOL, 400, 'datakit.invalidCategory', /invalid category "profiling"/],
    [
      'an unknown precision',
      '/v1/write/metric?precision=d',
      'm v=1\n',
      LINE_PROTOCOL,
      400,
      'datakit.invalidPrecision',
      /precision must be one of n, u, ms, s, m, h \(given once\), got "d"/,
    ],
    ['a precision given twice', '/v1/write/metric?precision=s&precision=ms', 'm v=1\n', LINE_PROTOCOL, 400, 'datakit.invalidPrecision', /got \["s","ms"\]/],
  ];

  test('malformed writes are refused with what is wrong and where, and the server keeps serving', async (t) => {
    const mark = api.points().length;
    for (const [what, path, body, headers, status, code, message] of MALFORMED) {
      await t.test(what, async () => {
        const answer = await post(api.url, path, body, headers);
        assert.equal(answer.status, status, answer.text);
        assert.equal(answer.json?.error_code, code);
        assert.match(answer.json!.message, message);
      });
    }
    assert.deepEqual(landedSince(mark), [], 'no refused body wrote anything');
    const good = await post(api.url, '/v1/write/metric', 'after_bad v=1 1700000000000000000\n', LINE_PROTOCOL);
    assert.equal(good.status, 200, good.text);
    assert.deepEqual(
      landedSince(mark).map((point) => point.measurement),
      ['after_bad'],
    );
  });

  test('each body refused for its points counts in pythond_write_api_rejected_total by reason', async () => {
    const rejected = (reason: string) => metricValue(api.app.metrics, 'pythond_write_api_rejected_total', { reason });
    const counts = { invalid: await rejected('invalid'), unreadable: await rejected('unreadable'), empty: await rejected('empty') };
    for (const [body, headers, code] of [
      ['m v=1\nbad line\n', LINE_PROTOCOL, 'datakit.invalidLinePoint'],
      ['[{"measurement":', JSON_BODY, 'datakit.invalidJSONPoint'],
      ['# only a comment\n', LINE_PROTOCOL, 'datakit.noPoints'],
    ] as const) {
      assert.equal((await post(api.url, '/v1/write/metric', body, headers)).json?.error_code, code);
    }
    assert.deepEqual(
      { invalid: await rejected('invalid'), unreadable: await rejected('unreadable'), empty: await rejected('empty') },
      { invalid: counts.invalid + 1, unreadable: counts.unreadable + 1, empty: counts.empty + 1 },
    );
  });

  test('accepted API points count in pythond_points_total under input="api", refused ones in pythond_points_invalid_total', async () => {
    const text = await (await fetch(`${api.url}/metrics`)).text();
    assert.match(text, /^pythond_points_total\{input="api",category="metric"\} \d+$/m);
    assert.match(text, /^pythond_points_total\{input="api",category="custom_object"\} 2$/m);
    assert.match(text, /^pythond_points_invalid_total\{input="api"\} \d+$/m);
    assert.doesNotMatch(text, /input="(?!api"|test")/, 'the only input labels are the configured input and "api"');
  });
});
