import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { collectedPoints, seqRunnerTree } from '../helpers/collectors.js';
import { waitFor } from '../helpers/fixtures.js';
import { StubServer } from '../helpers/stub-http.js';
import { PLUGINS } from '../../src/plugins.js';

// No DataKit here: a stub records what a DataKit would receive.
const datakit = await StubServer.start();
after(() => datakit.close());

test('the datakit output posts each category to /v1/write/<category> in line protocol with precision=n', async () => {
  const { configFile, pointsFile } = seqRunnerTree(`[[outputs.datakit]]\nurl = "${datakit.url}"\nflush_interval = "100ms"`, { objects: true });
  const app = new App(loadConfig({ file: configFile }, PLUGINS), { log: silentLogger });
  await app.start();
  await waitFor(() => datakit.requests.length >= 3, 'requests for three categories');
  await app.stop();

  const byPath = new Map<string, string[]>();
  for (const request of datakit.accepted()) {
    assert.equal(request.method, 'POST');
    assert.equal(request.query.get('precision'), 'n');
    assert.match(String(request.headers['content-type']), /^text\/plain/);
    byPath.set(request.path, [...(byPath.get(request.path) ?? []), ...request.body.split('\n').filter(Boolean)]);
  }
  assert.deepEqual([...byPath.keys()].sort(), ['/v1/write/logging', '/v1/write/metric', '/v1/write/object']);

  const collected = collectedPoints(pointsFile);
  for (const [category, measurement] of [
    ['metric', 'pythond_seq'],
    ['logging', 'pythond_log'],
    ['object', 'pythond_host'],
  ]) {
    const expected = collected.filter((point) => point.category === category).map((point) => point.time);
    const received = byPath.get(`/v1/write/${category}`)!.map((line) => {
      assert.ok(line.startsWith(`${measurement},`), line);
      return line.slice(line.lastIndexOf(' ') + 1);
    });
    assert.deepEqual(received, expected, `every ${category} point once, in order`);
  }
});
