import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApiApp, type ApiApp } from '../helpers/api-app.js';

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
