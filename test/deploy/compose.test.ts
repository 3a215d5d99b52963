import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { CollectorsReport, ReloadResult } from '../../src/http/api-types.js';
import { buildRunnerImage, docker, requireDocker } from '../helpers/docker.js';
import { exec } from '../helpers/exec.js';
import { dedent, freePort, REPO_ROOT, waitFor } from '../helpers/fixtures.js';
import { cannotRun } from '../helpers/required.js';

/** The machine's name the compose projects run under. */
const COMPOSE_HOST = 'compose-test-host';

const DEMO_COLLECTORS = ['counter_rate.CounterRate', 'events.Demo', 'feeds.Demo', 'general.Demo'];

/** docker-compose v1 (Debian's); skips without it, except where every test must run (CI). */
async function requireCompose(t: TestContext): Promise<boolean> {
  const found = await exec('docker-compose', ['version', '--short']).then(
    () => true,
    () => false,
  );
  if (found) return true;
  cannotRun(t, 'needs docker-compose (apt-get install docker-compose)');
  return false;
}

/**
 * `docker-compose up -d` of a copy of this repository's compose files, its
 * configs and the demo collectors (so that a test may edit them), plus
 * `extra` files written into it, as a project of its own, on free host
 * ports whatever a developer's shell or .env says; everything of it is
 * removed when the test ends.
 */
async function upProject(t: TestContext, options: { files: string[]; extra?: Record<string, string>; healthcheck?: boolean }) {
  const [port, prometheusPort, victoriaMetricsPort] = [await freePort(), await freePort(), await freePort()];
  const project = `pythondtest${randomBytes(4).toString('hex')}`;
  // Removed by this test's own cleanup, after `down`: tempTree's is a hook of the file that may run first, and `down` needs the compose files.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pythond-compose-'));
  for (const [name, content] of Object.entries(options.extra ?? {})) writeFileSync(path.join(dir, name), dedent(content));
  for (const copied of ['compose.yaml', 'compose.full.yaml', 'compose.cluster.yaml', 'docker/compose', 'python.d/demo'])
    cpSync(path.join(REPO_ROOT, copied), path.join(dir, copied), { recursive: true });
  const env = {
    ...process.env,
    PYTHOND_PORT: String(port),
    PROMETHEUS_PORT: String(prometheusPort),
    VICTORIA_METRICS_PORT: String(victoriaMetricsPort),
    COMPOSE_FILE: '',
    // As the docs start it (PYTHOND_HOSTNAME=$(hostname)): the points' host tag is this name, not the runner container's id.
    PYTHOND_HOSTNAME: COMPOSE_HOST,
  };
  const compose = (...args: string[]) =>
    exec('docker-compose', ['-p', project, ...options.files.flatMap((file) => ['-f', file]), ...args], { cwd: dir, env, timeoutMs: 120_000 });
  let instance: string | undefined;
  const collectorContainers = () => docker.listContainers({ all: true, filters: { label: ['io.pythond.managed=true', `io.pythond.instance=${instance}`] } });
  t.after(async () => {
    try {
      await compose('down', '-v', '--remove-orphans');
    } finally {
      if (instance)
        for (const c of await collectorContainers())
          await docker
            .getContainer(c.Id)
            .remove({ force: true })
            .catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  });

  await compose('up', '-d');
  const runner = docker.getContainer((await compose('ps', '-q', 'pythond')).stdout.trim());
  const logs = async () => (await compose('logs', '--no-color', '--tail=30', 'pythond')).stdout;
  // The healthcheck passes 10 s after start at the soonest: a test that does not check it waits for the API.
  const answering = async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok === true;
  const started = async () => (options.healthcheck === false ? answering() : (await runner.inspect()).State.Health?.Status === 'healthy');
  await waitFor(started, 'the healthcheck to pass', 90_000, 1000).catch(async (err) => {
    throw new Error(`${(err as Error).message}; health: ${JSON.stringify((await runner.inspect()).State.Health)}; logs:\n${await logs()}`);
  });
  instance = (await compose('exec', '-T', 'pythond', 'cat', '/var/lib/pythond/instance-id')).stdout.trim();
  return { dir, project, compose, runner, logs, collectorContainers, port, prometheusPort, victoriaMetricsPort };
}

/** The runner's /v1/collectors. */
async function collectors(port: number): Promise<CollectorsReport> {
  return (await (await fetch(`http://127.0.0.1:${port}/v1/collectors`)).json()) as CollectorsReport;
}

/** Waits for a reload after `since` (ISO time) that `did` what was asked; says what the last one did if none does. */
async function reloaded(port: number, since: string, what: string, did: (result: ReloadResult) => boolean): Promise<ReloadResult> {
  let last: ReloadResult | undefined;
  return waitFor(
    async () => {
      last = (await collectors(port)).runner.lastReload;
      return last && last.at > since && did(last) ? last : undefined;
    },
    what,
    30_000,
    250,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; the last reload: ${JSON.stringify(last)}`);
  });
}

/** An input of one demo script, to append to a config. */
const SECOND_INPUT = '\n[[inputs.pythond]]\nname = "second"\ndirs = ["demo/general.py"]\n';

/** `pythond_ticks_total{status="ok"}` per collector, from the runner's /metrics. */
async function okTicks(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const ticks = new Map<string, number>();
  for (const [, labels, value] of text.matchAll(/^pythond_ticks_total\{(.*)\} (\S+)$/gm)) {
    if (!/(^|,)status="ok"/.test(labels!)) continue;
    const collector = /collector="([^"]*)"/.exec(labels!)![1]!;
    ticks.set(collector, (ticks.get(collector) ?? 0) + Number(value));
  }
  return ticks;
}

/** The samples of a Prometheus-style instant query (Prometheus and VictoriaMetrics answer alike). */
async function query(port: number, promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const response = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(promql)}`).catch(() => undefined);
  if (!response?.ok) return [];
  return ((await response.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
}

describe('docker compose up (compose.yaml)', () => {
  it('runs the demo collectors in containers, serves /metrics, writes points to its volume, and leaves nothing behind after down -v', {
    timeout: 10 * 60_000,
  }, async (t) => {
    if (!(await requireDocker(t)) || !(await requireCompose(t))) return;
    await buildRunnerImage();
    const { dir, project, compose, runner, logs, collectorContainers, port } = await upProject(t, { files: ['compose.yaml'] });

    const first = (await waitFor(
      async () => {
        const ticks = await okTicks(port);
        return DEMO_COLLECTORS.every((c) => ticks.has(c)) ? ticks : undefined;
      },
      'an ok tick of every demo collector in /metrics',
      60_000,
      1000,
    ))!;
    await waitFor(
      async () => {
        const ticks = await okTicks(port);
        return DEMO_COLLECTORS.every((c) => ticks.get(c)! > first.get(c)!);
      },
      'every demo collector to tick ok again',
      60_000,
      1000,
    );

    // The status page ships in the image; each demo tick that went through was measured by its host in its container.
    for (const page of ['/', '/ui/status.js', '/ui/status.css']) assert.equal((await fetch(`http://127.0.0.1:${port}${page}`)).status, 200, page);
    const report = (await (await fetch(`http://127.0.0.1:${port}/v1/collectors`)).json()) as CollectorsReport;
    const measured = report.inputs[0]!.collectors.filter((c) => c.lastExit === 'ok');
    assert.ok(measured.length > 0);
    for (const c of measured)
      assert.ok(c.lastCpuMs !== undefined && c.lastPeakMemoryBytes! > 0, `${c.collector}: ${c.lastCpuMs} ms, ${c.lastPeakMemoryBytes} B`);

    // The entrypoint dropped root: user pythond, in the socket's group, no capabilities.
    const status = (await compose('exec', '-T', 'pythond', 'cat', '/proc/1/status')).stdout;
    assert.match(status, /^Uid:\s+10002\s+10002\s+10002\s+10002$/m);
    assert.match(status, new RegExp(`^Groups:\\s+${statSync('/var/run/docker.sock').gid}\\s*$`, 'm'));
    assert.match(status, /^CapEff:\s+0+$/m);

    const running = await collectorContainers();
    assert.equal(running.length, 1, 'one warm container for the demo input');
    assert.equal(running[0]!.Labels['io.pythond.input'], 'demo');

    // The config's folder is mounted: an input appended in place is picked up, and so is the file an editor replaced (as `sed -i` does).
    const configFile = path.join(dir, 'docker/compose/pythond.toml');
    const started = new Date().toISOString();
    appendFileSync(configFile, SECOND_INPUT);
    const appended = await reloaded(port, started, 'a reload adding the appended input', (result) => result.added.includes('second'));
    assert.equal(appended.trigger, 'docker/compose/pythond.toml changed');
    const replacedAt = new Date().toISOString();
    writeFileSync(path.join(dir, 'docker/compose/sedMs9lIJ'), readFileSync(configFile, 'utf8').replace('concurrency = 8', 'concurrency = 5'));
    renameSync(path.join(dir, 'docker/compose/sedMs9lIJ'), configFile);
    const replaced = await reloaded(port, replacedAt, 'a reload of the replaced config', (result) => result.runner.includes('concurrency'));
    assert.equal(replaced.trigger, 'docker/compose/pythond.toml changed', 'the temporary file is not named');
    assert.equal((await collectors(port)).runner.concurrency, 5);

    const points = (await compose('exec', '-T', 'pythond', 'cat', '/var/lib/pythond/points.jsonl')).stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { measurement: string });
    const measurements = new Set(points.map((p) => p.measurement));
    for (const m of ['abc', 'def', 'mydata', 'measurement']) assert.ok(measurements.has(m), `${m} in ${[...measurements].join(', ')}`);

    // SIGTERM reaches node (PID 1): it exits 0 by itself within the grace period (after it, compose stop kills: 137), and removes its collectors.
    await compose('stop');
    assert.equal((await runner.inspect()).State.ExitCode, 0, `runner exit code; logs:\n${await logs()}`);
    assert.deepEqual(await collectorContainers(), [], 'no collector container left after stop');

    await compose('down', '-v');
    const ofProject = { label: [`com.docker.compose.project=${project}`] };
    assert.deepEqual(await docker.listContainers({ all: true, filters: ofProject }), []);
    assert.deepEqual((await docker.listVolumes({ filters: ofProject })).Volumes ?? [], []);
  });

  it('with a config file mounted alone, as a compose file of your own may, reloads it when it is written in place', {
    timeout: 5 * 60_000,
  }, async (t) => {
    if (!(await requireDocker(t)) || !(await requireCompose(t))) return;
    await buildRunnerImage();
    const { dir, port } = await upProject(t, {
      files: ['compose.yaml', 'compose.single.yaml'],
      healthcheck: false,
      extra: {
        'compose.single.yaml': `
          services:
            pythond:
              environment:
                PYTHOND_CONFIG: /etc/pythond/single.toml
              volumes:
                - ./single.toml:/etc/pythond/single.toml:ro
        `,
        'single.toml': `
          [runner]
          python_d = "/etc/pythond/python.d"
          executor = "docker"
          listen = "0.0.0.0:9529"
          data_dir = "/var/lib/pythond"
          [[inputs.pythond]]
          name = "demo"
          dirs = ["demo/general.py"]
          [[outputs.file]]
          path = "/var/lib/pythond/points.jsonl"
        `,
      },
    });
    // Written in place, the file the container sees changes, though its folder there hears nothing: the watch on the file does.
    const started = new Date().toISOString();
    appendFileSync(path.join(dir, 'single.toml'), SECOND_INPUT);
    const appended = await reloaded(port, started, 'a reload adding the appended input', (result) => result.added.includes('second'));
    assert.equal(appended.trigger, 'single.toml changed');
  });

  it('with compose.full.yaml, Prometheus scrapes the runner and its points endpoint, and receives them by remote write, as VictoriaMetrics does as line protocol', {
    timeout: 15 * 60_000,
  }, async (t) => {
    if (!(await requireDocker(t)) || !(await requireCompose(t))) return;
    await buildRunnerImage();
    await exec('sh', ['docker/build-images.sh', 'prometheus', 'victoria-metrics'], { timeoutMs: 10 * 60_000 });
    const { project, compose, collectorContainers, prometheusPort, victoriaMetricsPort } = await upProject(t, { files: ['compose.yaml', 'compose.full.yaml'] });

    const [info] = (await waitFor(
      async () => {
        const result = await query(prometheusPort, 'pythond_build_info');
        return result.length > 0 ? result : undefined;
      },
      'pythond_build_info in Prometheus',
      60_000,
      1000,
    ))!;
    assert.equal(info!.metric.job, 'pythond');
    assert.equal(info!.metric.instance, 'pythond:9529');

    // general.Demo's mydata point, one series per field in VictoriaMetrics.
    const [field] = (await waitFor(
      async () => {
        const result = await query(victoriaMetricsPort, 'mydata_custom_field2');
        return result.length > 0 ? result : undefined;
      },
      'a demo point in VictoriaMetrics',
      60_000,
      1000,
    ))!;
    assert.deepEqual(field!.metric, { __name__: 'mydata_custom_field2', db: 'pythond', host: COMPOSE_HOST, tag1: 'val1', tag2: 'val2' });
    assert.equal(field!.value[1], '1000');

    // The same point in Prometheus, by remote write (no job) and scraped from the endpoint (job pythond-points).
    const inPrometheus = (await waitFor(
      async () => {
        const result = await query(prometheusPort, 'mydata_custom_field2');
        return result.length === 2 ? result : undefined;
      },
      'the demo point in Prometheus both ways',
      60_000,
      1000,
    ))!;
    assert.deepEqual(
      inPrometheus.map((series) => series.metric).sort((a, b) => (a.job ?? '').localeCompare(b.job ?? '')),
      [
        { __name__: 'mydata_custom_field2', host: COMPOSE_HOST, tag1: 'val1', tag2: 'val2' },
        { __name__: 'mydata_custom_field2', host: COMPOSE_HOST, tag1: 'val1', tag2: 'val2', job: 'pythond-points', instance: 'pythond:9273' },
      ],
    );
    assert.deepEqual(
      inPrometheus.map((series) => series.value[1]),
      ['1000', '1000'],
    );

    await compose('down', '-v');
    assert.deepEqual(await collectorContainers(), []);
    const ofProject = { label: [`com.docker.compose.project=${project}`] };
    assert.deepEqual(await docker.listContainers({ all: true, filters: ofProject }), []);
    assert.deepEqual((await docker.listVolumes({ filters: ofProject })).Volumes ?? [], []);
  });
});
