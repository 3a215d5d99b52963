import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { buildHttpApi, type ApiBackend } from '../../src/http/server.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { startApiApp, type ApiApp } from '../helpers/api-app.js';
import { metricValue } from '../helpers/input-harness.js';

describe('HTTP methods', () => {
  let api: ApiApp;
  before(async () => {
    api = await startApiApp({ start: false });
  });
  after(() => api.stop());

  for (const [method, path, allow] of [
    ['GET', '/v1/write/metric', 'POST'],
    ['DELETE', '/metrics', 'GET, HEAD'],
    ['POST', '/v1/collectors', 'GET, HEAD'],
    ['PUT', '/healthz', 'GET, HEAD'],
  ] as const) {
    it(`answers ${method} ${path} with 405 and Allow: ${allow}`, async () => {
      const response = await fetch(`${api.url}${path}`, { method });
      assert.equal(response.status, 405);
      assert.equal(response.headers.get('allow'), allow);
      assert.deepEqual(await response.json(), { error_code: 'pythond.methodNotAllowed', message: `${method} ${path}: this endpoint takes ${allow}` });
    });
  }

  it('still answers 404 for a path that does not exist', async () => {
    const response = await fetch(`${api.url}/v1/nothing`);
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { error_code: string }).error_code, 'pythond.notFound');
  });
});

describe('a request that fails inside pythond', () => {
  it('is answered 500 with the error, logged, and counted under its code', async () => {
    const logged: { level: number; msg: string; url: string }[] = [];
    const metrics = createMetrics('test');
    const failing = {
      metrics,
      uptimeMs: 0,
      get config(): never {
        throw new Error('the status broke');
      },
    } as unknown as ApiBackend;
    const server = buildHttpApi(failing, { maxBodySize: 1024, log: pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line)) }) });
    const response = await server.inject({ method: 'GET', url: '/v1/collectors' });
    assert.equal(response.statusCode, 500);
    assert.deepEqual(response.json(), { error_code: 'pythond.internalError', message: 'internal error: the status broke' });
    assert.deepEqual(
      logged.map(({ level, msg, url }) => ({ level, msg, url })),
      [{ level: 50, msg: 'HTTP API: GET /v1/collectors failed: the status broke', url: '/v1/collectors' }],
    );
    assert.equal(await metricValue(metrics, 'pythond_http_requests_total', { route: '/v1/collectors', code: '500' }), 1);
    await server.close();
  });
});
