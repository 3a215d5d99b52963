import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requireDocker } from '../helpers/docker.js';
import { startInput } from '../helpers/input-harness.js';

/** Loading takes 2 s (a slow import); run() itself is quick. */
const SLOW_TO_LOAD = `
  import time

  from datakit_framework import DataKitFramework

  time.sleep(2)


  class SlowToLoad(DataKitFramework):
      interval = 60

      def run(self):
          self.feed_metric(measurement='loaded', fields={'ok': 1})
`;

for (const executor of ['process', 'docker'] as const) {
  describe(`a tick's timeout with the ${executor} executor`, () => {
    it('counts from when the host has the run: a fresh host that takes longer than the timeout to load does not fail the tick', async (t) => {
      if (executor === 'docker' && !(await requireDocker(t))) return;
      const h = await startInput({ executor, files: { 'slow.py': SLOW_TO_LOAD }, inputToml: 'mode = "fresh"\ntimeout = "1s"' });
      const outcome = await h.tick('slow.SlowToLoad');
      assert.equal(outcome.status, 'ok', outcome.error);
      assert.deepEqual(
        h.output.points.map((p) => p.measurement),
        ['loaded'],
      );
    });
  });
}
