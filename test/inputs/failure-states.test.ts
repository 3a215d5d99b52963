import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { CollectorState } from '../../src/inputs/collector-record.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { PLUGINS } from '../../src/plugins.js';
import { dedent, tempTree, waitFor } from '../helpers/fixtures.js';
import { metricValue, startInput, type InputHarness } from '../helpers/input-harness.js';
import { ManualClock } from '../helpers/manual-clock.js';

/** Fails while the file FAIL_FLAG names exists. */
const FLAKY = `
  import os

  from datakit_framework import DataKitFramework


  class Flaky(DataKitFramework):
      interval = 1

      def run(self):
          if os.path.exists(os.environ['FAIL_FLAG']):
              raise RuntimeError('told to fail')
`;

/** One second-interval collector on a manual clock (real hosts, process executor): quarantined after 3 failures, tried every 10 s then. */
async function flakyOnAManualClock() {
  const flag = path.join(tempTree(), 'fail');
  writeFileSync(flag, '');
  const clock = new ManualClock();
  const harness = await startInput({
    executor: 'process',
    files: { 'flaky.py': FLAKY },
    runnerToml: 'quarantine_after = 3\nquarantine_interval = "10s"',
    inputToml: `envs = ["FAIL_FLAG=${flag}"]`,
    clock,
  });
  let seconds = 0;
  /** Moves the clock one interval (exactly one due time passes) and waits until that tick has run or been skipped. */
  const second = async (): Promise<void> => {
    seconds++;
    await clock.advance(1000);
    await waitFor(async () => (await handled(harness)) === seconds, `tick ${seconds} to run or be skipped`);
  };
  return { harness, flag, second };
}

const state = (harness: InputHarness): CollectorState => harness.input.status().collectors[0]!;
const labels = { input: 'test', collector: 'flaky.Flaky' };
const skipped = (harness: InputHarness, reason: string) => metricValue(harness.metrics, 'pythond_ticks_skipped_total', { ...labels, reason });
const handled = async (harness: InputHarness) =>
  state(harness).runs + (await skipped(harness, 'backoff')) + (await skipped(harness, 'quarantined')) + (await skipped(harness, 'overlap'));
const stateGauge = async (harness: InputHarness) => {
  const values = await Promise.all(
    (['healthy', 'backing_off', 'quarantined'] as const).map(async (s) => [
      s,
      await metricValue(harness.metrics, 'pythond_collector_state', { ...labels, state: s }),
    ]),
  );
  return values.filter(([, value]) => value === 1).map(([s]) => s);
};

describe('failure states of a collector, on a manual clock', () => {
  it('backs off (interval × 2^(n−1)), is quarantined after quarantine_after failures, tried every quarantine_interval, and healthy again on a success', async () => {
    const { harness, flag, second } = await flakyOnAManualClock();
    assert.deepEqual(await stateGauge(harness), ['healthy'], 'healthy before its first tick');

    // A tick every second: the pattern of runs (R) and skips (-) while it fails.
    const pattern: string[] = [];
    const step = async (): Promise<void> => {
      const runs = state(harness).runs;
      await second();
      pattern.push(state(harness).runs > runs ? 'R' : '-');
    };
    await step(); // failure 1: the next tick is tried
    assert.equal(state(harness).health, 'backing_off');
    assert.deepEqual(await stateGauge(harness), ['backing_off']);
    await step(); // failure 2: one tick skipped
    await step();
    await step(); // failure 3: quarantined, 10 s
    assert.equal(state(harness).health, 'quarantined');
    assert.equal(state(harness).consecutiveFailures, 3);
    assert.ok(state(harness).retryAt, 'says when it is tried next');
    assert.deepEqual(await stateGauge(harness), ['quarantined']);
    for (let i = 0; i < 10; i++) await step(); // 9 skipped, then tried (and fails again)
    assert.equal(pattern.join(''), 'RR-R---------R');
    assert.equal(state(harness).health, 'quarantined');
    assert.equal(await skipped(harness, 'backoff'), 1);
    assert.equal(await skipped(harness, 'quarantined'), 9);
    assert.equal(await metricValue(harness.metrics, 'pythond_collector_last_success_timestamp_seconds', labels), 0, 'never succeeded');
    assert.equal(state(harness).lastExit, 'error');
    assert.match(state(harness).lastTraceback!, /RuntimeError: told to fail/);

    rmSync(flag);
    for (let i = 0; i < 10; i++) await step(); // still quarantined until its next try, which succeeds
    assert.equal(pattern.slice(14).join(''), '---------R');
    assert.deepEqual(
      { health: state(harness).health, consecutiveFailures: state(harness).consecutiveFailures, retryAt: state(harness).retryAt },
      { health: 'healthy', consecutiveFailures: 0, retryAt: undefined },
    );
    assert.deepEqual(await stateGauge(harness), ['healthy']);
    assert.ok(state(harness).lastSuccess);
    assert.ok((await metricValue(harness.metrics, 'pythond_collector_last_success_timestamp_seconds', labels)) > Date.now() / 1000 - 60);
    await step();
    assert.equal(pattern.slice(24).join(''), 'R', 'healthy: every tick runs');
    assert.equal(state(harness).recentTicks.length, state(harness).runs);
    assert.deepEqual(
      state(harness).recentTicks.map((tick) => tick.exit),
      ['error', 'error', 'error', 'error', 'ok', 'ok'],
    );
  });

  it('shows a reloaded version at once: a mended collector healthy, a removed one gone from pythond_collector_state', async () => {
    const root = tempTree({
      'python.d/c/flaky.py': FLAKY,
      'python.d/c/other.py': FLAKY.replace('class Flaky', 'class Other'),
      'pythond.toml': `
        [runner]
        executor = "process"
        workers = 1
        quarantine_after = 1
        [[inputs.pythond]]
        name = "test"
        dirs = ["c"]
        envs = ["FAIL_FLAG=${path.join(tempTree({ fail: '' }), 'fail')}"]
        [[outputs.stdout]]
      `,
    });
    const file = path.join(root, 'pythond.toml');
    const clock = new ManualClock();
    const app = new App(loadConfig({ file }, PLUGINS), { log: silentLogger, clock, source: { load: (checkouts) => loadConfig({ file }, PLUGINS, checkouts) } });
    after(() => app.stop());
    await app.start();
    const gauge = (collector: string, state: string) => metricValue(app.metrics, 'pythond_collector_state', { input: 'test', collector, state });
    await clock.advance(1000);
    await waitFor(async () => (await gauge('flaky.Flaky', 'quarantined')) === 1 && (await gauge('other.Other', 'quarantined')) === 1, 'both quarantined');

    // Flaky mended (it no longer reads the flag), Other gone: the input restarts with the new code.
    writeFileSync(path.join(root, 'python.d/c/flaky.py'), dedent(FLAKY).replace("if os.path.exists(os.environ['FAIL_FLAG'])", 'if False'));
    rmSync(path.join(root, 'python.d/c/other.py'));
    const reload = await app.reload('test');
    assert.deepEqual(reload.restarted, ['test'], reload.error ?? JSON.stringify(reload.failed));
    assert.deepEqual([await gauge('flaky.Flaky', 'healthy'), await gauge('flaky.Flaky', 'quarantined')], [1, 0], 'healthy before its first tick');
    const families = await app.metrics.collectorState.get();
    assert.deepEqual(
      families.values.filter((value) => value.labels.collector === 'other.Other'),
      [],
    );
  });
});
