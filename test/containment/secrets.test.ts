import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { pythond, startRunner, type Runner } from '../helpers/cli.js';
import { requireDocker } from '../helpers/docker.js';
import { tempTree, waitFor } from '../helpers/fixtures.js';
import { InfluxDB } from '../helpers/metric-servers.js';
import { StubServer } from '../helpers/stub-http.js';

/**
 * Secrets end to end, as an operator runs pythond: a collector sees its
 * secret (from a file, and from the runner's environment through `envs`),
 * an output's credentials reach their server, and no value shows anywhere
 * else: the runner's log at trace, every GET of the HTTP API, the CLI,
 * `docker inspect` of every container, the process list and every file
 * under data_dir. Then a rotated secret file reaches the collector within
 * one reload, and only the inputs that use it get new hosts.
 */

const COLLECTOR = `
import hashlib, os
from datakit_framework import DataKitFramework

AT_IMPORT = os.environ.get('DB_PASSWORD')

def digest(name):
    return hashlib.sha256(os.environ.get(name, '').encode()).hexdigest()[:16]

class Sec(DataKitFramework):
    name = 'sec'
    interval = 1

    def run(self):
        self.report({'M': [{'measurement': 'secret_seen', 'tags': {}, 'fields': {
            'db': digest('DB_PASSWORD'), 'api': digest('API_KEY'), 'at_import': AT_IMPORT == os.environ.get('DB_PASSWORD')}}]})
`;

const OTHER = `
from datakit_framework import DataKitFramework

class Other(DataKitFramework):
    name = 'other'
    interval = 1

    def run(self):
        self.report({'M': [{'measurement': 'other', 'fields': {'v': 1}}]})
`;

const digest = (value: string): string => createHash('sha256').update(value).digest('hex').slice(0, 16);

/** A value no surface would show by chance. */
const secretValue = (what: string): string => `${what}-${randomBytes(9).toString('hex')}`;

interface Setup {
  root: string;
  config: string;
  env: NodeJS.ProcessEnv;
  /** Every secret value of the config: none may be anywhere but where it is meant to go. */
  values: Record<string, string>;
  /** Input names, unique to this run (containers are found by their label). */
  names: string[];
  /** The InfluxDB user the config writes as. */
  influxUser: string;
}

function setup(options: { executor: string; modes: string[]; influx: InfluxDB; stub: StubServer; listen: string }): Setup {
  const suffix = randomBytes(3).toString('hex');
  const values = {
    db: secretValue('db'),
    api: secretValue('api'),
    influxPassword: secretValue('influx'),
    stubToken: secretValue('token'),
    apiToken: secretValue('api-token'),
  };
  const names = options.modes.map((mode) => `sec-${mode}-${suffix}`);
  const inputs = options.modes.map(
    (mode, i) => `
      [[inputs.pythond]]
      name = "${names[i]}"
      dirs = ["sec"]
      mode = "${mode}"
      tags = { mode = "${mode}" }
      envs = ["PLAIN=1", "API_KEY=\${env:PYTHOND_TEST_API_KEY}"]
      secrets = { DB_PASSWORD = "\${file:secrets/db}" }
    `,
  );
  const root = tempTree({
    'python.d/sec/sec.py': COLLECTOR,
    'python.d/other/other.py': OTHER,
    'secrets/db': `${values.db}\n`,
    'secrets/api_token': values.apiToken,
    'pythond.toml': `
      [runner]
      executor = "${options.executor}"
      listen = "${options.listen}"
      log_level = "trace"
      log_format = "json"
      api_token = "\${file:secrets/api_token}"
      ${inputs.join('\n')}
      [[inputs.pythond]]
      name = "other-${suffix}"
      dirs = ["other"]
      [[outputs.file]]
      path = "data/points.jsonl"
      [[outputs.influxdb]]
      url = "${options.influx.url}"
      database = "secrets"
      username = "writer_${suffix}"
      password = "\${env:PYTHOND_TEST_INFLUX_PASSWORD}"
      flush_interval = "200ms"
      [[outputs.influxdb]]
      url = "${options.stub.url}"
      database = "stub"
      token = "\${env:PYTHOND_TEST_STUB_TOKEN}"
      flush_interval = "200ms"
    `,
  });
  const env = { PYTHOND_TEST_API_KEY: values.api, PYTHOND_TEST_INFLUX_PASSWORD: values.influxPassword, PYTHOND_TEST_STUB_TOKEN: values.stubToken };
  return { root, config: path.join(root, 'pythond.toml'), env, values, names: [...names, `other-${suffix}`], influxUser: `writer_${suffix}` };
}

/** The points the file output wrote, of `measurement`. */
function points(root: string, measurement: string): { tags: Record<string, string>; fields: Record<string, unknown> }[] {
  let text = '';
  try {
    text = readFileSync(path.join(root, 'data/points.jsonl'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.includes(`"measurement":"${measurement}"`))
    .map((line) => JSON.parse(line));
}

/** Every file under `dir`, with its content. */
function filesUnder(dir: string): [string, Buffer][] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => path.join(dir, name))
    .filter((file) => statSync(file, { throwIfNoEntry: false })?.isFile())
    .map((file) => [file, readFileSync(file)]);
}

/** Whatever `docker inspect` says of the containers of `names` alive now. */
function inspectContainers(names: string[]): string[] {
  return names.flatMap((name) => {
    const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=io.pythond.input=${name}`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    return ids.map((id) => {
      try {
        return execFileSync('docker', ['inspect', id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        return ''; // a fresh tick's container, gone meanwhile
      }
    });
  });
}

/** Fails naming the surface and the secret when any value is in `text`. */
function assertNoSecret(surface: string, text: string | Buffer, values: Record<string, string>): void {
  const haystack = typeof text === 'string' ? text : text.toString('latin1');
  for (const [what, value] of Object.entries(values)) assert.ok(!haystack.includes(value), `the ${what} secret shows in ${surface}`);
}

async function listenAddress(run: Runner): Promise<string> {
  return waitFor(() => /HTTP API listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.log())?.[1], 'the listening line');
}

/** Runs `made` and checks every surface; returns the runner, still running, and its API's URL. */
async function runAndSearch(t: TestContext, made: Setup, modes: string[], servers: { influx: InfluxDB; stub: StubServer }, executor: string) {
  const { root, config, env, values, names } = made;
  await servers.influx.query(`CREATE USER "${made.influxUser}" WITH PASSWORD '${values.influxPassword}' WITH ALL PRIVILEGES`);
  const run = startRunner(['--config', config], { env });
  t.after(async () => {
    if (run.child.exitCode === null) await run.stop();
  });
  const url = await listenAddress(run);
  // The collector sees its secrets, at import and in run(), in every mode.
  for (const mode of modes) {
    await waitFor(
      () =>
        points(root, 'secret_seen').some(
          (p) => p.tags.mode === mode && p.fields.db === digest(values.db) && p.fields.api === digest(values.api) && p.fields.at_import === true,
        ),
      `a ${mode} collector to see its secrets`,
      60_000,
    );
  }
  // The outputs' credentials reached their servers: InfluxDB took the points (basic auth), the stub saw the token.
  await waitFor(async () => (await servers.influx.rows('secrets', 'secret_seen')).length > 0, 'InfluxDB to store points with the password', 30_000);
  await waitFor(() => servers.stub.requests.some((r) => r.headers.authorization === `Token ${values.stubToken}`), 'the stub to get the token', 30_000);

  // Every surface, searched for every value.
  const fresh = modes.includes('fresh') ? names[modes.indexOf('fresh')]! : undefined;
  const inspected = inspectContainers(names);
  if (executor === 'docker') {
    // A fresh tick's container lives for a second: look until one was caught.
    if (fresh)
      await waitFor(
        () => inspectContainers([fresh]).some((text) => inspected.push(text) && text.includes('"Config"')),
        'a fresh container to inspect',
        30_000,
        20,
      );
    assert.ok(
      inspected.some((text) => text.includes('"Env"')),
      'containers were inspected',
    );
  }
  for (const text of inspected) assertNoSecret('docker inspect', text, values);
  for (const route of ['/', '/v1/collectors', '/metrics', '/healthz', '/v1/ping', '/ui/status.js']) {
    const response = await fetch(`${url}${route}`);
    assertNoSecret(`GET ${route}`, await response.text(), values);
  }
  assertNoSecret('ps', execFileSync('ps', ['-eww', '-o', 'pid,args'], { encoding: 'utf8' }), values);
  if (executor === 'process') {
    // The host's own environment (ps e): what it was started with, which has no secret.
    const hosts = execFileSync('pgrep', ['-f', `${root}.*host.py|host.py.*${root}`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    const pids = hosts.length > 0 ? hosts : execFileSync('pgrep', ['-f', 'host.py'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const pid of pids) {
      try {
        assertNoSecret(`/proc/${pid}/environ`, readFileSync(`/proc/${pid}/environ`), values);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
  const cli = { env, timeoutMs: 120_000 };
  assertNoSecret('pythond status', JSON.stringify(await pythond(['status', '--url', url], cli)), values);
  assertNoSecret('pythond validate', JSON.stringify(await pythond(['validate', '--config', config], cli)), values);
  const checked = await pythond(['check', '--input', names[0]!, '--config', config], cli);
  assert.match(checked.stdout, /secret_seen/, checked.stderr);
  assertNoSecret('pythond check', JSON.stringify(checked), values);
  return { run, url };
}

describe('secrets, end to end', () => {
  let influx: InfluxDB;
  let stub: StubServer;
  before(async () => {
    influx = await InfluxDB.start({ auth: { username: 'admin', password: 'admin-password' } });
    await influx.query('CREATE DATABASE secrets');
    stub = await StubServer.start();
    // The first request with the token is refused: its error is logged, and must not show the token either.
    let answered = 0;
    stub.answer = () => (answered++ === 0 ? { status: 401, body: '{"error":"authorization failed"}' } : { status: 204 });
  });
  after(async () => {
    await influx?.close();
    await stub?.close();
  });
  const servers = async () => ({ influx, stub });

  it('docker, warm and fresh: the collectors see their secrets, nothing else shows them, and a rotated file reaches them within one reload', async (t) => {
    if (!(await requireDocker(t))) return;
    const s = await servers();
    const made = setup({ executor: 'docker', modes: ['warm', 'fresh'], ...s, listen: '127.0.0.1:0' });
    const { run, url } = await runAndSearch(t, made, ['warm', 'fresh'], s, 'docker');
    const { root, values, names } = made;
    const other = names.at(-1)!;
    const containerOf = (name: string) => execFileSync('docker', ['ps', '-q', '--filter', `label=io.pythond.input=${name}`], { encoding: 'utf8' }).trim();
    const warmBefore = containerOf(names[0]!);
    const otherBefore = containerOf(other);
    assert.ok(warmBefore && otherBefore, 'the warm inputs have containers');
    const reloads = () =>
      run
        .log()
        .split('\n')
        .filter((line) => line.includes('"msg":"reload ('));

    // Rotation: a new value in the file, written as most tools write it (a new file renamed over the old).
    const rotated = secretValue('rotated');
    writeFileSync(path.join(root, 'secrets/db.new'), `${rotated}\n`);
    execFileSync('mv', [path.join(root, 'secrets/db.new'), path.join(root, 'secrets/db')]);
    for (const mode of ['warm', 'fresh'])
      await waitFor(
        () => points(root, 'secret_seen').some((p) => p.tags.mode === mode && p.fields.db === digest(rotated)),
        `the ${mode} collector to see the rotated secret`,
        60_000,
      );
    assert.equal(reloads().length, 1, reloads().join('\n'));
    const restarted = /secrets\/db changed\) ok in [\d.]+ ms: restarted ([^"]*)"/.exec(reloads()[0]!)?.[1]?.split(', ');
    assert.deepEqual(restarted?.sort(), names.slice(0, 2).sort(), reloads()[0]);
    assert.equal(containerOf(other), otherBefore, 'the input without secrets kept its container');
    assert.notEqual(containerOf(names[0]!), warmBefore, 'the warm input has a new container');
    assert.equal(inspectContainers([names[0]!]).join('').includes(warmBefore), false, 'the old container, and the old value with it, is gone');
    for (const text of inspectContainers(names)) assertNoSecret('docker inspect after the rotation', text, { ...values, rotated });
    assertNoSecret('GET /v1/collectors after the rotation', await (await fetch(`${url}/v1/collectors`)).text(), { ...values, rotated });

    await run.stop();
    assertNoSecret('the log at trace', run.log(), { ...values, rotated });
    for (const [file, content] of filesUnder(path.join(root, 'data'))) assertNoSecret(file, content, { ...values, rotated });
  });

  it('process: the collector sees its secrets, and nothing else shows them', async (t) => {
    const s = await servers();
    const made = setup({ executor: 'process', modes: ['warm'], ...s, listen: '127.0.0.1:0' });
    const { run } = await runAndSearch(t, made, ['warm'], s, 'process');
    await run.stop();
    assertNoSecret('the log at trace', run.log(), made.values);
    for (const [file, content] of filesUnder(path.join(made.root, 'data'))) assertNoSecret(file, content, made.values);
  });
});
