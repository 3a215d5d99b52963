import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WriteRequest } from '../../src/points/pipeline.js';
import { DEFAULT_CONFIG_TOML } from '../../src/config/default-config.js';
import { EMBEDDED_SOURCE, parseConfig } from '../../src/config/load.js';
import { LastErrors } from '../../src/inputs/last-errors.js';
import { OutputSet } from '../../src/outputs/running-output.js';
import { PLUGINS } from '../../src/plugins.js';
import type { WriteApiResult } from '../../src/inputs/write-api-input.js';
import { MAX_WRITES_IN_FLIGHT } from '../../src/http/routes/write.js';
import { startHttpApi, type ApiBackend } from '../../src/http/server.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { REPO_ROOT, waitFor, within } from '../helpers/fixtures.js';

/** The app at its edge: writes wait until `release()`, as they would behind a slow output. */
function slowBackend(): { backend: ApiBackend; waiting: () => number; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let waiting = 0;
  const backend: ApiBackend = {
    metrics: createMetrics('test'),
    uptimeMs: 0,
    runtimeKind: 'process',
    loopToken: 'test',
    lastErrors: new LastErrors(),
    config: parseConfig(DEFAULT_CONFIG_TOML, EMBEDDED_SOURCE, REPO_ROOT, PLUGINS),
    state: 'running',
    inputs: [],
    concurrency: 8,
    reloads: { loadedAt: new Date(0), lastReload: undefined },
    outputs: new OutputSet([]),
    gitRepos: undefined,
    cluster: undefined,
    reload: () => Promise.reject(new Error('not in this test')),
    write: async (_request: WriteRequest): Promise<WriteApiResult> => {
      waiting++;
      await gate;
      return { batches: [], points: 1, invalid: 0, errors: [], unstored: [] };
    },
  };
  return { backend, waiting: () => waiting, release };
}

test(`a write past ${MAX_WRITES_IN_FLIGHT} in flight is answered 429 with Retry-After, and the ones in flight still complete`, async () => {
  const { backend, waiting, release } = slowBackend();
  const api = await startHttpApi(backend, { listen: '127.0.0.1:0', maxBodySize: 1024 * 1024, log: silentLogger });
  try {
    const write = () => fetch(`${api.url}/v1/write/metric`, { method: 'POST', body: 'm v=1\n' });
    const inFlight = Array.from({ length: MAX_WRITES_IN_FLIGHT }, write);
    await waitFor(() => waiting() >= MAX_WRITES_IN_FLIGHT, `${MAX_WRITES_IN_FLIGHT} writes to reach the app`, 20_000, 5);

    const refused = await within(write(), 20_000, 'the write past the limit to be answered');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(((await refused.json()) as { error_code: string }).error_code, 'datakit.reachMaxAPILimit');

    release();
    const answered = await within(Promise.all(inFlight), 20_000, 'the writes in flight to be answered once released');
    assert.deepEqual(new Set(answered.map((response) => response.status)), new Set([200]));
    assert.equal((await within(write(), 20_000, 'a write after those to be answered')).status, 200, 'room again once they finished');
  } finally {
    release();
    await api.close();
  }
});
