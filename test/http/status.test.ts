import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CollectorsReport, HealthReport } from '../../src/http/api-types.js';
import type { InputStatus } from '../../src/inputs/running-input.js';
import { LastErrors, type ReportedError } from '../../src/inputs/last-errors.js';
import type { OutputStatus } from '../../src/outputs/running-output.js';
import { goDuration } from '../../src/http/routes/health.js';
import { VERSION } from '../../src/version.js';
import { IDLE_COLLECTOR, startApiApp, type ApiApp } from '../helpers/api-app.js';
import { freePort, waitFor } from '../helpers/fixtures.js';
import { metricValue } from '../helpers/input-harness.js';

interface Collectors {
  version: string;
  executor: string;
  inputs: InputStatus[];
  outputs: OutputStatus[];
  lastErrors: ReportedError[];
}

const getJson = async <T>(url: string): Promise<{ status: number; body: T }> => {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T };
};

describe('GET /healthz', () => {
  test('answers 503 "starting" until the app has started, then 200 "ok"', async () => {
    const api = await startApiApp({ start: false });
    try {
      assert.deepEqual(await getJson(`${api.url}/healthz`), {
        status: 503,
        body: { status: 'starting', outputs: [{ output: 'file[0]', ok: true }], inputs: [], reload: { ok: true } },
      });
      await api.app.start();
      assert.deepEqual(await getJson(`${api.url}/healthz`), {
        status: 200,
        body: { status: 'ok', outputs: [{ output: 'file[0]', ok: true }], inputs: [{ input: 'test', ok: true }], reload: { ok: true } },
      });
    } finally {
      await api.stop();
    }
  });

  test('answers 503 "failing", naming the output and its error, once an output could not write', async () => {
    // A folder where the output wants its file: every write fails.
    const api = await startApiApp({ files: { 'data/points.jsonl/blocker': '', 'python.d/idle/idle.py': IDLE_COLLECTOR } });
    try {
      const write = await fetch(`${api.url}/v1/write/metric`, { method: 'POST', body: 'm v=1\n' });
      assert.equal(write.status, 503, 'a write no output could keep is not a 2xx');
      const { status, body } = await getJson<{ status: string; outputs: { output: string; ok: boolean; error: string }[] }>(`${api.url}/healthz`);
      assert.equal(status, 503);
      assert.equal(body.status, 'failing');
      assert.equal(body.outputs[0]!.output, 'file[0]');
      assert.equal(body.outputs[0]!.ok, false);
      assert.match(body.outputs[0]!.error, /EISDIR/);
    } finally {
      await api.stop();
    }
  });
});

describe('an output that cannot send', () => {
  test('makes /healthz "degraded" (200: its points wait in its buffer), and is listed under problems with its buffered points', async () => {
    const port = await freePort(); // nothing listens there
    // Its close gives up on the output at once.
    const api = await startApiApp({
      runner: 'shutdown_timeout = "100ms"',
      tables: `[[outputs.influxdb]]\nurl = "http://127.0.0.1:${port}"\ndatabase = "db"\nflush_interval = "50ms"`,
    });
    try {
      await fetch(`${api.url}/v1/write/metric`, { method: 'POST', body: 'm v=1\n' });
      const { status, body } = await waitFor(async () => {
        const health = await getJson<HealthReport>(`${api.url}/healthz`);
        return health.body.outputs.some((output) => !output.ok) && health;
      }, 'the send to fail');
      assert.equal(status, 200, 'still usable as a liveness probe');
      assert.equal(body.status, 'degraded');
      const influxdb = body.outputs.find((output) => output.output === 'influxdb[0]')!;
      assert.equal(influxdb.retrying, true);
      assert.match(influxdb.error!, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}/write\\?db=db&precision=ns: .*ECONNREFUSED`));
      const { problems } = (await getJson<CollectorsReport>(`${api.url}/v1/collectors`)).body;
      assert.deepEqual(
        problems.map((problem) => problem.about),
        ['output influxdb[0]'],
      );
      assert.match(problems[0]!.message, /^output influxdb\[0\] cannot send \(1 point\(s\) wait in its buffer\): cannot reach /);
    } finally {
      await api.stop();
    }
  });
});

describe('scripts that cannot load', () => {
  test('make the input degraded (or failed when nothing loads), count them per script, and show in /healthz without failing it', async () => {
    const api = await startApiApp({
      dirs: ['mixed', 'broken'],
      files: {
        'python.d/mixed/idle.py': IDLE_COLLECTOR,
        'python.d/mixed/syntax.py': 'def run(:\n',
        'python.d/broken/missing.py': 'import no_such_module_anywhere\n',
      },
    });
    try {
      const { status, body } = await getJson<{ status: string; inputs: { input: string; ok: boolean; error: string }[] }>(`${api.url}/healthz`);
      assert.equal(status, 200, 'still usable as a liveness probe');
      assert.equal(body.status, 'degraded');
      assert.equal(body.inputs[0]!.ok, false);
      assert.match(
        body.inputs[0]!.error,
        /^2 script\(s\) failed to load: mixed\/syntax\.py:1: SyntaxError: .*; broken\/missing\.py:1: ModuleNotFoundError: No module named 'no_such_module_anywhere'$/,
      );

      const collectors = await getJson<{ inputs: { state: string; loadErrors: { file: string }[] }[] }>(`${api.url}/v1/collectors`);
      assert.equal(collectors.body.inputs[0]!.state, 'degraded');
      assert.deepEqual(collectors.body.inputs[0]!.loadErrors.map((e) => e.file).sort(), ['broken/missing.py', 'mixed/syntax.py']);

      const metrics = await (await fetch(`${api.url}/metrics`)).text();
      assert.match(metrics, /^pythond_load_errors\{input="test",file="mixed\/syntax\.py"\} 1$/m);
      assert.match(metrics, /^pythond_load_errors\{input="test",file="broken\/missing\.py"\} 1$/m);
    } finally {
      await api.stop();
    }
  });

  test('an input none of whose scripts loads is failed, with every error', async () => {
    const api = await startApiApp({ dirs: ['broken'], files: { 'python.d/broken/missing.py': 'import no_such_module_anywhere\n' } });
    try {
      const { body } = await getJson<{ inputs: { state: string; error: string }[] }>(`${api.url}/v1/collectors`);
      assert.equal(body.inputs[0]!.state, 'failed');
      assert.match(body.inputs[0]!.error, /^no collector could be loaded: broken\/missing\.py:1: ModuleNotFoundError/);
    } finally {
      await api.stop();
    }
  });
});

describe('GET /v1/ping', () => {
  test('answers as DataKit does: {"content":{"version","uptime"}}', async () => {
    const api = await startApiApp();
    try {
      const { status, body } = await getJson<{ content: { version: string; uptime: string } }>(`${api.url}/v1/ping`);
      assert.equal(status, 200);
      assert.deepEqual(Object.keys(body), ['content']);
      assert.equal(body.content.version, VERSION);
      assert.match(body.content.uptime, /^\d+(\.\d+)?(ms|s)$/);
    } finally {
      await api.stop();
    }
  });

  test('uptime is written the way Go prints a duration', () => {
    assert.deepEqual([350, 1500, 59_999, 123_250, 3_600_000, 3_723_004].map(goDuration), ['350ms', '1.5s', '59.999s', '2m3.25s', '1h0m0s', '1h2m3.004s']);
  });
});

describe('GET /v1/cluster', () => {
  test('answers 404 naming the missing [cluster] table on a runner that is not in a cluster', async () => {
    const api = await startApiApp({ start: false });
    try {
      const { status, body } = await getJson<{ error_code: string; message: string }>(`${api.url}/v1/cluster`);
      assert.equal(status, 404);
      assert.deepEqual(body, { error_code: 'pythond.notFound', message: 'this runner is not in a cluster: the config has no [cluster] table' });
    } finally {
      await api.stop();
    }
  });
});

describe('GET /v1/collectors', () => {
  let api: ApiApp;
  before(async () => {
    api = await startApiApp({
      dirs: ['status'],
      files: {
        'python.d/status/good.py': `
          from datakit_framework import DataKitFramework

          class Good(DataKitFramework):
              name = 'Good'
              interval = 1

              def run(self):
                  return self.feed_metric(measurement='good', fields={'v': 1})
        `,
        'python.d/status/bad.py': `
          from datakit_framework import DataKitFramework

          class Bad(DataKitFramework):
              name = 'Bad'
              interval = 1

              def run(self):
                  raise RuntimeError('the database is down')
        `,
      },
    });
  });
  after(() => api.stop());

  test('lists every input and collector with state, last run, last duration, last error, next run and host', async () => {
    const collectors = await waitFor(async () => {
      const { body } = await getJson<Collectors>(`${api.url}/v1/collectors`);
      const states = body.inputs[0]?.collectors ?? [];
      return states.length === 2 && states.every((state) => state.runs > 0) ? body : undefined;
    }, 'both collectors to have run');

    assert.equal(collectors.version, VERSION);
    assert.equal(collectors.executor, 'process');
    const [input] = collectors.inputs;
    assert.equal(input!.input, 'test');
    assert.equal(input!.state, 'running');
    const byId = Object.fromEntries(input!.collectors.map((state) => [state.collector, state]));
    const good = byId['good.Good']!;
    const bad = byId['bad.Bad']!;
    assert.equal(good.lastStatus, 'ok');
    assert.equal(good.lastError, undefined);
    assert.equal(bad.state, 'failing');
    assert.equal(bad.lastStatus, 'error');
    assert.match(bad.lastError!, /the database is down/);
    for (const state of [good, bad]) {
      assert.ok(Date.parse(state.lastRun!) <= Date.now(), 'lastRun is a past ISO time');
      assert.ok(Date.parse(state.nextRun!) > Date.parse(state.lastRun!), 'nextRun comes after lastRun');
      assert.equal(typeof state.lastDurationMs, 'number');
      assert.match(state.host!, /^pid \d+$/);
    }
    assert.deepEqual(
      collectors.outputs.map(({ id, bufferedPoints }) => ({ id, bufferedPoints })),
      [{ id: 'file[0]', bufferedPoints: 0 }],
    );
  });

  test('shows the errors external collectors reported with POST /v1/lasterror, the last one per input', async () => {
    const reports = () => metricValue(api.app.metrics, 'pythond_lasterror_reports_total', {});
    const reportedBefore = await reports();
    const report = (body: object) =>
      fetch(`${api.url}/v1/lasterror`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    assert.equal((await report({ input: 'redis', err_content: 'first' })).status, 200);
    assert.equal((await report({ input: 'mysql', err_content: 'access denied' })).status, 200);
    const answer = await report({ input: 'redis', source: 'us-east', err_content: 'cache avalanche' });
    assert.equal(answer.status, 200);
    assert.equal(await answer.text(), '');

    const { body } = await getJson<Collectors>(`${api.url}/v1/collectors`);
    assert.deepEqual(
      body.lastErrors.map(({ input, error, count }) => ({ input, error, count })),
      [
        { input: 'redis', error: 'cache avalanche', count: 2 },
        { input: 'mysql', error: 'access denied', count: 1 },
      ],
    );
    assert.equal(await reports(), reportedBefore + 3, 'each report counted');
  });

  test('shows what a collector passed to set_lasterror() under the runner', async () => {
    const reporter = await startApiApp({
      files: {
        'python.d/lasterror/failing.py': `
          from datakit_framework import DataKitFramework

          class Failing(DataKitFramework):
              interval = 1

              def run(self):
                  self.set_lasterror('postgres', 'too many connections')
        `,
      },
      dirs: ['lasterror'],
    });
    try {
      const body = await waitFor(async () => {
        const { body } = await getJson<Collectors>(`${reporter.url}/v1/collectors`);
        return body.lastErrors.length > 0 ? body : undefined;
      }, 'the collector to tick');
      assert.deepEqual(
        body.lastErrors.map(({ input, error }) => ({ input, error })),
        [{ input: 'postgres', error: 'too many connections' }],
      );
    } finally {
      await reporter.stop();
    }
  });

  test('POST /v1/lasterror refuses a body that is not JSON with input and err_content', async () => {
    for (const body of ['not json', '[]', '{"input":"redis"}', '{"input":"","err_content":"x"}', '{"input":"redis","err_content":5}']) {
      const response = await fetch(`${api.url}/v1/lasterror`, { method: 'POST', body });
      assert.equal(response.status, 400, body);
      assert.equal(((await response.json()) as { error_code: string }).error_code, 'datakit.invalidJSON', body);
    }
  });
});

describe('LastErrors', () => {
  test('keeps the last error of the 100 inputs that reported most recently, texts clipped', () => {
    const errors = new LastErrors();
    for (let i = 0; i < 150; i++) errors.record(`input-${i}`, `error ${i}`);
    errors.record('input-0', 'x'.repeat(5000));
    const list = errors.list();
    assert.equal(list.length, 100);
    assert.deepEqual(
      list.slice(0, 2).map((entry) => entry.input),
      ['input-0', 'input-149'],
    );
    assert.equal(list[0]!.error.length, 2001, '2000 characters and an ellipsis');
    assert.equal(list.at(-1)!.input, 'input-51');
  });
});
