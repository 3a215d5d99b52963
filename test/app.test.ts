import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor, within } from './helpers/fixtures.js';
import { metricValue, startInput } from './helpers/input-harness.js';

/**
 * Limits of the config as the App wires them for `pythond run`, with its
 * scheduler ticking real python3 hosts (the wiring is the same over every
 * runtime).
 */

/** Two collectors of one input whose ticks (1.5 s) outlast the spread of their first ticks (one 1 s interval): run at once, they overlap. */
const TWO_SLOW_COLLECTORS = `
  import time
  from datakit_framework import DataKitFramework

  def slow_tick(collector):
      began = time.monotonic()
      time.sleep(1.5)
      collector.feed_metric(measurement='span', tags={'collector': type(collector).__name__}, fields={'began': began, 'ended': time.monotonic()})

  class First(DataKitFramework):
      interval = 1

      def run(self):
          slow_tick(self)

  class Second(DataKitFramework):
      interval = 1

      def run(self):
          slow_tick(self)
`;

/** A collector whose tick says it started, then runs for an hour. */
const STUCK_COLLECTOR = `
  import time
  from datakit_framework import DataKitFramework

  class Stuck(DataKitFramework):
      interval = 1

      def run(self):
          self.feed_metric(measurement='stuck', fields={'v': 1})
          time.sleep(3600)
`;

describe('App', () => {
  it("runs an input's ticks one at a time when its concurrency is 1, under a runner limit of 8", async () => {
    const h = await startInput({
      executor: 'process',
      schedule: true,
      files: { 'slow.py': TWO_SLOW_COLLECTORS },
      inputToml: 'concurrency = 1\ntimeout = "30s"',
    });
    const spans = (collector: string) =>
      h.output.points.filter((p) => p.tags.collector === collector).map((p) => ({ began: p.fields.began as number, ended: p.fields.ended as number }));
    await waitFor(() => spans('First').length >= 1 && spans('Second').length >= 1, 'a finished tick of each collector');
    // Read on one monotonic clock by the host; a tick ends before the next one of the input is sent.
    for (const first of spans('First'))
      for (const second of spans('Second'))
        assert.ok(first.ended <= second.began || second.ended <= first.began, `ticks overlap: ${JSON.stringify({ first, second })}`);
  });

  it('stops once shutdown_timeout is over while a tick still runs, and counts that tick as killed by the shutdown', async () => {
    const h = await startInput({
      executor: 'process',
      schedule: true,
      files: { 'stuck.py': STUCK_COLLECTOR },
      runnerToml: 'shutdown_timeout = "1s"',
      inputToml: 'timeout = "1h"',
    });
    await waitFor(() => h.output.points.some((p) => p.measurement === 'stuck'), 'the tick to be in flight');
    await within(h.app.stop(), 60_000, 'stop() to give up on the tick in flight after shutdown_timeout (1 s)');
    await waitFor(
      () => metricValue(h.metrics, 'pythond_tick_failures_total', { collector: 'stuck.Stuck', reason: 'shutdown' }),
      'the tick counted as failed by the shutdown',
    );
  });
});
