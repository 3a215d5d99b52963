import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApiApp, type ApiApp } from '../helpers/api-app.js';

describe('[runner] api_token', () => {
  let api: ApiApp;
  before(async () => {
    api = await startApiApp({ runner: 'api_token = "s3cret"' });
  });
  after(() => api.stop());

  const write = (headers: Record<string, string>) => fetch(`${api.url}/v1/write/metric`, { method: 'POST', body: 'auth v=1\n', headers });

  test('a write without a token is refused with 401 and a WWW-Authenticate challenge, and writes nothing', async () => {
    const response = await write({});
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="pythond"');
    assert.deepEqual(await response.json(), {
      error_code: 'pythond.unauthorized',
      message: 'this endpoint needs "Authorization: Bearer <token>" with the runner\'s api_token',
    });
    assert.deepEqual(api.points(), []);
  });

  test('a write with a wrong token, or the right one in another scheme, is refused with 401', async () => {
    for (const authorization of ['Bearer s3cre', 'Bearer s3cret2', 'Basic s3cret', 's3cret']) {
      const response = await write({ authorization });
      assert.equal(response.status, 401, authorization);
    }
  });

  test('a write with the token as a bearer token is accepted', async () => {
    const response = await write({ authorization: 'Bearer s3cret' });
    assert.equal(response.status, 200, await response.text());
    assert.deepEqual(
      api.points().map((point) => point.measurement),
      ['auth'],
    );
  });

  test('POST /v1/lasterror needs the token too', async () => {
    const body = JSON.stringify({ input: 'redis', err_content: 'down' });
    assert.equal((await fetch(`${api.url}/v1/lasterror`, { method: 'POST', body })).status, 401);
    assert.equal((await fetch(`${api.url}/v1/lasterror`, { method: 'POST', body, headers: { authorization: 'Bearer s3cret' } })).status, 200);
  });

  test('/metrics, /healthz, /v1/ping and /v1/collectors stay open without a token', async () => {
    for (const path of ['/metrics', '/healthz', '/v1/ping', '/v1/collectors']) {
      assert.equal((await fetch(`${api.url}${path}`)).status, 200, path);
    }
  });
});
