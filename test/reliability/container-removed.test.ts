import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { docker, requireDocker } from '../helpers/docker.js';
import { metricValue, startInput } from '../helpers/input-harness.js';

const STATEFUL = {
  'count.py': `
from datakit_framework import DataKitFramework

class Count(DataKitFramework):
    interval = 1

    def __init__(self):
        super().__init__()
        self.n = 0

    def run(self):
        self.n += 1
        self.feed_metric(measurement='count', fields={'n': self.n})
`,
};

describe('a warm container removed by someone else', () => {
  it('fails the tick that finds it gone, says so, and a new container serves the next tick', async (t) => {
    if (!(await requireDocker(t))) return;
    const h = await startInput({ executor: 'docker', files: STATEFUL, inputToml: 'network = "none"' });
    assert.equal((await h.tick('count.Count')).status, 'ok');
    const first = h.input.status().collectors[0]!.host!;

    await docker.getContainer(first).remove({ force: true });
    // The host may be noticed gone between ticks or by the tick itself: either way no tick hangs, and the next one runs in a new container.
    let outcome = await h.tick('count.Count');
    if (outcome.status !== 'ok') {
      assert.match(outcome.error!, /collector host|exited|lost/);
      outcome = await h.tick('count.Count');
    }
    assert.equal(outcome.status, 'ok', outcome.error);
    assert.notEqual(h.input.status().collectors[0]!.host, first, 'a new container');
    assert.deepEqual(
      h.output.points.map((p) => p.fields.n),
      [1, 1],
      'a new host: state starts over',
    );
    assert.equal(await metricValue(h.metrics, 'pythond_container_restarts_total', { input: 'test' }), 1);
    assert.equal(await metricValue(h.metrics, 'pythond_containers', { state: 'running' }), 1);
  });
});
