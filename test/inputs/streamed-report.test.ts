import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requireDocker } from '../helpers/docker.js';
import { startInput } from '../helpers/input-harness.js';

const POINTS = 300_000;

/** Yields its points: never more than one chunk of them exists at a time. */
const STREAMING = {
  'many.py': `
from datakit_framework import DataKitFramework

class Many(DataKitFramework):
    interval = 60

    def run(self):
        self.report({'M': ({'measurement': 'many', 'fields': {'i': i}} for i in range(${POINTS}))})
`,
};

describe('a report given as a generator', () => {
  it(`sends ${POINTS} points from a 64 MiB container, where the list of them alone would not fit`, async (t) => {
    if (!(await requireDocker(t))) return;
    const h = await startInput({ executor: 'docker', files: STREAMING, inputToml: 'memory = "64m"\ntimeout = "120s"\nnetwork = "none"' });
    const outcome = await h.tick('many.Many');
    assert.equal(outcome.status, 'ok', outcome.error);
    assert.equal(outcome.points, POINTS);
    assert.equal(h.output.points.length, POINTS);
  });
});
