import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { trialDataDir } from '../../src/cli/trial-config.js';
import { exitOf } from '../helpers/child-exit.js';
import { MAIN, pythond, startRunner } from '../helpers/cli.js';
import { docker, requireDocker } from '../helpers/docker.js';
import { dedent, tempTree, waitFor } from '../helpers/fixtures.js';

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
    assert.match(viaDocker.stderr, /\(docker executor, fresh mode, image pythond-python:3\)/);
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
    assert.match(stderr, /cannot load .*mine\/broken\.py:1: SyntaxError: invalid syntax/);
  });

  it('says what is wrong with a folder that does not exist, in one line about the folder', async () => {
    const { code, stderr } = await pythond(['check', 'python.d/nope', '--executor', 'process']);
    assert.equal(code, 1);
    assert.equal(stderr, 'pythond check: folder python.d/nope does not exist\n');
  });

  it('says what is wrong with a folder without collector scripts, in one line about the folder', async () => {
    const dir = path.join(tempTree({ 'notes/README': 'no scripts\n' }), 'notes');
    const { code, stderr } = await pythond(['check', dir, '--executor', 'process']);
    assert.equal(code, 1);
    assert.equal(stderr, `pythond check: folder ${dir} has no collector scripts (*.py, not __init__.py) in it or its subfolders\n`);
  });

  it('reports an invalid collector interval with its value and what runs instead', async () => {
    const dir = path.join(
      tempTree({
        'intervals/intervals.py': `
          from datakit_framework import DataKitFramework
          class Negative(DataKitFramework):
              interval = -5
              def run(self):
                  pass
          class Text(DataKitFramework):
              interval = '10s'
              def run(self):
                  pass
        `,
      }),
      'intervals',
    );
    const { code, stderr } = await pythond(['check', dir, '--executor', 'process']);
    assert.equal(code, 0, stderr);
    assert.match(
      stderr,
      /intervals\.py: collector intervals\.Negative has interval = -5, which is not a number of seconds > 0; it runs every 10 s instead \(DataKit's default\)\n/,
    );
    assert.match(stderr, /collector intervals\.Text has interval = '10s', which is not a number of seconds > 0; it runs every 10 s instead/);
  });
});

/** A folder of collectors that each report `points` points, one feed_metric() at a time (each its own message to the runner). */
function manyPoints(points: number, collectors = 1): string {
  const classes = Array.from(
    { length: collectors },
    (_, i) => `
      class Many${i}(DataKitFramework):
          def run(self):
              for i in range(${points}):
                  self.feed_metric(measurement='many', tags={'i': str(i)}, fields={'v': i})
    `,
  );
  return path.join(tempTree({ 'many/many.py': `from datakit_framework import DataKitFramework\n${classes.map((c) => dedent(c)).join('\n')}` }), 'many');
}

describe('pythond check with many points or a closed standard output', () => {
  it('passes a collector reporting thousands of points in a fresh container: its last messages are read before its exit counts', async (t) => {
    if (!(await requireDocker(t))) return;
    const { code, stdout, stderr } = await pythond(['check', manyPoints(3000), '--executor', 'docker']);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /many\.Many0: ok, 3000 point\(s\)/);
    assert.equal(parse(stdout).length, 3000);
  });

  it('stops when the reader of its standard output goes away (| head): one line, no stack trace, no container left', async (t) => {
    if (!(await requireDocker(t))) return;
    const dir = manyPoints(2000, 3);
    const child = spawn(process.execPath, [MAIN, 'check', dir, '--executor', 'docker'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // As `head -1` does: read a little, then close the pipe.
    child.stdout.once('data', () => child.stdout.destroy());
    const { code } = await exitOf(child, 'the check to end', { log: () => stderr });
    assert.equal(code, 0, stderr);
    assert.match(stderr, /standard output was closed by its reader: [12] collector\(s\) not run\n/);
    assert.match(stderr, /output stdout failed to write \d+ points: standard output was closed by its reader \(EPIPE\)\n/);
    assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
    const instance = readFileSync(path.join(trialDataDir(`folder ${dir}`), 'instance-id'), 'utf8').trim();
    assert.deepEqual(await docker.listContainers({ all: true, filters: { label: [`io.pythond.instance=${instance}`] } }), [], 'no container left');
  });

  it('stops as cleanly when one reader takes stdout and stderr and goes away (2>&1 | head -1)', async (t) => {
    if (!(await requireDocker(t))) return;
    const dir = manyPoints(2000, 3);
    const child = spawn('bash', ['-c', `"${process.execPath}" "${MAIN}" check "${dir}" --executor docker 2>&1 | head -1 >/dev/null; exit \${PIPESTATUS[0]}`], {
      stdio: 'ignore',
    });
    const { code } = await exitOf(child, 'the check to end');
    assert.equal(code, 0, 'the check exits 0: its stderr going away is no error of the collectors');
    const instance = readFileSync(path.join(trialDataDir(`folder ${dir}`), 'instance-id'), 'utf8').trim();
    assert.deepEqual(await docker.listContainers({ all: true, filters: { label: [`io.pythond.instance=${instance}`] } }), [], 'no container left');
  });
});

/** A python.d with one input's collector that reports what it sees of its environment, and a config for it. */
function configuredInput(executor: string, inputKeys = ''): string {
  const root = tempTree({
    'python.d/env/env.py': `
      import os
      from datakit_framework import DataKitFramework

      class Env(DataKitFramework):
          interval = 3600

          def run(self):
              self.feed_metric(measurement='env', fields={'greeting': os.environ.get('GREETING', ''), 'uid': os.getuid()})
    `,
    'python.d/env/boom.py': `
      from datakit_framework import DataKitFramework

      class Boom(DataKitFramework):
          def run(self):
              raise ValueError('boom')
    `,
    'pythond.toml': `
      [runner]
      executor = "${executor}"
      listen = "127.0.0.1:0"

      [[inputs.pythond]]
      name = "other"
      dirs = ["env"]

      [[inputs.pythond]]
      name = "env"
      dirs = ["env"]
      envs = ["GREETING=hello"]
      tags = { env = "test" }
      ${inputKeys}

      [[outputs.file]]
      path = "data/points.jsonl"
    `,
  });
  return path.join(root, 'pythond.toml');
}

describe('pythond check --input', () => {
  it("runs one input of the config with its envs and tags, and only its collector's points go to stdout", async () => {
    const config = configuredInput('process');
    const { code, stdout, stderr } = await pythond(['check', '--config', config, '--input', 'env', '--collector', 'env.Env'], {
      env: { PYTHOND_HOSTNAME: 'web01' },
    });
    assert.equal(code, 0, stderr);
    const [point, ...more] = parse(stdout);
    assert.deepEqual(more, []);
    // The input's tags, then the global host tag, as `run` adds them.
    assert.deepEqual({ tags: point!.tags, greeting: point!.fields.greeting }, { tags: { env: 'test', host: 'web01' }, greeting: 'hello' });
    assert.match(stderr, /^input env of .*pythond\.toml: 2 collector\(s\) loaded in \d+\.\d ms \(process executor, warm mode\)$/m);
    assert.match(stderr, /^env\.Env: ok, 1 point\(s\) in \d+\.\d ms \(run\(\) \d+\.\d ms\)$/m);
    assert.equal(existsSync(path.join(path.dirname(config), 'data')), false, "the config's outputs and data_dir are left alone");
  });

  it('exits 1 with the error and its traceback when a collector of the input fails', async () => {
    const config = configuredInput('process');
    const { code, stderr } = await pythond(['check', '--config', config, '--input', 'env']);
    assert.equal(code, 1);
    assert.match(stderr, /^boom\.Boom: error \(exception\) in \d+\.\d ms \(run\(\) \d+\.\d ms\): ValueError: boom$/m);
    assert.match(stderr, /File ".*python\.d\/env\/boom\.py", line 5, in run/);
  });

  it("runs the input in its container, with the input's limits and network, tracebacks naming the user's files, beside a runner of the same config", async (t) => {
    if (!(await requireDocker(t))) return;
    const config = configuredInput('docker', 'network = "none"\nmemory = "64m"\nmode = "warm"');
    // A runner of the same config, already running its containers: check must leave them alone.
    const runner = startRunner(['--config', config, '--log-format', 'pretty']);
    try {
      const url = await waitFor(() => /HTTP API listening on (http:\/\/\S+)/.exec(runner.log())?.[1], 'the runner to listen');
      const hostOf = async () => {
        const report = (await (await fetch(`${url}/v1/collectors`)).json()) as { inputs: { input: string; collectors: { host?: string }[] }[] };
        return report.inputs.find((i) => i.input === 'env')?.collectors[0]?.host;
      };
      const host = await waitFor(hostOf, "the runner's container for input env");

      const { code, stdout, stderr } = await pythond(['check', '--config', config, '--input', 'env'], { env: { PYTHOND_HOSTNAME: 'web01' } });
      assert.equal(code, 1, 'boom.Boom fails');
      const point = parse(stdout).find((p) => p.measurement === 'env')!;
      assert.deepEqual(
        { greeting: point.fields.greeting, uid: point.fields.uid, tags: point.tags },
        { greeting: 'hello', uid: 10001, tags: { env: 'test', host: 'web01' } },
      );
      assert.match(stderr, /\(docker executor, warm mode, image pythond-python:3\)/);
      assert.match(stderr, new RegExp(`File "${path.dirname(config)}/python\\.d/env/boom\\.py", line 5, in run`));
      assert.doesNotMatch(stderr, /\/tmp\/pythond\//, 'no path of the container');

      assert.equal(await hostOf(), host, "the runner's container is still the same");
      assert.doesNotMatch(runner.log(), /collector host gone|removed container/);
    } finally {
      await runner.stop();
    }
  });
});
