import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { App } from '../../src/app.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { startHttpApi } from '../../src/http/server.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { PLUGINS } from '../../src/plugins.js';
import { IDLE_COLLECTOR, readPoints } from '../helpers/api-app.js';
import { tempTree, waitFor } from '../helpers/fixtures.js';
import { metricValue } from '../helpers/input-harness.js';
import { readFileSync } from 'node:fs';

const root = tempTree({ 'python.d/idle/idle.py': IDLE_COLLECTOR });
const config = (listen: string, url: string) =>
  parseConfig(
    `[runner]\nexecutor = "process"\nlisten = "${listen}"\n[[inputs.pythond]]\nname = "idle"\ndirs = ["idle"]\n[[outputs.file]]\npath = "points.jsonl"\n[[outputs.datakit]]\nurl = "${url}"\nflush_interval = "50ms"\n`,
    'pythond.toml',
    root,
    PLUGINS,
  );

describe('a datakit output aimed at the runner itself', () => {
  const refused: [listen: string, url: string][] = [
    ['127.0.0.1:9529', 'http://127.0.0.1:9529'],
    ['127.0.0.1:9529', 'http://localhost:9529/'],
    ['localhost:9529', 'http://127.0.0.1:9529'],
    ['[::1]:9529', 'http://localhost:9529'],
    ['0.0.0.0:9529', 'http://127.0.0.1:9529'],
    ['0.0.0.0:9529', `http://${os.hostname()}:9529`],
    ['[::]:9529', 'http://[::1]:9529'],
    ['127.0.0.1:80', 'http://127.0.0.1'],
  ];
  for (const [listen, url] of refused) {
    it(`is refused in the config: listen ${listen}, url ${url}`, () => {
      assert.throws(
        () => config(listen, url),
        (err) =>
          err instanceof ConfigError &&
          err.issues.length === 1 &&
          /^config pythond\.toml:\d+: outputs\.datakit\[0\]\.url is this runner's own HTTP API \(runner\.listen = .*\): every point would be sent back into it, forever; point it at a DataKit$/.test(
            err.issues[0]!,
          ),
      );
    });
  }

  it('is allowed when it reaches another server: another port, or a name the runner does not listen on', () => {
    assert.ok(config('127.0.0.1:9529', 'http://127.0.0.1:9530'));
    assert.ok(config('127.0.0.1:9529', 'http://192.0.2.10:9529'));
  });

  it('loses its way back at run time (through a proxy the config cannot see): the write API answers 508 and the output drops each batch, once', async () => {
    // A TCP proxy that a config cannot tell from a DataKit: it leads back to the runner's own API.
    let target = 0;
    const proxy = net.createServer((client) => {
      const upstream = net.connect(target, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyPort = (proxy.address() as net.AddressInfo).port;
    const c = config('127.0.0.1:0', `http://127.0.0.1:${proxyPort}`);
    const app = new App(c, { log: silentLogger });
    const api = await startHttpApi(app, { listen: c.runner.listen, maxBodySize: c.runner.max_body_size, log: silentLogger });
    target = Number(new URL(api.url).port);
    try {
      await app.start();
      const dropped = () => metricValue(app.metrics, 'pythond_output_points_total', { output: 'datakit[0]', status: 'dropped' });
      assert.equal((await fetch(`${api.url}/v1/write/metric`, { method: 'POST', body: 'looped v=1i' })).status, 200);
      await waitFor(async () => (await dropped()) === 1, 'the looped batch dropped');
      // The output sends in order: once a second write went round and was dropped, a loop of the first would have shown.
      assert.equal((await fetch(`${api.url}/v1/write/metric`, { method: 'POST', body: 'looped v=2i' })).status, 200);
      await waitFor(async () => (await dropped()) === 2, 'the second looped batch dropped');
      assert.equal(
        await metricValue(app.metrics, 'pythond_http_requests_total', { route: '/v1/write/:category', code: '508' }),
        2,
        'each batch came back once',
      );
      assert.equal(await metricValue(app.metrics, 'pythond_write_api_rejected_total', { reason: 'loop' }), 2, 'each refusal counted');
      assert.equal(await dropped(), 2);
      assert.deepEqual(
        readPoints(readFileSync(path.join(root, 'points.jsonl'), 'utf8')).map((point) => point.fields.v),
        [1, 2],
        'each point was written once',
      );
      const status = app.outputs.status().find((output) => output.id === 'datakit[0]')!;
      assert.match(status.lastError!, /answered 508 Loop Detected: .*pythond\.loopDetected/);
    } finally {
      await api.close();
      await app.stop();
      proxy.close();
    }
  });
});
