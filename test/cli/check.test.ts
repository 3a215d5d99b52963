import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pythond } from '../helpers/cli.js';
import { requireDocker } from '../helpers/docker.js';
import { tempTree } from '../helpers/fixtures.js';

interface JsonPoint {
  category: string;
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, unknown>;
  time: number;
}

const parse = (stdout: string): JsonPoint[] =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

/** The demo's points without what differs from run to run (time, the counter collector's process figures). */
const stable = (points: JsonPoint[]) =>
  points
    .filter((p) => p.measurement !== 'pythond_demo_process')
    .map(({ category, measurement, tags, fields }) => JSON.stringify({ category, measurement, tags, fields }))
    .sort();

describe('pythond check', () => {
  it('runs every demo collector once and prints its points as JSON Lines', async () => {
    const { code, stdout, stderr } = await pythond(['check', 'python.d/demo', '--executor', 'process']);
    assert.equal(code, 0, stderr);
    const points = parse(stdout);
    assert.deepEqual([...new Set(points.map((p) => p.category))].sort(), ['keyevent', 'metric']);
    for (const p of points) {
      assert.deepEqual(Object.keys(p), ['category', 'measurement', 'tags', 'fields', 'time']);
      assert.ok(Number.isInteger(p.time) && p.time > 1.6e18, 'time in ns');
    }
    assert.ok(points.some((p) => p.measurement === 'abc' && p.fields.f3 === 'strval'));
    for (const id of ['general.Demo', 'events.Demo', 'feeds.Demo', 'counter_rate.CounterRate']) assert.match(stderr, new RegExp(`${id}: ok`));
  });

  it('prints the same points with the docker executor as with the process executor', async (t) => {
    if (!(await requireDocker(t))) return;
    const viaProcess = await pythond(['check', 'python.d/demo', '--executor', 'process']);
    const viaDocker = await pythond(['check', 'python.d/demo', '--executor', 'docker']);
    assert.equal(viaDocker.code, 0, viaDocker.stderr);
    assert.match(viaDocker.stderr, /docker executor/);
    assert.deepEqual(stable(parse(viaDocker.stdout)), stable(parse(viaProcess.stdout)));
    assert.ok(stable(parse(viaDocker.stdout)).length >= 4);
  });

  it('runs only the collector named by --collector', async () => {
    const { code, stdout } = await pythond(['check', 'python.d/demo', '--executor', 'process', '--collector', 'general.Demo']);
    assert.equal(code, 0);
    assert.deepEqual(
      parse(stdout).map((p) => p.measurement),
      ['abc', 'def'],
    );
  });

  it('exits 1 and says why when a collector fails or a module does not load', async () => {
    const dir = path.join(
      tempTree({
        'mine/good.py': `
          from datakit_framework import DataKitFramework
          class Good(DataKitFramework):
              def run(self):
                  self.feed_metric(measurement='good', fields={'v': 1})
        `,
        'mine/bad.py': `
          from datakit_framework import DataKitFramework
          class Bad(DataKitFramework):
              def run(self):
                  self.feed_system_event(df_status='info', df_event_id='e')
        `,
        'mine/broken.py': 'def oops(:\n',
      }),
      'mine',
    );
    const { code, stdout, stderr } = await pythond(['check', dir, '--executor', 'process']);
    assert.equal(code, 1);
    assert.deepEqual(
      parse(stdout).map((p) => p.measurement),
      ['good'],
      'the good collector still reports',
    );
    assert.match(stderr, /bad\.Bad: error.*ValueError: arguments missing "df_title"/);
    assert.match(stderr, /cannot load .*broken\.py: SyntaxError/);
  });

  it('exits 1 with a clear message for a folder that does not exist', async () => {
    const { code, stderr } = await pythond(['check', 'python.d/nope', '--executor', 'process']);
    assert.equal(code, 1);
    assert.match(stderr, /folder .*python\.d\/nope does not exist/);
  });

  it('exits 2 with the usage for a wrong command line', async () => {
    const { code, stderr } = await pythond(['check']);
    assert.equal(code, 2);
    assert.match(stderr, /usage:/);
  });
});
