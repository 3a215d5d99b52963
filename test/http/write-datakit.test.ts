import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { startApiApp, type ApiApp, type WrittenPoint } from '../helpers/api-app.js';
import { metricValue } from '../helpers/input-harness.js';

/** POSTs `body` to `path`; the answer's status, type and text. */
async function post(base: string, path: string, body: string | Uint8Array, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers });
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
}

const BODY = 'cpu,core=0 usage=12.5,n=3i 1700000000000000000\ncpu,core=1 usage=7.25,n=4i 1700000000000000001\nmem free=1024i 1700000000000000002\n';

/** Compressed as a client of DataKit sends it. */
const COMPRESSED: [encoding: string, compress: (text: string) => Buffer][] = [
  ['gzip', (text) => zlib.gzipSync(text)],
  ['deflate', (text) => zlib.deflateSync(text)],
  ['br', (text) => zlib.brotliCompressSync(text)],
];

/** `length` zero bytes compressed with `compress`, streamed: the inflated body never exists here. */
async function zeros(length: number, compress: zlib.Gzip | zlib.BrotliCompress): Promise<Buffer> {
  const chunk = Buffer.alloc(16 * 1024 ** 2);
  const chunks = Array.from({ length: Math.ceil(length / chunk.length) }, () => chunk);
  const out: Buffer[] = [];
  compress.on('data', (data: Buffer) => out.push(data));
  const ended = new Promise((resolve) => compress.on('end', resolve));
  Readable.from(chunks).pipe(compress);
  await ended;
  return Buffer.concat(out);
}

const shape = ({ measurement, tags, fields, time }: WrittenPoint) => ({ measurement, tags, fields, time });

describe("POST /v1/write/:category as DataKit's clients send it", () => {
  let api: ApiApp;
  before(async () => {
    api = await startApiApp({
      runner: 'max_body_size = "64KiB"',
      tables: '[global_host_tags]\nhost = "__datakit_hostname"\nzone = "z1"\n[global_election_tags]\ncluster = "prod"\n',
    });
  });
  after(() => api.stop());
  const landedSince = (mark: number) => api.points().slice(mark).map(shape);
  const host = () => api.app.config.host.name;

  test('a compressed body stores the same points as the plain one: gzip, deflate and br, by Content-Encoding or by ?encoding=', async () => {
    let mark = api.points().length;
    assert.equal((await post(api.url, '/v1/write/metric', BODY)).status, 200);
    const plain = landedSince(mark);
    assert.equal(plain.length, 3);
    for (const [encoding, compress] of COMPRESSED) {
      for (const [how, path, headers] of [
        ['Content-Encoding', '/v1/write/metric', { 'Content-Encoding': encoding }],
        ['?encoding=', `/v1/write/metric?encoding=${encoding}`, {}],
      ] as const) {
        mark = api.points().length;
        const answer = await post(api.url, path, compress(BODY), headers);
        assert.equal(answer.status, 200, `${encoding} by ${how}: ${answer.text}`);
        assert.deepEqual(landedSince(mark), plain, `${encoding} by ${how}`);
      }
    }
    // Raw deflate (no zlib header), as some clients send `deflate`.
    mark = api.points().length;
    assert.equal((await post(api.url, '/v1/write/metric', zlib.deflateRawSync(BODY), { 'Content-Encoding': 'deflate' })).status, 200);
    assert.deepEqual(landedSince(mark), plain);
  });

  test('zstd is inflated where Node has it, else a 415 saying what would', async () => {
    const zstdCompress = (zlib as { zstdCompressSync?: (text: string) => Buffer }).zstdCompressSync;
    // `printf 'm v=1i 1\n' | zstd -c`, for a Node with no zstd to refuse.
    const body = zstdCompress?.('m v=1i 1\n') ?? Buffer.from('KLUv/QRYSQAAbSB2PTFpIDEKJyyYsA==', 'base64');
    const mark = api.points().length;
    const answer = await post(api.url, '/v1/write/metric?encoding=zstd', body);
    if (zstdCompress) {
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(
        landedSince(mark).map((point) => point.measurement),
        ['m'],
      );
    } else {
      assert.equal(answer.status, 415);
      assert.match(
        JSON.parse(answer.text).message,
        /^encoding "zstd" is not supported \(zstd needs Node\.js 22\.15 or later\); send the body uncompressed or as gzip, deflate, br$/,
      );
    }
  });

  test('max_body_size bounds the inflated body too: a 1 KiB gzip body that inflates to 1 MiB is a 413, and nothing is written', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(1024 ** 2), { level: 9 });
    assert.ok(bomb.length <= 1100, `the gzip body is ${bomb.length} bytes`);
    const mark = api.points().length;
    const tooLarge = () => metricValue(api.app.metrics, 'pythond_write_api_rejected_total', { reason: 'tooLarge' });
    const refusedBefore = await tooLarge();
    const answer = await post(api.url, '/v1/write/metric', bomb, { 'Content-Encoding': 'gzip' });
    assert.equal(answer.status, 413, answer.text);
    assert.deepEqual(JSON.parse(answer.text), {
      error_code: 'pythond.bodyTooLarge',
      message: 'the body inflates (gzip) past max_body_size (64 KiB); split it, or raise [runner] max_body_size',
    });
    assert.deepEqual(landedSince(mark), []);
    assert.equal(await tooLarge(), refusedBefore + 1);
  });

  test('a body that inflates to 1 GiB is refused with 413 after at most max_body_size of it: the runner holds none of the rest', async () => {
    const bomb = await zeros(
      1024 ** 3,
      zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4, [zlib.constants.BROTLI_PARAM_LGWIN]: 24 } }),
    );
    assert.ok(bomb.length < 2048, `the br body is ${bomb.length} bytes`);
    // The workers are threads of this process: its peak resident memory covers them.
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const answer = await post(api.url, '/v1/write/metric?encoding=br', bomb);
    assert.equal(answer.status, 413, answer.text);
    const grewBy = process.resourceUsage().maxRSS * 1024 - peakBefore;
    assert.ok(grewBy < 128 * 1024 ** 2, `the peak resident memory grew by ${(grewBy / 1024 ** 2).toFixed(0)} MiB while refusing a 1 GiB body`);
    // And the runner still takes writes.
    assert.equal((await post(api.url, '/v1/write/metric', 'after_bomb v=1\n')).status, 200);
  });

  test('global host tags go on every point that lacks them; the point keeps its own', async () => {
    const mark = api.points().length;
    assert.equal((await post(api.url, '/v1/write/metric', 'a v=1 1\nb,host=web01 v=1 2\n')).status, 200);
    assert.deepEqual(
      landedSince(mark).map((point) => point.tags),
      [
        { host: host(), zone: 'z1' },
        { host: 'web01', zone: 'z1' },
      ],
    );
  });

  const SWITCHES: [query: string, tags: () => Record<string, string>][] = [
    ['ignore_global_host_tags=true', () => ({})],
    ['ignore_global_tags=true', () => ({})],
    // DataKit looks only at whether a value is there.
    ['ignore_global_host_tags=false', () => ({})],
    // Points of the elected member: the election tags instead of this machine's, as DataKit's feeder adds them.
    ['global_election_tags=true', () => ({ cluster: 'prod' })],
    ['global_election_tags=true&ignore_global_host_tags=true', () => ({ cluster: 'prod' })],
    ['ignore_global_host_tags=', () => ({ host: host(), zone: 'z1' })],
  ];
  for (const [query, tags] of SWITCHES) {
    test(`?${query} adds the global tags DataKit adds`, async () => {
      const mark = api.points().length;
      assert.equal((await post(api.url, `/v1/write/metric?${query}`, 'm v=1 1\n')).status, 200);
      assert.deepEqual(landedSince(mark)[0]?.tags, tags());
    });
  }

  test('dry=true checks the body and writes nothing; a bad body is still refused', async () => {
    const mark = api.points().length;
    const counted = await metricValue(api.app.metrics, 'pythond_points_total', { input: 'api', category: 'metric' });
    const answer = await post(api.url, '/v1/write/metric?dry=true', BODY);
    assert.deepEqual([answer.status, answer.text], [200, '']);
    assert.equal((await post(api.url, '/v1/write/metric?dry=true', 'bad v=\n')).status, 400);
    assert.deepEqual(landedSince(mark), []);
    assert.equal(await metricValue(api.app.metrics, 'pythond_points_total', { input: 'api', category: 'metric' }), counted);
  });

  test('echo=lp answers the points as stored, in line protocol: tags sorted, the global ones added, time in ns', async () => {
    const answer = await post(api.url, '/v1/write/metric?echo=lp&precision=s', 'cpu,core=0 usage=12.5,n=3i 1700000000\n');
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.type, /^text\/plain/);
    assert.equal(answer.text, `cpu,core=0,host=${host()},zone=z1 usage=12.5,n=3i 1700000000000000000\n`);
  });

  test("DataKit's older echo_line_proto and echo_json switches answer as echo=lp and echo=json", async () => {
    const lp = await post(api.url, '/v1/write/metric?echo_line_proto=true&dry=1', 'm v=1i 1\n');
    assert.deepEqual([lp.status, lp.text], [200, `m,host=${host()},zone=z1 v=1i 1\n`]);
    const json = await post(api.url, '/v1/write/metric?echo_json=1&dry=1', 'm v=1i 1\n');
    assert.deepEqual(
      (JSON.parse(json.text) as WrittenPoint[]).map((point) => point.tags),
      [{ host: host(), zone: 'z1' }],
    );
  });

  test('echo=json answers the points as the file output stores them, as one JSON list; with dry=true, nothing is stored', async () => {
    const mark = api.points().length;
    const answer = await post(api.url, '/v1/write/logging?echo=json&dry=true', '[{"measurement":"nginx","fields":{"message":"GET /"},"time":5}]', {
      'Content-Type': 'application/json',
    });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.type, 'application/json');
    assert.deepEqual(JSON.parse(answer.text), [
      { category: 'logging', measurement: 'nginx', tags: { host: host(), zone: 'z1' }, fields: { message: 'GET /' }, time: 5 },
    ]);
    assert.deepEqual(landedSince(mark), []);
    const written = await post(api.url, '/v1/write/metric?echo=json', BODY);
    assert.deepEqual(
      (JSON.parse(written.text) as WrittenPoint[]).map((point) => point.measurement),
      ['cpu', 'cpu', 'mem'],
    );
    assert.equal(api.points().length, mark + 3);
  });
});
