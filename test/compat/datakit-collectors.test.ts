import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { startInput } from '../helpers/input-harness.js';

/** The collectors test/python/test_datakit_compat.py runs side by side with DataKit's framework. */
const COMPAT_DIR = path.join(REPO_ROOT, 'test', 'python', 'compat_collectors');

test('the collectors compared byte for byte with DataKit run under the runner with every point accepted', async () => {
  const files = Object.fromEntries(
    readdirSync(COMPAT_DIR)
      .filter((name) => name.endsWith('.py'))
      .map((name) => [name, readFileSync(path.join(COMPAT_DIR, name), 'utf8')]),
  );
  const h = await startInput({ executor: 'process', files });
  assert.deepEqual(h.input.loadErrors, []);
  let points = 0;
  for (const collector of h.input.collectors) {
    const outcome = await h.tick(collector.id);
    assert.equal(outcome.status, 'ok', `${collector.id}: ${outcome.error}`);
    points += outcome.points;
  }
  // Standalone these collectors send 44 write requests of one point each, but one of two: 45 points.
  assert.equal(points, 45);
  assert.ok(
    // Only the global host tag, which every point of the input gets.
    h.output.points.some((p) => p.measurement === 'cpu' && Object.keys(p.tags).join() === 'host'),
    'a point sent with "tags": null',
  );
});
