import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { DirectOutput } from '../../src/outputs/direct-output.js';
import type { Output } from '../../src/outputs/output.js';
import type { EncodedBatch } from '../../src/points/point.js';
import { createMetrics } from '../../src/telemetry/metrics.js';

const batch = (points: number): EncodedBatch => ({ category: 'metric', points, jsonl: Buffer.from('{}\n'.repeat(points)) });

/** A local output whose writes fail with the errors in `failures`, in turn, then go through. */
function failingOutput(failures: string[]): Output {
  return {
    encoding: 'jsonl',
    async write() {
      const error = failures.shift();
      if (error) throw new Error(error);
    },
  };
}

function startOutput(failures: string[]) {
  const metrics = createMetrics('test');
  const logged: { level: number; msg: string; err?: unknown }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const output = new DirectOutput('file[0]', failingOutput(failures), metrics, log);
  const counted = async (status: string): Promise<number> =>
    (await metrics.outputPoints.get()).values.find((value) => value.labels.status === status)?.value ?? 0;
  return { output, logged, counted };
}

test('a write that fails drops its points, counted, and says why; the next that goes through clears the failure', async () => {
  const { output, logged, counted } = startOutput(['ENOSPC: no space left on device']);
  assert.deepEqual(await output.write(batch(3)), { stored: false, error: 'ENOSPC: no space left on device' });
  assert.equal(await counted('dropped'), 3);
  assert.deepEqual(output.health(), { output: 'file[0]', ok: false, error: 'ENOSPC: no space left on device', retrying: false });
  assert.deepEqual(
    logged.map(({ msg }) => msg),
    ['output file[0] failed to write 3 points: ENOSPC: no space left on device'],
  );

  assert.deepEqual(await output.write(batch(2)), { stored: true });
  assert.equal(await counted('sent'), 2);
  assert.equal(logged.at(-1)!.msg, 'output file[0] is ok again after 1 failure(s)');
  assert.deepEqual(output.health(), { output: 'file[0]', ok: true });
  const status = output.status();
  assert.equal(status.lastError, 'ENOSPC: no space left on device', 'the last error stays in the status');
  assert.ok(status.lastErrorAt && status.lastSuccess && status.lastSuccess >= status.lastErrorAt);
  await output.close();
});

test('a write failure that repeats unchanged is logged in full once, not again within a minute; each is counted', async () => {
  const { output, logged, counted } = startOutput(['EIO: disk gone', 'EIO: disk gone', 'EIO: disk gone', 'EACCES: permission denied']);
  for (let i = 0; i < 4; i++) assert.equal((await output.write(batch(1))).stored, false);
  assert.equal(await counted('dropped'), 4);
  assert.deepEqual(
    logged.map(({ msg }) => msg),
    ['output file[0] failed to write 1 points: EIO: disk gone', 'output file[0] failed to write 1 points: EACCES: permission denied'],
  );
  await output.close();
});
