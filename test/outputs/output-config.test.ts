import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { OUTPUT_PLUGINS } from '../../src/outputs/registry.js';
import { REPO_ROOT, tempTree } from '../helpers/fixtures.js';
import { PLUGINS } from '../../src/plugins.js';

const tree = tempTree({ 'python.d/demo/demo.py': 'VALUE = 1\n' });
const INPUT = `[runner]\npython_d = "python.d"\n\n[[inputs.pythond]]\nname = "demo"\ndirs = ["demo"]\n\n`;

/** The ```toml block of each "## <output>" section of the outputs README. */
function readmeSamples(): { output: string; toml: string }[] {
  const readme = readFileSync(path.join(REPO_ROOT, 'src/outputs/README.md'), 'utf8');
  return readme
    .split(/^## /m)
    .slice(1)
    .map((section) => ({ output: section.slice(0, section.indexOf('\n')).trim(), toml: /```toml\n([\s\S]*?)```/.exec(section)?.[1] }))
    .filter((sample): sample is { output: string; toml: string } => sample.toml !== undefined);
}

test('the outputs README has a sample block for every output', () => {
  assert.deepEqual(
    readmeSamples()
      .map((sample) => sample.output)
      .sort(),
    Object.keys(OUTPUT_PLUGINS).sort(),
  );
});

for (const { output, toml } of readmeSamples()) {
  test(`the ${output} sample in the outputs README loads through the config loader`, () => {
    const config = parseConfig(INPUT + toml, 'README sample', tree, PLUGINS);
    assert.equal(config.outputs.length, 1);
    assert.equal(config.outputs[0]!.type, output);
  });
}

const BAD_OUTPUTS: [what: string, toml: string, error: RegExp][] = [
  [
    'a url without scheme',
    '[[outputs.influxdb]]\nurl = "127.0.0.1:8086"\ndatabase = "db"',
    /:\d+: outputs\.influxdb\[0\]\.url must be an http:\/\/ or https:\/\/ URL such as "http:\/\/127\.0\.0\.1:8086", got "127\.0\.0\.1:8086"/,
  ],
  [
    'a url with credentials',
    '[[outputs.influxdb]]\nurl = "http://me:pw@127.0.0.1:8086"\ndatabase = "db"',
    /outputs\.influxdb\[0\]\.url must not carry a user name or password/,
  ],
  [
    'a url with a query',
    '[[outputs.influxdb]]\nurl = "http://127.0.0.1:8086/?db=x"\ndatabase = "db"',
    /outputs\.influxdb\[0\]\.url must be the server's base URL, without \?query/,
  ],
  ['no database', '[[outputs.influxdb]]\nurl = "http://127.0.0.1:8086"', /outputs\.influxdb\[0\]\.database is required/],
  [
    'a username without password',
    '[[outputs.influxdb]]\nurl = "http://127.0.0.1:8086"\ndatabase = "db"\nusername = "me"',
    /outputs\.influxdb\[0\]\.password is required when username is set/,
  ],
  [
    'a token and a username',
    '[[outputs.influxdb]]\nurl = "http://127.0.0.1:8086"\ndatabase = "db"\nusername = "me"\npassword = "pw"\ntoken = "t"',
    /outputs\.influxdb\[0\]\.token cannot be combined with username and password/,
  ],
  [
    'a tls_ca that does not exist',
    '[[outputs.influxdb]]\nurl = "https://127.0.0.1:8086"\ndatabase = "db"\ntls_ca = "missing.pem"',
    /outputs\.influxdb\[0\]\.tls_ca must be a readable file, but .*missing\.pem is not \(ENOENT\)/,
  ],
  [
    'a batch_size of 0',
    '[[outputs.datakit]]\nurl = "http://127.0.0.1:9529"\nbatch_size = 0',
    /outputs\.datakit\[0\]\.batch_size must be an integer from 1 to 1000000, got number 0/,
  ],
  [
    'a tiny buffer_size',
    '[[outputs.datakit]]\nurl = "http://127.0.0.1:9529"\nbuffer_size = "1k"',
    /outputs\.datakit\[0\]\.buffer_size must be a size such as "64k", "128m" or "1g" of at least 64 KiB, got "1k"/,
  ],
  [
    'a flush_interval that is no duration',
    '[[outputs.datakit]]\nurl = "http://127.0.0.1:9529"\nflush_interval = "soon"',
    /outputs\.datakit\[0\]\.flush_interval must be a duration/,
  ],
  [
    'an influxdb key on datakit',
    '[[outputs.datakit]]\nurl = "http://127.0.0.1:9529"\ndatabase = "db"',
    /outputs\.datakit\[0\]\.database is not a known key; known keys: url, timeout, batch_size, flush_interval, buffer_size/,
  ],
  [
    'a remote write url without scheme',
    '[[outputs.prometheus_remote_write]]\nurl = "127.0.0.1:9090/api/v1/write"',
    /outputs\.prometheus_remote_write\[0\]\.url must be an http:\/\/ or https:\/\/ URL such as "http:\/\/127\.0\.0\.1:9090\/api\/v1\/write"/,
  ],
  [
    'a bearer_token and a username',
    '[[outputs.prometheus_remote_write]]\nurl = "http://127.0.0.1:9090/api/v1/write"\nusername = "me"\npassword = "pw"\nbearer_token = "t"',
    /outputs\.prometheus_remote_write\[0\]\.bearer_token cannot be combined with username and password/,
  ],
  [
    'a header remote write sets itself',
    '[[outputs.prometheus_remote_write]]\nurl = "http://127.0.0.1:9090/api/v1/write"\nheaders = { Content-Encoding = "gzip" }',
    /outputs\.prometheus_remote_write\[0\]\.headers\.Content-Encoding is set by remote write itself \(snappy\)/,
  ],
  [
    'an Authorization header beside a bearer_token',
    '[[outputs.prometheus_remote_write]]\nurl = "http://127.0.0.1:9090/api/v1/write"\nbearer_token = "t"\nheaders = { Authorization = "Bearer u" }',
    /outputs\.prometheus_remote_write\[0\]\.headers\.Authorization cannot be combined with username\/password or bearer_token/,
  ],
  [
    "an endpoint on the runner's own address",
    '[[outputs.prometheus]]\nlisten = "0.0.0.0:9529"',
    /outputs\.prometheus\[0\]\.listen is the runner's own HTTP API address \(runner\.listen = "127\.0\.0\.1:9529"\)/,
  ],
  [
    'an endpoint path without its slash',
    '[[outputs.prometheus]]\npath = "metrics"',
    /outputs\.prometheus\[0\]\.path must be a URL path such as "\/metrics", got "metrics"/,
  ],
  [
    'an endpoint max_series of 0',
    '[[outputs.prometheus]]\nmax_series = 0',
    /outputs\.prometheus\[0\]\.max_series must be an integer from 1 to 100000000, got number 0/,
  ],
];

for (const [what, toml, error] of BAD_OUTPUTS) {
  test(`an output with ${what} is a config error naming the output and the key`, () => {
    assert.throws(
      () => parseConfig(INPUT + toml, 'pythond.toml', tree, PLUGINS),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, error);
        return true;
      },
    );
  });
}
