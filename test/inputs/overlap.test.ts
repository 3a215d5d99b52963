import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../helpers/fixtures.js';
import { metricValue, startInput } from '../helpers/input-harness.js';
import { ManualClock } from '../helpers/manual-clock.js';

/** Each run takes 30 s; its interval is 1 s and its timeout 60 s, so only the overlap policy ends it early. */
const SLOW = `
  import time

  from datakit_framework import DataKitFramework


  class Slow(DataKitFramework):
      interval = 1

      def run(self):
          time.sleep(30)
`;

/** The slow collector on a manual clock (a real host, process executor), its first tick running. */
async function slowTickRunning(overlap: 'skip' | 'kill') {
  const clock = new ManualClock();
  const harness = await startInput({
    executor: 'process',
    files: { 'slow.py': SLOW },
    runnerToml: 'shutdown_timeout = "1s"',
    inputToml: `timeout = "60s"\noverlap = "${overlap}"`,
    clock,
  });
  const state = () => harness.input.status().collectors[0]!;
  await clock.advance(1000);
  await waitFor(() => state().state === 'running', 'the first tick to start');
  const count = (name: string, labels: Record<string, string>) => metricValue(harness.metrics, name, { collector: 'slow.Slow', ...labels });
  return { clock, harness, state, count };
}

describe('a tick still running when the next one is due', () => {
  it('overlap = "skip" (the default): the due tick is skipped and counted, the running one goes on', async () => {
    const { clock, state, count } = await slowTickRunning('skip');
    const host = state().host;
    await clock.advance(1000);
    await waitFor(async () => (await count('pythond_ticks_skipped_total', { reason: 'overlap' })) === 1, 'the due tick to be skipped as overlap');
    assert.deepEqual({ state: state().state, runs: state().runs, host: state().host }, { state: 'running', runs: 0, host });
  });

  it('overlap = "kill": the running tick is stopped and counted (exit killed, reason overlap), then the due tick runs', async () => {
    const { clock, state, count } = await slowTickRunning('kill');
    await clock.advance(1000);
    await waitFor(() => state().runs === 1, 'the running tick to be stopped');
    assert.equal(state().lastExit, 'killed');
    assert.match(state().lastError!, /still running when its next tick was due \(overlap = "kill"\)/);
    assert.equal(await count('pythond_tick_failures_total', { reason: 'overlap' }), 1);
    assert.equal(await count('pythond_collector_tick_exits_total', { exit: 'killed' }), 1);
    await waitFor(() => state().state === 'running', 'the due tick to run');
    assert.equal(await count('pythond_ticks_skipped_total', { reason: 'overlap' }), 0, 'not skipped');
  });
});
