import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pythond, startRunner } from '../helpers/cli.js';
import { freePort, REPO_ROOT, tempTree, waitFor } from '../helpers/fixtures.js';

const lines = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];

/** A collector whose every tick reports `started`, runs 2 s, then reports `finished`. */
const SLOW = `
  import time
  from datakit_framework import DataKitFramework

  class Slow(DataKitFramework):
      interval = 1

      def run(self):
          self.feed_metric(measurement='started', fields={'v': 1})
          time.sleep(2)
          self.feed_metric(measurement='finished', fields={'v': 1})
`;

/** A folder whose pythond.toml runs SLOW as input `name` (process executor) into out/points.jsonl, and into `moreOutputs` (TOML). */
const slowRunner = (name: string, moreOutputs = ''): string =>
  tempTree({
    'python.d/c/slow.py': SLOW,
    'pythond.toml': `
      [runner]
      executor = "process"
      listen = "127.0.0.1:0"
      [[inputs.pythond]]
      name = "${name}"
      dirs = ["c"]
      timeout = "10s"
      [[outputs.file]]
      path = "out/points.jsonl"
      ${moreOutputs}
    `,
  });

describe('pythond run', () => {
  it('finishes the tick in flight on SIGTERM, flushes its points and exits 0', async () => {
    const root = slowRunner('slow');
    const file = path.join(root, 'out/points.jsonl');
    const { log, stop } = startRunner(['--config', path.join(root, 'pythond.toml')]);
    await waitFor(() => lines(file).some((p) => p.measurement === 'started'), 'a tick to start');
    const { code } = await stop();
    assert.equal(code, 0, log());
    assert.deepEqual(
      lines(file)
        .map((p) => p.measurement)
        .slice(0, 2),
      ['started', 'finished'],
      'the tick in flight finished and its points were written',
    );
    assert.match(log(), /SIGTERM received/);
  });

  it('says on SIGINT what stopping waits for (the ticks in flight, then the points an unreachable output holds) and that a second Ctrl-C exits now', async (t) => {
    const port = await freePort(); // nothing listens there
    const root = slowRunner(
      'c',
      `
        [[outputs.influxdb]]
        url = "http://127.0.0.1:${port}"
        database = "db"
        flush_interval = "50ms"
    `,
    );
    const { child, log, exited } = startRunner(['--config', path.join(root, 'pythond.toml')]);
    t.after(() => child.kill('SIGKILL')); // were an assertion to fail before the second Ctrl-C
    // The first tick's points: the file has them, the unreachable output holds them in its buffer.
    await waitFor(() => /input c is delivering points/.test(log()), 'the first tick to end');
    assert.match(
      log(),
      new RegExp(
        `input c is delivering points: the first 2, from slow\\.Slow, went to file\\[0\\] and wait in the disk buffer of influxdb\\[0\\] \\(it cannot send them yet: cannot reach http://127\\.0\\.0\\.1:${port}/write`,
      ),
    );
    // The second tick under way (its start written): SIGINT during it.
    await waitFor(() => lines(path.join(root, 'out/points.jsonl')).length >= 3, 'the second tick to start');
    child.kill('SIGINT');
    await waitFor(() => /waiting for 1 tick\(s\) in flight/.test(log()), 'the ticks it waits for');
    assert.match(log(), /SIGINT received: stopping, within 30 s \(shutdown_timeout\); press Ctrl-C again to exit now without waiting/);
    assert.match(log(), /waiting for 1 tick\(s\) in flight to finish, at most 30 s: c\/slow\.Slow/);
    await waitFor(() => /sending what the outputs still hold/.test(log()), 'the outputs it waits for');
    assert.match(
      log(),
      new RegExp(
        `sending what the outputs still hold, at most 2\\d(\\.\\d)? s: influxdb\\[0\\] \\d+ point\\(s\\) \\(it cannot send now: cannot reach http://127\\.0\\.0\\.1:${port}/write.*ECONNREFUSED.*\\); what is not sent stays in their buffers for the next start`,
      ),
    );
    child.kill('SIGINT');
    const { code } = await exited('the second Ctrl-C to end it at once', 10_000);
    assert.equal(code, 1);
    assert.match(log(), /second signal: exiting without waiting/);
  });

  it('stops at once when there is nothing in flight', async () => {
    const root = tempTree({
      'python.d/c/idle.py': `
        from datakit_framework import DataKitFramework

        class Idle(DataKitFramework):
            interval = 3600

            def run(self):
                pass
      `,
    });
    const config = path.join(root, 'pythond.toml');
    // Were it to wait for anything, it would wait for an hour.
    writeFileSync(
      config,
      '[runner]\nexecutor = "process"\nlisten = "127.0.0.1:0"\nshutdown_timeout = "1h"\n[[inputs.pythond]]\nname = "idle"\ndirs = ["c"]\n[[outputs.stdout]]\n',
    );
    const { child, log, exited } = startRunner(['--config', config]);
    await waitFor(() => /running 1 input/.test(log()), 'the runner to start');
    child.kill('SIGINT');
    const { code } = await exited('the runner to exit on SIGINT');
    assert.equal(code, 0);
  });

  it('stops cleanly on a SIGTERM that comes while collectors are still starting', async () => {
    const root = tempTree({
      'python.d/c/slow_import.py': `
        import time
        from datakit_framework import DataKitFramework

        time.sleep(2)  # the host says hello only after this

        class SlowImport(DataKitFramework):
            interval = 3600

            def run(self):
                pass
      `,
      'pythond.toml': `
        [runner]
        executor = "process"
        listen = "127.0.0.1:0"
        [[inputs.pythond]]
        name = "slow"
        dirs = ["c"]
        [[outputs.stdout]]
      `,
    });
    const { log, stop } = startRunner(['--config', path.join(root, 'pythond.toml')]);
    await waitFor(() => /starting with/.test(log()), 'the runner to begin starting');
    const { code, signal } = await stop();
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, log());
    assert.match(log(), /SIGTERM received/);
  });

  it('refuses to start on a bad config, naming the file, line and key', async () => {
    const root = tempTree({ 'bad.toml': '[runner]\nconcurrency = -1\n' });
    const { code, stderr } = await pythond(['run', '--config', path.join(root, 'bad.toml')]);
    assert.equal(code, 1);
    assert.match(stderr, /bad\.toml:2: runner\.concurrency must be an integer from 1 to 100000, got number -1/);
  });

  it('exits 1 with the reason when its collectors cannot start, rather than staying up with only the API', async () => {
    const root = tempTree({
      'python.d/c/idle.py': `
        from datakit_framework import DataKitFramework

        class Idle(DataKitFramework):
            def run(self):
                pass
      `,
      'pythond.toml': `
        [runner]
        executor = "docker"
        listen = "127.0.0.1:0"
        [[inputs.pythond]]
        name = "idle"
        dirs = ["c"]
        [[outputs.stdout]]
      `,
    });
    const { log, exited } = startRunner(['--config', path.join(root, 'pythond.toml')], { env: { DOCKER_HOST: `unix://${path.join(root, 'no-engine.sock')}` } });
    const { code } = await exited('the runner to exit without an engine', 15_000);
    assert.equal(code, 1, log());
    assert.match(log(), /pythond: no Docker engine answers at unix:\/\/.*no-engine\.sock/);
  });

  it('runs the demo collectors with the defaults and writes their points within one interval (npm start)', async () => {
    // The repository's pythond.toml and demo collectors, in a folder of the test's own, on a free port.
    const root = tempTree();
    const repositoryConfig = readFileSync(path.join(REPO_ROOT, 'pythond.toml'), 'utf8');
    const config = repositoryConfig.replace(/^listen = "127\.0\.0\.1:9529"/m, 'listen = "127.0.0.1:0"');
    assert.notEqual(config, repositoryConfig, 'the listen line of pythond.toml was replaced');
    writeFileSync(path.join(root, 'pythond.toml'), config);
    cpSync(path.join(REPO_ROOT, 'python.d/demo'), path.join(root, 'python.d/demo'), { recursive: true });
    const file = path.join(root, 'data/points.jsonl');
    const { child, log, stop } = startRunner([], { cwd: root });
    try {
      // The demo collectors tick every 10 s; the first ticks are spread over that interval.
      await waitFor(
        () => {
          if (child.exitCode !== null) throw new Error(`pythond exited ${child.exitCode} before writing points; log:\n${log()}`);
          return lines(file).length >= 5;
        },
        `demo points in ${file}`,
        25_000,
      );
    } finally {
      await stop();
    }
    const measurements = new Set(lines(file).map((p) => p.measurement));
    for (const m of ['abc', 'def', 'mydata', 'measurement']) assert.ok(measurements.has(m), `${m} in ${[...measurements].join(', ')}`);
    assert.ok(statSync(file).size > 0);
  });
});
