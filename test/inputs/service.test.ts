import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { CollectorState } from '../../src/inputs/collector-record.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { PLUGINS } from '../../src/plugins.js';
import { TICK_COLLECTOR } from '../helpers/collectors.js';
import { docker, requireDocker } from '../helpers/docker.js';
import { freePort, tempTree, waitFor } from '../helpers/fixtures.js';
import { MemoryOutput, metricValue } from '../helpers/input-harness.js';
import { inputReports } from '../../src/http/views.js';

/**
 * A collector whose run() never returns: it serves HTTP on SERVICE_PORT,
 * answering every GET with a token of its host (a restarted host answers
 * with another) and how long it has served, and reporting a point per request.
 */
const SERVICE = `
  import http.server
  import os
  import time
  import uuid

  from datakit_framework import DataKitFramework

  HOST_TOKEN = uuid.uuid4().hex


  class Service(DataKitFramework):
      name = 'service'
      interval = 1

      def run(self):
          collector = self
          started = time.monotonic()

          class Handler(http.server.BaseHTTPRequestHandler):
              def do_GET(self):
                  collector.feed_metric(measurement='served', fields={'path': self.path})
                  body = ('%s %f' % (HOST_TOKEN, time.monotonic() - started)).encode()
                  self.send_response(200)
                  self.send_header('Content-Length', str(len(body)))
                  self.end_headers()
                  self.wfile.write(body)

          address = (os.environ.get('SERVICE_HOST', '127.0.0.1'), int(os.environ['SERVICE_PORT']))
          http.server.HTTPServer(address, Handler).serve_forever()
`;

/** A service that reports one point every 0.4 s, forever: at most 3 in any one-second interval. */
const HEARTBEAT = `
  import time

  from datakit_framework import DataKitFramework


  class Heartbeat(DataKitFramework):
      interval = 1

      def run(self):
          beat = 0
          while True:
              beat += 1
              self.feed_metric(measurement='beat', fields={'n': beat})
              time.sleep(0.4)
`;

interface ServiceApp {
  app: App;
  output: MemoryOutput;
  /** The service's entry in the status API. */
  state(): CollectorState;
}

/**
 * Runs `body` with `files` (by default the service and a plain one-second
 * collector) in one input with `timeout = "0"`, scheduled, in a started
 * App; stops the App after.
 */
async function withService(
  options: { executor: 'process' | 'docker'; inputToml: string; files?: Record<string, string> },
  body: (service: ServiceApp) => Promise<void>,
): Promise<void> {
  const { executor, inputToml } = options;
  const root = tempTree(options.files ?? { 'python.d/svc/service.py': SERVICE, 'python.d/svc/tick.py': TICK_COLLECTOR });
  const toml = `
[runner]
executor = "${executor}"
workers = 1
[[inputs.pythond]]
name = "svc"
dirs = ["svc"]
timeout = "0"
${inputToml}
[[outputs.stdout]]
`;
  const output = new MemoryOutput();
  const app = new App(parseConfig(toml, 'test.toml', root, PLUGINS), { log: silentLogger, outputs: { memory: output } });
  try {
    await app.start();
    await body({ app, output, state: () => inputReports(app)[0]!.collectors.find((c) => c.collector === 'service.Service')! });
  } finally {
    await app.stop();
  }
}

/** The token of the host that answers on `port` and how long its run has served, or undefined while none answers. */
const askService = (port: number): Promise<{ token: string; servingS: number } | undefined> =>
  fetch(`http://127.0.0.1:${port}/probe`).then(
    async (response) => {
      const [token, servingS] = (await response.text()).split(' ');
      return { token: token!, servingS: Number(servingS) };
    },
    () => undefined,
  );

/** Waits until a host other than `previous`'s answers; returns its token. */
async function newHost(port: number, previous: string): Promise<string> {
  const answer = await waitFor(async () => {
    const answer = await askService(port);
    return answer && answer.token !== previous ? answer : undefined;
  }, 'the service to answer from a new host');
  return answer.token;
}

function killHost(executor: string | undefined, host: string): Promise<void> {
  if (executor === 'docker') return docker.getContainer(host).kill();
  process.kill(Number(host.replace('pid ', '')), 'SIGKILL');
  return Promise.resolve();
}

/**
 * The whole life of a service: reachable, running (not counted as overlap
 * every interval, not holding the input's one concurrency slot), its host
 * killed, started again.
 */
async function serviceSurvivesAHostKill(t: TestContext, { app, output, state }: ServiceApp, port: number): Promise<void> {
  const { token: first } = await waitFor(() => askService(port), 'the service to answer');

  // Several intervals pass while it serves: the other collector of its input ticks, with the input's concurrency of 1.
  await waitFor(async () => (await metricValue(app.metrics, 'pythond_ticks_total', { collector: 'tick.Tick', status: 'ok' })) >= 3, 'three ticks of tick.Tick');
  assert.equal((await askService(port))?.token, first, 'the same run still serves');
  assert.deepEqual(
    { state: state().state, runs: state().runs, nextRun: state().nextRun, service: state().service },
    { state: 'running', runs: 0, nextRun: undefined, service: true },
  );
  assert.equal(await metricValue(app.metrics, 'pythond_ticks_skipped_total', { collector: 'service.Service' }), 0, 'no overlap or late counted');
  assert.ok(
    output.points.some((p) => p.measurement === 'served' && p.fields.path === '/probe'),
    'points reported while serving reach the outputs',
  );

  const host = state().host!;
  await killHost(app.runtimeKind, host);
  t.diagnostic(`killed host ${host}`);

  await newHost(port, first);
  assert.equal(state().state, 'running');
  assert.equal(state().runs, 1, 'the run the kill ended');
  assert.equal(state().failures, 1);
  assert.match(state().lastError!, /collector host .* (ended \(signal SIGKILL\)|exited with code 137)/);
  assert.notEqual(state().host, host);
  assert.ok((await metricValue(app.metrics, 'pythond_container_restarts_total', { input: 'svc' })) >= 1);
}

describe('a collector whose run() never returns, under timeout = "0"', () => {
  it('serves, is shown running, and is started again when its host is killed (process executor)', async (t) => {
    const port = await freePort();
    const inputToml = `envs = ["SERVICE_PORT=${port}", "PATH=${process.env.PATH}"]`;
    await withService({ executor: 'process', inputToml }, (service) => serviceSurvivesAHostKill(t, service, port));
  });

  it('is started again at once after a death that follows an interval of health, without backoff', async () => {
    const port = await freePort();
    const inputToml = `envs = ["SERVICE_PORT=${port}", "PATH=${process.env.PATH}"]`;
    // Alone in its input: no other collector's good tick resets the backoff.
    await withService({ executor: 'process', inputToml, files: { 'python.d/svc/service.py': SERVICE } }, async ({ app, state }) => {
      let token = (await waitFor(() => askService(port), 'the service to answer')).token;
      for (let death = 1; death <= 3; death++) {
        await waitFor(async () => ((await askService(port))?.servingS ?? 0) > 1.5, 'the service to serve for longer than its interval');
        await killHost(app.runtimeKind, state().host!);
        token = await newHost(port, token);
      }
      assert.equal(state().failures, 3);
      assert.equal(await metricValue(app.metrics, 'pythond_ticks_skipped_total', { collector: 'service.Service', reason: 'backoff' }), 0);
    });
  });

  it('is ended at once when pythond stops, recorded as a run that went well', async () => {
    const port = await freePort();
    const inputToml = `envs = ["SERVICE_PORT=${port}", "PATH=${process.env.PATH}"]`;
    await withService({ executor: 'process', inputToml }, async ({ app, state }) => {
      await waitFor(() => askService(port), 'the service to answer');
      await app.stop();
      assert.deepEqual({ runs: state().runs, lastStatus: state().lastStatus, failures: state().failures }, { runs: 1, lastStatus: 'ok', failures: 0 });
      assert.equal(await askService(port), undefined, 'its host is gone');
    });
  });

  it('holds its bounds per interval, not over its whole run (which never ends)', async () => {
    await withService({ executor: 'process', inputToml: 'max_points = 4', files: { 'python.d/svc/heartbeat.py': HEARTBEAT } }, async ({ app, output }) => {
      await waitFor(() => output.points.filter((p) => p.measurement === 'beat').length >= 10, 'ten beats, past max_points = 4');
      const heartbeat = inputReports(app)[0]!.collectors.find((c) => c.collector === 'heartbeat.Heartbeat')!;
      assert.deepEqual({ state: heartbeat.state, runs: heartbeat.runs, failures: heartbeat.failures }, { state: 'running', runs: 0, failures: 0 });
    });
  });

  it('serves on a published port, and is started again when its container is killed (docker executor)', async (t) => {
    if (!(await requireDocker(t))) return;
    const port = await freePort();
    // A network of its own: ports are published from a bridge or a named network, and this one is the test's to remove.
    const name = `pythond-test-${randomBytes(4).toString('hex')}`;
    const network = await docker.createNetwork({ Name: name });
    try {
      const toml = `envs = ["SERVICE_HOST=0.0.0.0", "SERVICE_PORT=8000"]\nnetwork = "${name}"\nports = ["127.0.0.1:${port}:8000"]`;
      await withService({ executor: 'docker', inputToml: toml }, (service) => serviceSurvivesAHostKill(t, service, port));
    } finally {
      await network.remove();
    }
  });

  it('serves on the host\'s network with network = "host" (docker executor)', async (t) => {
    if (!(await requireDocker(t))) return;
    const port = await freePort();
    await withService({ executor: 'docker', inputToml: `envs = ["SERVICE_PORT=${port}"]\nnetwork = "host"` }, async () => {
      await waitFor(() => askService(port), 'the service to answer');
    });
  });
});
