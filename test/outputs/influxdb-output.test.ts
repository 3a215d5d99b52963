import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { collectedPoints, seqRunnerTree, type CollectedPoint } from '../helpers/collectors.js';
import { waitFor } from '../helpers/fixtures.js';
import { InfluxDB } from '../helpers/metric-servers.js';
import { forwardTo, StubServer } from '../helpers/stub-http.js';
import { PLUGINS } from '../../src/plugins.js';

/** A real InfluxDB 1.x (Debian's influxd) on free loopback ports. */
const influx = await InfluxDB.start();
after(() => influx.close());

let databases = 0;
async function createDatabase(): Promise<string> {
  const db = `pythond_${++databases}`;
  await influx.query(`CREATE DATABASE ${db}`);
  return db;
}

const influxdbBlock = (db: string, extra = ''): string => `[[outputs.influxdb]]\nurl = "${influx.url}"\ndatabase = "${db}"\nflush_interval = "100ms"\n${extra}`;

const metricPoints = (file: string): CollectedPoint[] => collectedPoints(file).filter((point) => point.category === 'metric');

async function runApp(configFile: string): Promise<App> {
  const app = new App(loadConfig({ file: configFile }, PLUGINS), { log: silentLogger });
  await app.start();
  return app;
}

async function outputPoints(app: App, status: string): Promise<number> {
  const { values } = await app.metrics.outputPoints.get();
  return values.filter((value) => value.labels.output === 'influxdb[0]' && value.labels.status === status).reduce((sum, value) => sum + value.value, 0);
}

test('points from collectors reach InfluxDB with their values, tags and nanosecond times', async () => {
  const db = await createDatabase();
  const { configFile, pointsFile } = seqRunnerTree(influxdbBlock(db));
  const app = await runApp(configFile);
  await waitFor(() => metricPoints(pointsFile).length >= 5, 'five ticks');
  await app.stop();

  const rows = new Map((await influx.rows(db, 'pythond_seq')).map((row) => [row.time, row]));
  const collected = metricPoints(pointsFile);
  assert.equal(rows.size, collected.length);
  for (const point of collected) {
    assert.deepEqual(rows.get(point.time), { time: point.time, ...point.tags, ...point.fields });
  }
  const logs = await influx.rows(db, 'pythond_log');
  assert.deepEqual(
    logs.map((row) => row.message),
    collectedPoints(pointsFile)
      .filter((point) => point.category === 'logging')
      .map((point) => point.fields.message),
  );
  assert.equal(await outputPoints(app, 'dropped'), 0);
});

test('points wait in the buffer while the database does not exist, and arrive once it is created', async () => {
  const db = `pythond_later_${++databases}`;
  const { configFile, pointsFile } = seqRunnerTree(influxdbBlock(db));
  const app = await runApp(configFile);
  const status = () => app.outputs.status().find((output) => output.id === 'influxdb[0]')!;
  await waitFor(() => /answered 404 Not Found: .*database not found/.test(status().lastError ?? ''), 'a 404 for the missing database');
  assert.ok(status().bufferedPoints > 0);

  await influx.query(`CREATE DATABASE ${db}`);
  await waitFor(async () => (await influx.rows(db, 'pythond_seq')).length > 0, 'the first points after CREATE DATABASE', 40_000);
  await app.stop();
  assert.equal((await influx.rows(db, 'pythond_seq')).length, metricPoints(pointsFile).length);
  assert.equal(await outputPoints(app, 'dropped'), 0, 'a missing database drops nothing');
});

test('every point arrives once when InfluxDB is stopped during collection and started again', async () => {
  const db = await createDatabase();
  // InfluxDB keeps one point per series and time, so a point sent twice looks stored once: the proxy sees every write it accepted.
  const proxy = await StubServer.start();
  after(() => proxy.close());
  proxy.answer = forwardTo(influx.url);
  const { configFile, pointsFile } = seqRunnerTree(influxdbBlock(db).replace(influx.url, proxy.url));
  const app = await runApp(configFile);
  await waitFor(async () => (await influx.rows(db, 'pythond_seq')).length >= 3, 'points before the outage');

  await influx.stop();
  const beforeOutage = metricPoints(pointsFile).length;
  await waitFor(() => metricPoints(pointsFile).length >= beforeOutage + 15, 'collection going on during the outage');
  const status = app.outputs.status().find((output) => output.id === 'influxdb[0]')!;
  assert.match(status.lastError ?? '', /cannot reach|did not answer/);
  assert.ok(status.bufferedPoints >= 15, `points wait in the buffer (${status.bufferedPoints})`);

  await influx.start();
  await waitFor(async () => (await influx.rows(db, 'pythond_seq')).length >= beforeOutage + 15, 'the outage points delivered', 60_000);
  await app.stop();

  const stored = (await influx.rows(db, 'pythond_seq')).map((row) => row.time).sort();
  const collected = metricPoints(pointsFile)
    .map((point) => point.time)
    .sort();
  assert.deepEqual(stored, collected, 'every collected point stored');
  const accepted = proxy
    .accepted()
    .flatMap((request) => request.body.split('\n').filter((line) => line.startsWith('pythond_seq,')))
    .map((line) => line.slice(line.lastIndexOf(' ') + 1))
    .sort();
  assert.deepEqual(accepted, collected, 'every collected point accepted by InfluxDB once, none twice');
  assert.ok((await outputPoints(app, 'failed')) > 0, 'failed attempts were counted');
  assert.equal(await outputPoints(app, 'dropped'), 0);
});

test('username and password go as basic auth; wrong ones are retried, not dropped', async () => {
  const secured = await InfluxDB.start({ auth: { username: 'admin', password: 'secret' } });
  after(() => secured.close());
  await secured.query('CREATE DATABASE guarded');
  const block = (password: string) =>
    `[[outputs.influxdb]]\nurl = "${secured.url}"\ndatabase = "guarded"\nflush_interval = "100ms"\nusername = "admin"\npassword = "${password}"\n`;
  const { configFile, pointsFile } = seqRunnerTree(block('secret') + block('wrong'), { shutdownTimeout: '2s' });
  const app = await runApp(configFile);
  const wrong = () => app.outputs.status().find((output) => output.id === 'influxdb[1]')!;
  await waitFor(() => /answered 401/.test(wrong().lastError ?? ''), 'a 401 for the wrong password');
  await waitFor(() => metricPoints(pointsFile).length >= 3, 'three ticks');
  await app.stop();

  assert.equal((await secured.rows('guarded', 'pythond_seq')).length, metricPoints(pointsFile).length);
  assert.ok(wrong().bufferedPoints > 0, 'the wrong password leaves the points in the buffer');
});
